/** Reading what really sits in an SQS (ElasticMQ) queue, for end-to-end assertions. */
import assert from 'node:assert/strict';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';

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
    /** Filled with the instant (this process's clock) each message was first received, by MessageId. */
    receivedAt?: Map<string, number>;
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
        // Long enough that a slow delete on a loaded machine cannot hand the same message out twice.
        VisibilityTimeout: 300,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0) continue;
    lastArrival = Date.now();
    for (const message of Messages) if (!options.receivedAt?.has(message.MessageId!)) options.receivedAt?.set(message.MessageId!, lastArrival);
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

/** Every id exactly once (by the notificationId attribute), nothing else, and nothing received before `notBeforeMs`. */
export function assertExactlyOnceNotBefore(messages: Message[], ids: string[], receivedAt: Map<string, number>, notBeforeMs: number): void {
  const early = messages.filter((message) => receivedAt.get(message.MessageId!)! < notBeforeMs);
  assert.equal(early.length, 0, `${early.length} messages were received before ${new Date(notBeforeMs).toISOString()}`);
  const counts = countBy(messages, 'notificationId');
  const expected = new Set(ids);
  const lost = ids.filter((id) => !counts.has(id));
  const duplicated = [...counts].filter(([, count]) => count > 1);
  const foreign = [...counts.keys()].filter((id) => !expected.has(id));
  assert.deepEqual(
    { lost: lost.length, duplicated: duplicated.length, foreign: foreign.length },
    { lost: 0, duplicated: 0, foreign: 0 },
    `lost e.g. ${lost.slice(0, 3).join(', ')}; duplicated e.g. ${duplicated.slice(0, 3).map(([id, count]) => `${id}×${count}`).join(', ')}; foreign e.g. ${foreign.slice(0, 3).join(', ')}`,
  );
  assert.equal(messages.length, ids.length);
}

/**
 * Every message waiting in a queue with the instant SQS received it (SentTimestamp), left in the
 * queue: each is received and made visible again at once. What a test needs to name legacy bodies
 * without an id exactly as the reconciler will.
 */
export async function peekSentTimestamps(sqs: SQSClient, queueUrl: string): Promise<Array<{ body: string; sentAtMs: number }>> {
  const seen: Message[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 120, MessageSystemAttributeNames: ['SentTimestamp'] }),
    );
    if (Messages.length === 0) break;
    seen.push(...Messages);
  }
  for (let start = 0; start < seen.length; start += 10) {
    const chunk = seen.slice(start, start + 10);
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queueUrl,
        Entries: chunk.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle, VisibilityTimeout: 0 })),
      }),
    );
  }
  return seen.map((message) => ({ body: message.Body ?? '', sentAtMs: Number(message.Attributes?.SentTimestamp) }));
}
