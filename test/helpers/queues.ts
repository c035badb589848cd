/** Reading what really sits in an SQS (ElasticMQ) queue, for end-to-end assertions. */
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';

/**
 * Receives (and deletes) messages until `expected` have arrived and then `quietMs` passes with
 * nothing new (so that a duplicate arriving late is still caught), or until `timeoutMs`.
 */
export async function collectMessages(
  sqs: SQSClient,
  queueUrl: string,
  options: {
    expected: number;
    timeoutMs?: number;
    quietMs?: number;
    onProgress?: (count: number) => void;
    /** Each batch as it arrives, with the time it was received (to check that nothing came before a release). */
    onReceive?: (messages: Message[], receivedAtMs: number) => void;
  },
): Promise<Message[]> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  const quietMs = options.quietMs ?? 1_500;
  const collected: Message[] = [];
  let lastArrival = Date.now();
  while (Date.now() < deadline) {
    if (collected.length >= options.expected && Date.now() - lastArrival >= quietMs) break;
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0) continue;
    lastArrival = Date.now();
    options.onReceive?.(Messages, lastArrival);
    collected.push(...Messages);
    options.onProgress?.(collected.length);
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: Messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle })),
      }),
    );
  }
  return collected;
}

export function attribute(message: Message, name: string): string | undefined {
  return message.MessageAttributes?.[name]?.StringValue;
}

/** How many times each value of an attribute occurs. */
export function countBy(messages: Message[], name: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const message of messages) {
    const value = attribute(message, name) ?? '(missing)';
    counts.set(value, (counts.get(value) ?? 0) + 1);
  }
  return counts;
}
