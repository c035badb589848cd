/**
 * One attempt of the legacy drain when part of it fails: what is deleted, what is counted, and
 * that the attempt stops working once it has failed.
 *
 * Real: ElasticMQ (the wait and dead-letter queues), the drainLegacyQueue activity (run with the
 * SDK's MockActivityEnvironment). Stubbed: the scheduler that would start notification workflows,
 * which fails for chosen messages the way a Temporal start does under load (ResourceExhausted), and,
 * in one test, SQS's answer to one delete. The workflow side is covered by legacy.workflow and
 * legacy.e2e.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { Client, Connection } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createLegacyQueueActivities, type NotificationScheduler } from '../src/activities/legacyQueue';
import { loadConfig } from '../src/config';
import { encodeLegacyBody } from '../src/legacy/legacyMessage';
import { sendRawMessages } from '../src/legacy/legacySender';
import type { LegacyForward, Notification } from '../src/notification';
import { createSqsClient, ensureQueue, queueDepth } from '../src/sqs';
import { startElasticMq, type RunningElasticMq } from '../src/stack/elasticMq';
import { collectMessages } from './helpers/queues';

let elasticMq: RunningElasticMq;
let sqs: SQSClient;
let serial = 0;

before(async () => {
  elasticMq = await startElasticMq({ queues: ['unused'] });
  sqs = createSqsClient({ ...loadConfig({}).sqs, endpoint: elasticMq.endpoint });
});

after(async () => {
  sqs?.destroy();
  await elasticMq?.stop();
});

/** A valid legacy body whose notification id says what the stub scheduler does with it. */
const valid = (id: string) => encodeLegacyBody({ notificationId: id, recipientId: 'user-1', channel: 'SMS', type: 'ORDER', payload: {} }, { doubleEncoded: false });
/** The documented vocabulary with a field no notification can have: dead-lettered, not forwarded. */
const poison = (index: number) => JSON.stringify({ recipientId: `user-${index}`, channel: 'FAX', type: 'AD', payload: { index } });

/** Like a Temporal start under load: resolves for most, rejects for ids containing "overloaded". */
class StubScheduler implements NotificationScheduler {
  readonly calls: string[] = [];
  async scheduleFromLegacy(notification: Notification): Promise<{ started: boolean }> {
    this.calls.push(notification.notificationId);
    await new Promise((resolve) => setTimeout(resolve, 20));
    if (notification.notificationId.includes('overloaded')) {
      throw Object.assign(new Error('namespace rate limit exceeded'), { name: 'ResourceExhausted' });
    }
    return { started: true };
  }
  async scheduleLegacyForward(forward: LegacyForward): Promise<{ started: boolean }> {
    this.calls.push(forward.notificationId);
    return { started: true };
  }
  async legacySentAt(): Promise<Map<string, number>> {
    return new Map();
  }
}

/** How the drain names bodies without an id (none of these tests depends on it). */
const legacyIds = { contentIdKey: Buffer.from('drain test key of at least 32 bytes'), dedupWindowMs: 300_000 };

/** The stub scheduler ignores the Temporal client the activity hands it; the SDK requires one (never connected). */
const unusedClient = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) });
const activityEnvironment = () => new MockActivityEnvironment(undefined, { client: unusedClient });

async function queues() {
  serial += 1;
  return {
    wait: await ensureQueue(sqs, `drain-wait-${serial}`),
    deadLetter: await ensureQueue(sqs, `drain-dead-letter-${serial}`),
  };
}

