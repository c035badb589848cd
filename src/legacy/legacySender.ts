/**
 * Writes messages to the legacy wait queue the way the old producers did. For tests, demos and
 * benchmarks only: real producers are expected to move to NotificationClient.
 */
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { inLanes } from '../inLanes';
import { encodeLegacyBody, type LegacyBody } from './legacyMessage';

export interface DemoLegacyOptions {
  count: number;
  /** 'double' is what the old producer code did; 'mixed' alternates both. */
  encoding: 'plain' | 'double' | 'mixed';
  type?: string;
  channel?: string;
  nightConsent?: boolean;
  /** Give every message an explicit notificationId (else its id is a hash of the content). */
  withIds?: boolean;
  /** Distinguishes one batch of demo messages from another. */
  runId?: string;
  /** The recipients' zone (a rehearsal's: src/policy/releaseWindow.ts); absent, the body names none. */
  timeZone?: string;
}

/** Legacy bodies for a demo or test run, distinct by recipient and payload. */
export function demoLegacyBodies(options: DemoLegacyOptions): string[] {
  const runId = options.runId ?? Date.now().toString(36);
  return Array.from({ length: options.count }, (_, index) => {
    const body: LegacyBody = {
      ...(options.withIds ? { notificationId: `legacy-demo-${runId}-${index}` } : {}),
      recipientId: `user-${index % 997}`,
      channel: options.channel ?? 'KAKAO',
      type: options.type ?? 'AD',
      nightConsent: options.nightConsent,
      ...(options.timeZone ? { timeZone: options.timeZone } : {}),
      payload: { template: 'legacy-demo', run: runId, sequence: index },
    };
    const doubleEncoded = options.encoding === 'double' || (options.encoding === 'mixed' && index % 2 === 1);
    return encodeLegacyBody(body, { doubleEncoded });
  });
}

/** Sends raw bodies to a queue, ten to a SendMessageBatch, a few batches at a time. */
export async function sendRawMessages(
  sqs: SQSClient,
  queueUrl: string,
  bodies: readonly string[],
  options: { concurrency?: number; onProgress?: (sent: number) => void } = {},
): Promise<number> {
  const batches: string[][] = [];
  for (let start = 0; start < bodies.length; start += 10) batches.push(bodies.slice(start, start + 10));
  let sent = 0;
  await inLanes(batches, options.concurrency ?? 8, async (batch) => {
    const result = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: batch.map((body, index) => ({ Id: String(index), MessageBody: body })),
      }),
    );
    if (result.Failed?.length) {
      throw new Error(`SQS refused ${result.Failed.length} legacy messages: ${JSON.stringify(result.Failed[0])}`);
    }
    sent += batch.length;
    options.onProgress?.(sent);
  });
  return sent;
}
