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
import { DateTime } from 'luxon';
import { NotificationClient } from '../src/client';
import { parseEvidence } from '../src/evidence';
import type { NotificationInput } from '../src/notification';
import { inRehearsalZone, nextWholeMinute, policyFromConfig, rehearsalEndingAt, zoneWhereAfternoon } from '../src/policy';
import { NotificationEvidenceKey } from '../src/searchAttributes';
import { ensureQueue, resolveQueueUrls } from '../src/sqs';
import { attribute, collectMessages } from './helpers/queues';
import { startE2EStack, startWorker, testRecipientHashKey, type E2EStack } from './helpers/stack';
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
        // The evidence brackets the instant SQS could first hand it out: when SQS took it (its own
        // clock, which the server shares) plus the delay the worker gave it.
        const evidence = parseEvidence((await stack.env.client.workflow.getHandle(`notification-${id}`).describe()).typedSearchAttributes.get(NotificationEvidenceKey));
        const trueReceivable = Number(message.Attributes!.SentTimestamp) + (releasedAt - Date.parse(attribute(message, 'stagedAt')!));
        assert.ok(evidence?.receivableAt && evidence.receivableBy, `${label}: ${id} has no receivable interval in its evidence`);
        assert.ok(Date.parse(evidence.receivableAt) <= trueReceivable + 1 && trueReceivable <= Date.parse(evidence.receivableBy), `${label}: ${id} became receivable at ${new Date(trueReceivable).toISOString()}, outside [${evidence.receivableAt}, ${evidence.receivableBy}]`);
      }
    }
    // The operator hears of the skew, which the sends themselves ignore.
    for (const { label, offsetSeconds, worker } of cases) {
      assert.match(worker.output(), new RegExp(`this worker's clock is [0-9.]+ s ${offsetSeconds > 0 ? 'ahead of' : 'behind'} the Temporal server's`), label);
    }
  });
});

describe('a worker held busy near the deadline (dev server + ElasticMQ + a worker in this process)', () => {
  test('a send that could land after the quiet window begins is not made, and is decided again for the next morning', { timeout: 180_000 }, async () => {
    // A window that begins at D, the next whole minute, in a zone where D is the late afternoon: it
    // keeps the law's 21:00–08:00 (it is wider), and its start is the send's deadline.
    const deadlineMs = nextWholeMinute(40_000, Date.now());
    const zone = zoneWhereAfternoon(deadlineMs);
    const policy = policyFromConfig({ ...stack.config.policy, quietStart: DateTime.fromMillis(deadlineMs, { zone }).toFormat('HH:mm'), quietEnd: '08:00' });
    const taskQueue = `clock-busy-${run}`;
    await ensureQueue(stack.sqs, taskQueue);
    const config = { ...stack.config, temporal: { ...stack.config.temporal, taskQueue }, sqs: { ...stack.config.sqs, deliveryQueue: taskQueue } };
    const deliveryUrl = (await resolveQueueUrls(stack.sqs, config.sqs)).delivery;
    const worker = await startWorker(config, stack.env.nativeConnection);
    const running = worker.run();
    try {
      // Due two seconds before the window: decided (on the server's clock) with time to spare.
      const client = new NotificationClient({ client: stack.env.client, taskQueue, policy, recipientHashKey: testRecipientHashKey() });
      const id = `clock-busy-${run}`;
      await client.schedule({ notificationId: id, recipient: { id: 'user-busy', timeZone: zone }, channel: 'push', category: 'advertising', payload: {}, notBefore: new Date(deadlineMs - 2_000).toISOString() });
      // This process, and the worker in it, is busy from 2.5 s before the deadline to half a second
      // after it: the decision's task waits, and its send would only be made after the window began.
      await new Promise((resolve) => setTimeout(resolve, deadlineMs - 2_500 - Date.now()));
      const busyUntil = deadlineMs + 500;
      while (Date.now() < busyUntil) {
        // busy: a CPU-bound stretch of the worker's own thread
      }
      let status = await client.status(id);
      for (let tries = 0; status.releaseAt === new Date(deadlineMs - 2_000).toISOString() && tries < 40; tries += 1) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        status = await client.status(id);
      }
      const nextMorning = DateTime.fromMillis(deadlineMs, { zone }).plus({ days: 1 }).set({ hour: 8, minute: 0, second: 0, millisecond: 0 });
      assert.equal(status.status, 'held', JSON.stringify(status));
      assert.equal(status.releaseAt, nextMorning.toUTC().toISO(), 'decided again for the next morning');
      const messages = await collectMessages(stack.sqs, deliveryUrl, { expected: 0, timeoutMs: 3_000, quietMs: 2_000 });
      assert.deepEqual(messages.map((message) => attribute(message, 'notificationId')), [], 'nothing went out');
      await client.cancel(id);
    } finally {
      worker.shutdown();
      await running;
    }
  });
});
