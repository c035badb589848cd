/**
 * Workers whose wall clock is off, end to end: the real dev server and ElasticMQ, and production
 * worker processes whose clock libfaketime moves 5 s ahead of the machine's and 5 s behind it
 * (their monotonic clock untouched, as after a failed time synchronisation). Nothing is stubbed.
 *
 * Each worker stages advertisements held until a release instant T (the default 900 s lead, so
 * they are sent with an SQS delay as soon as they are scheduled). The test reads the delivery
 * queue on the machine's own clock, which the Temporal server and ElasticMQ share: no message may
 * be receivable before T, all must arrive shortly after it, and the `releasedAt` each carries must
 * not claim a time before T or after the message was actually received. A worker that measured the
 * delay on its own wall clock made messages receivable up to 5 s early.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { NotificationClient } from '../src/client';
import type { NotificationInput } from '../src/notification';
import { inRehearsalZone, nextWholeMinute, rehearsalEndingAt } from '../src/policy';
import { ensureQueue } from '../src/sqs';
import { attribute, collectMessages } from './helpers/queues';
import { startE2EStack, testRecipientHashKey, type E2EStack } from './helpers/stack';
import { spawnWorker, workerEnvironment, type WorkerProcess } from './helpers/workerProcess';

const run = Date.now().toString(36);
const PER_WORKER = 20;
/** Staged messages turn receivable a batch window (100 ms) and a few ms after T; a second is generous. */
const ARRIVAL_BOUND_MS = 3_000;

let stack: E2EStack;
const workers: WorkerProcess[] = [];

before(async () => {
  stack = await startE2EStack();
});

after(async () => {
  for (const worker of workers) worker.kill('SIGKILL');
  await Promise.all(workers.map((worker) => worker.exited));
  await stack?.stop();
});

function advertisements(label: string): NotificationInput[] {
  return Array.from({ length: PER_WORKER }, (_, index) => ({
    notificationId: `clock-${label}-${run}-${index}`,
    recipient: { id: `user-${index}` },
    channel: 'push',
    category: 'advertising',
    payload: { template: 'clock', index },
  }));
}

describe('a worker whose clock is off by seconds never makes a message receivable early (dev server + ElasticMQ + faketime workers)', () => {
  test('5 s ahead and 5 s behind: nothing before T, everything within moments after it, releasedAt true', { timeout: 300_000 }, async () => {
    const cases = await Promise.all(
      [5, -5].map(async (offsetSeconds) => {
        const label = offsetSeconds > 0 ? 'ahead' : 'behind';
        const taskQueue = `clock-${label}-${run}`;
        const deliveryUrl = await ensureQueue(stack.sqs, `clock-${label}-${run}`);
        const worker = spawnWorker(workerEnvironment(stack.config, { NOTIFY_TASK_QUEUE: taskQueue, NOTIFY_DELIVERY_QUEUE: `clock-${label}-${run}` }), {
          clockOffsetSeconds: offsetSeconds,
          name: `worker-${label}`,
        });
        workers.push(worker);
        await worker.ready;
        return { label, offsetSeconds, taskQueue, deliveryUrl, worker };
      }),
    );
    const releaseAtMs = nextWholeMinute(30_000, Date.now());
    const rehearsal = rehearsalEndingAt(releaseAtMs, stack.config.policy);
    const policy = rehearsal.policy;
    for (const { label, taskQueue } of cases) {
      const client = new NotificationClient({ client: stack.env.client, taskQueue, policy, recipientHashKey: testRecipientHashKey(), prestageSeconds: 900 });
      const results = await client.scheduleMany(inRehearsalZone(advertisements(label), rehearsal));
      assert.deepEqual(results.filter((result) => !result.ok || !result.started), [], `${label}: not all were started`);
    }
    assert.ok(Date.now() < releaseAtMs - 5_000, 'scheduling ran into the release: nothing would be tested');

    const outcomes = await Promise.all(
      cases.map(async ({ label, deliveryUrl }) => {
        const receivedAt = new Map<string, number>();
        const messages = await collectMessages(stack.sqs, deliveryUrl, { expected: PER_WORKER, timeoutMs: releaseAtMs - Date.now() + 30_000, quietMs: 2_000, receivedAt });
        return { label, messages, receivedAt };
      }),
    );
    for (const { label, messages, receivedAt } of outcomes) {
      assert.equal(messages.length, PER_WORKER, `${label}: ${messages.length} of ${PER_WORKER} arrived`);
      for (const message of messages) {
        const received = receivedAt.get(message.MessageId!)!;
        const id = attribute(message, 'notificationId');
        assert.ok(received >= releaseAtMs, `${label}: ${id} was received ${releaseAtMs - received} ms before T`);
        assert.ok(received < releaseAtMs + ARRIVAL_BOUND_MS, `${label}: ${id} was received ${received - releaseAtMs} ms after T`);
        const releasedAt = Date.parse(attribute(message, 'releasedAt')!);
        assert.ok(releasedAt >= releaseAtMs, `${label}: ${id} claims releasedAt ${new Date(releasedAt).toISOString()}, before T`);
        assert.ok(releasedAt <= received, `${label}: ${id} claims releasedAt ${new Date(releasedAt).toISOString()}, after it was received`);
        assert.ok(Date.parse(attribute(message, 'stagedAt')!) < releaseAtMs, `${label}: ${id} was not staged before T`);
      }
    }
    // The operator hears of the skew, which the sends themselves ignore.
    for (const { label, offsetSeconds, worker } of cases) {
      assert.match(worker.output(), new RegExp(`this worker's clock is [0-9.]+ s ${offsetSeconds > 0 ? 'ahead of' : 'behind'} the Temporal server's`), label);
    }
  });
});
