import { CreateQueueCommand, GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Config } from './config';
import { SQS_DEFAULT_MAX_MESSAGE_BYTES } from './deliveryMessage';

/** An SQS client from the configuration; credentials come from the AWS SDK's default chain. */
export function createSqsClient(sqs: Config['sqs']): SQSClient {
  return new SQSClient({
    region: sqs.region,
    endpoint: sqs.endpoint,
    // ElasticMQ accepts any credentials; give the local stack some so the chain need not find any.
    credentials:
      sqs.endpoint && !process.env.AWS_ACCESS_KEY_ID ? { accessKeyId: 'local', secretAccessKey: 'local' } : undefined,
  });
}

export interface QueueUrls {
  delivery: string;
  legacyWait: string;
  deadLetter: string;
}

/** Resolves the configured queue names to URLs; a missing queue is an error naming it. */
export async function resolveQueueUrls(client: SQSClient, sqs: Config['sqs']): Promise<QueueUrls> {
  const urlOf = async (name: string) => {
    try {
      const { QueueUrl } = await client.send(new GetQueueUrlCommand({ QueueName: name }));
      if (!QueueUrl) throw new Error('no URL in the answer');
      return QueueUrl;
    } catch (error) {
      throw new Error(`SQS queue "${name}" cannot be found at ${sqs.endpoint ?? `AWS ${sqs.region}`}: ${(error as Error).message}`);
    }
  };
  return {
    delivery: await urlOf(sqs.deliveryQueue),
    legacyWait: await urlOf(sqs.legacyWaitQueue),
    deadLetter: await urlOf(sqs.deadLetterQueue),
  };
}

/**
 * A queue's MaximumMessageSize (body and attributes together; SQS allows 1 KiB–1 MiB per queue),
 * or SQS's default when the queue does not say.
 */
export async function queueMaxMessageBytes(client: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes = {} } = await client.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['MaximumMessageSize'] }));
  const bytes = Number(Attributes.MaximumMessageSize);
  return Number.isInteger(bytes) && bytes > 0 ? bytes : SQS_DEFAULT_MAX_MESSAGE_BYTES;
}

/** Creates a queue if it is missing (tests and benchmarks use throw-away queues). */
export async function ensureQueue(client: SQSClient, name: string): Promise<string> {
  const attributes: Record<string, string> = name.endsWith('.fifo') ? { FifoQueue: 'true' } : {};
  const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  return QueueUrl!;
}

/** Messages in a queue, visible or in flight (approximate, as SQS reports it). */
export async function queueDepth(client: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes = {} } = await client.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return Number(Attributes.ApproximateNumberOfMessages ?? 0) + Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0);
}