describe('a drain attempt that partly fails (ElasticMQ, scheduler stubbed)', () => {
  test('one rejected start: the rest of its batch is deleted once, poison dead-lettered once, every loop stops, the attempt fails', async () => {
    const { wait, deadLetter } = await queues();
    // One loop, one batch of ten: 6 valid, 3 poison, 1 that the scheduler rejects. Then 30 more
    // that a failed attempt must leave alone.
    const firstBatch = [valid('ok-1'), poison(1), valid('ok-2'), valid('overloaded-1'), valid('ok-3'), poison(2), valid('ok-4'), valid('ok-5'), poison(3), valid('ok-6')];
    await sendRawMessages(sqs, wait, firstBatch);
    const scheduler = new StubScheduler();
    const { drainLegacyQueue } = createLegacyQueueActivities({ sqs, legacyWaitQueueUrl: wait, deadLetterQueueUrl: deadLetter, schedulerFor: () => scheduler, ...legacyIds });
    // The rest arrives once the first batch is out, so that the single loop's first receive takes exactly those ten.
    const rest = Array.from({ length: 30 }, (_, index) => valid(`later-${index}`));
    const attempt = activityEnvironment().run(drainLegacyQueue, { maxSeconds: 20, maxMessages: 1_000, concurrency: 1, waitTimeSeconds: 1 });
    const restSent = (async () => {
      while (scheduler.calls.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      await sendRawMessages(sqs, wait, rest);
    })();
    await assert.rejects(attempt, /rate limit/);
    await restSent;
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    // Nothing after the failure: no receive loop went on starting workflows.
    assert.deepEqual(scheduler.calls.sort(), ['ok-1', 'ok-2', 'ok-3', 'ok-4', 'ok-5', 'ok-6', 'overloaded-1'].sort());
    // The three poison messages of the batch are dead-lettered exactly once.
    const deadLetters = await collectMessages(sqs, deadLetter, { expected: 3, quietMs: 1_000, timeoutMs: 10_000 });
    assert.deepEqual(deadLetters.map((message) => message.Body).sort(), [poison(1), poison(2), poison(3)].sort());
    // Left in the wait queue: the rejected one (invisible until its timeout) and the 30 untouched.
    assert.equal(await queueDepth(sqs, wait), 31);
  });

  test('with four loops, a failure in one stops the others', async () => {
    const { wait, deadLetter } = await queues();
    const bodies = Array.from({ length: 400 }, (_, index) => valid(index === 5 ? 'overloaded-early' : `many-${index}`));
    await sendRawMessages(sqs, wait, bodies);
    const scheduler = new StubScheduler();
    const { drainLegacyQueue } = createLegacyQueueActivities({ sqs, legacyWaitQueueUrl: wait, deadLetterQueueUrl: deadLetter, schedulerFor: () => scheduler, ...legacyIds });
    await assert.rejects(activityEnvironment().run(drainLegacyQueue, { maxSeconds: 30, maxMessages: 10_000, concurrency: 4, waitTimeSeconds: 0 }), /rate limit/);
    const callsAtFailure = scheduler.calls.length;
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    assert.equal(scheduler.calls.length, callsAtFailure, 'receive loops went on after the attempt failed');
    // Everything started was deleted but the rejected one (in flight until its visibility timeout);
    // the rest of the queue was left alone.
    assert.ok(callsAtFailure < 400, 'the whole queue was drained before the failure: nothing was tested');
    assert.equal(await queueDepth(sqs, wait), 400 - (callsAtFailure - 1));
  });

  test('a message whose delete fails is not counted: it comes back and is found to exist', async () => {
    const { wait, deadLetter } = await queues();
    await sendRawMessages(sqs, wait, [valid('kept-1'), valid('kept-2'), valid('undeleted')]);
    // SQS answers one delete as failed (its receipt expired, say): it really stays in the queue.
    const flaky = createSqsClient({ ...loadConfig({}).sqs, endpoint: elasticMq.endpoint });
    flaky.middlewareStack.add(
      (next) => async (args) => {
        const input = (args as { input: { Entries?: { Id: string; ReceiptHandle: string }[] } }).input;
        if (!input.Entries) return next(args);
        const undeleted = input.Entries.find((entry) => entry.Id === '2');
        const result = await next({ ...args, input: { ...input, Entries: input.Entries.filter((entry) => entry !== undeleted) } } as typeof args);
        const output = result.output as { Failed?: unknown[] };
        if (undeleted) output.Failed = [{ Id: undeleted.Id, Code: 'ReceiptHandleIsInvalid', SenderFault: true, Message: 'expired' }];
        return result;
      },
      { step: 'initialize', name: 'failOneDelete' },
    );
    const scheduler = new StubScheduler();
    const { drainLegacyQueue } = createLegacyQueueActivities({ sqs: flaky, legacyWaitQueueUrl: wait, deadLetterQueueUrl: deadLetter, schedulerFor: () => scheduler, ...legacyIds });
    const counts = await activityEnvironment().run(drainLegacyQueue, { maxSeconds: 10, maxMessages: 10, concurrency: 1, waitTimeSeconds: 0 });
    flaky.destroy();
    assert.deepEqual(counts, { received: 3, started: 2, forwarded: 0, alreadyPresent: 0, deadLettered: 0, queueEmpty: true });
    assert.equal(await queueDepth(sqs, wait), 1);
  });

  test('a foreign body is forwarded by default, and dead-lettered with its reason under NOTIFY_LEGACY_FOREIGN=dead-letter', async () => {
    const foreign = JSON.stringify({ user_id: 42, message: 'hello' });
    for (const foreignBodies of ['forward', 'dead-letter'] as const) {
      const { wait, deadLetter } = await queues();
      await sendRawMessages(sqs, wait, [foreign, valid(`vocabulary-${foreignBodies}`)]);
      const scheduler = new StubScheduler();
      const { drainLegacyQueue } = createLegacyQueueActivities({ sqs, legacyWaitQueueUrl: wait, deadLetterQueueUrl: deadLetter, schedulerFor: () => scheduler, ...legacyIds, foreignBodies });
      const counts = await activityEnvironment().run(drainLegacyQueue, { maxSeconds: 10, maxMessages: 10, concurrency: 1, waitTimeSeconds: 0 });
      const deadLetters = await collectMessages(sqs, deadLetter, { expected: foreignBodies === 'forward' ? 0 : 1, quietMs: 500, timeoutMs: 5_000 });
      if (foreignBodies === 'forward') {
        assert.deepEqual(counts, { received: 2, started: 1, forwarded: 1, alreadyPresent: 0, deadLettered: 0, queueEmpty: true });
        assert.equal(deadLetters.length, 0);
      } else {
        assert.deepEqual(counts, { received: 2, started: 1, forwarded: 0, alreadyPresent: 0, deadLettered: 1, queueEmpty: true });
        assert.deepEqual(deadLetters.map((message) => message.Body), [foreign]);
        assert.match(deadLetters[0]!.MessageAttributes?.reason?.StringValue ?? '', /NOTIFY_LEGACY_FOREIGN=dead-letter/);
      }
      assert.equal(await queueDepth(sqs, wait), 0);
    }
  });
});
