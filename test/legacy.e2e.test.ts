/**
 * End-to-end: the legacy wait queue drained by the Temporal Schedule into notification workflows,
 * on the real dev server and ElasticMQ, with the production worker as a child process (so that it
 * can be killed with SIGKILL). Nothing is stubbed. The legacy recipients have night consent and
 * the worker runs without a quiet window (foreign bodies are held like advertising), so the result
 * does not depend on the hour the test runs at (the quiet window is covered by
 * test/legacy.workflow.test.ts on the time-skipping server).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Message } from '@aws-sdk/client-sqs';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { loadConfig } from '../src/config';
import { classifyLegacyMessage, encodeLegacyBody, type LegacyBody } from '../src/legacy/legacyMessage';
import { demoLegacyBodies, sendRawMessages } from '../src/legacy/legacySender';
import {
  ensureReconcileSchedule,
  reconcileScheduleHandle,
  RECONCILE_SCHEDULE_ID,
  SCHEDULE_TIME_ZONE,
} from '../src/schedules/reconcileSchedule';
import { ensureQueue, queueDepth } from '../src/sqs';
import { attribute, collectMessages } from './helpers/queues';
import { startE2EStack, testLegacyIds, type E2EStack } from './helpers/stack';
import { spawnWorker, workerEnvironment, type WorkerProcess } from './helpers/workerProcess';

const TOTAL = 5_000;
const TASK_QUEUE = `notifications-legacy-e2e-${process.pid}`;

/**
 * A FIFO delivery queue: a worker killed between SQS's answer and the activity's completion
 * sends again on retry, and only a FIFO queue's deduplication (by notification id) turns that
 * into exactly once. A standard queue is at-least-once there (see the README).
 */
const DELIVERY_QUEUE = 'notification-delivery-legacy-e2e.fifo';
/** FIFO too: a worker killed between dead-lettering and the delete would otherwise leave a second dead letter. */
const DEAD_LETTER_QUEUE = 'notification-dead-letter-legacy-e2e.fifo';

let stack: E2EStack;
let worker: WorkerProcess | undefined;
let deliveryUrl: string;
let deadLetterUrl: string;

before(async () => {
  stack = await startE2EStack({ env: { NOTIFY_TASK_QUEUE: TASK_QUEUE } });
  deliveryUrl = await ensureQueue(stack.sqs, DELIVERY_QUEUE);
  deadLetterUrl = await ensureQueue(stack.sqs, DEAD_LETTER_QUEUE);
});

after(async () => {
  worker?.kill('SIGKILL');
  await worker?.exited;
  await stack?.stop();
});

async function startWorker(): Promise<WorkerProcess> {
  const started = spawnWorker(workerEnvironment(stack.config, {
    NOTIFY_DELIVERY_QUEUE: DELIVERY_QUEUE,
    NOTIFY_DEAD_LETTER_QUEUE: DEAD_LETTER_QUEUE,
    NOTIFY_RECONCILE_MAX_SECONDS: '600',
    // No quiet window, so that the forwards (held like advertising) go at once whatever the hour;
    // the window is tested on the time-skipping server (legacy.workflow.test.ts).
    NOTIFY_QUIET_START: '00:00',
    NOTIFY_QUIET_END: '00:00',
    NOTIFY_ALLOW_NARROWER_QUIET_HOURS: 'true',
  }));
  worker = started;
  await started.ready;
  return started;
}

interface LegacyRun {
  bodies: string[];
  /**
   * What must be delivered, once each (the documented vocabulary, and the forwards), by content:
   * a body without an id is named `<content key>-<when SQS received it>`, and copies sent
   * together are one notification, so each content key must arrive exactly once.
   */
  validKeys: Set<string>;
  /** Foreign bodies by the content key of their forward: delivered once each, as a JSON string of the original body. */
  forwards: Map<string, string>;
  poison: Set<string>;
}

/** A demo body's content, whichever of the two encodings it is in (its numbers are small: JSON.parse keeps them). */
function decodedOnce(body: string): LegacyBody {
  const value: unknown = JSON.parse(body);
  return (typeof value === 'string' ? JSON.parse(value) : value) as LegacyBody;
}

/** The content key of a legacy body: its notification id without the part that says when it was sent. */
function contentKey(body: string): string {
  const message = classifyLegacyMessage(body, testLegacyIds());
  assert.ok(message.kind === 'foreign' || message.identity, body);
  return message.kind === 'foreign' ? message.identity.prefix : message.identity!.prefix;
}

/** The content key of a delivered message, from its notificationId attribute. */
const deliveredKey = (message: Message) => attribute(message, 'notificationId')!.replace(/-\d+$/, '');

/**
 * TOTAL legacy messages: both encodings, 1 % re-enqueued duplicates (half of them in the other
 * encoding, which must still map to the same notification), 1 % foreign bodies (a producer's own
 * JSON, or not JSON at all: forwarded as the old drain did) and 1 % poison (the documented
 * vocabulary with an invalid field).
 */
function legacyRun(runId: string): LegacyRun {
  const poisonCount = TOTAL / 100;
  const foreignCount = TOTAL / 100;
  const duplicateCount = TOTAL / 100;
  const valid = demoLegacyBodies({ count: TOTAL - poisonCount - foreignCount - duplicateCount, encoding: 'mixed', nightConsent: true, runId });
  // Re-enqueued copies: half byte-identical, half in the other encoding (same content, same id).
  const duplicates = valid
    .slice(0, duplicateCount)
    .map((body, index) =>
      index % 2 === 0 ? body : encodeLegacyBody(decodedOnce(body), { doubleEncoded: !body.startsWith('"') }),
    );
  const foreignKinds = [
    (index: number) => `not json ${runId} #${index}`,
    (index: number) => JSON.stringify(`{"truncated": ${index} ${runId}`),
    (index: number) => JSON.stringify([runId, index]),
    (index: number) => JSON.stringify({ user_id: index, message: `your parcel ${runId}` }),
    (index: number) => JSON.stringify({ channel: 'SMS', type: 'ORDER', payload: { runId, index } }),
  ];
  const foreign = Array.from({ length: foreignCount }, (_, index) => foreignKinds[index % foreignKinds.length]!(index));
  const poisonKinds = [
    (index: number) => JSON.stringify({ recipientId: `user-${index}`, channel: 'FAX', type: 'AD', payload: { runId, index } }),
    (index: number) => JSON.stringify({ recipientId: 'u', timeZone: 'KST', channel: 'PUSH', type: 'AD', payload: { runId, index } }),
    (index: number) => JSON.stringify(JSON.stringify({ recipientId: '', channel: 'SMS', type: 'ORDER', payload: { runId, index } })),
  ];
  const poison = Array.from({ length: poisonCount }, (_, index) => poisonKinds[index % poisonKinds.length]!(index));
  const forwards = new Map(foreign.map((body) => [contentKey(body), body] as const));
  // Interleave, as a real backlog would be.
  const bodies = [...valid, ...duplicates, ...foreign, ...poison].sort((a, b) => hash(a) - hash(b));
  return {
    bodies,
    validKeys: new Set([...valid.map(contentKey), ...forwards.keys()]),
    forwards,
    poison: new Set(poison),
  };
}

function hash(text: string): number {
  let value = 0;
  for (let index = 0; index < text.length; index++) value = (value * 31 + text.charCodeAt(index)) | 0;
  return value;
}

/** Polls the queue until at most `depth` messages are left in it; returns the depth it saw. */
async function waitForQueueDepthAtMost(queueUrl: string, depth: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const current = await queueDepth(stack.sqs, queueUrl);
    if (current <= depth) return current;
    if (Date.now() > deadline) throw new Error(`the queue still held ${current} messages after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Checks the outcome: each valid notification delivered exactly once, each poison message dead-lettered with a reason, nothing left behind. */
async function assertOutcome(run: LegacyRun, delivered: Message[]): Promise<void> {
  const deliveredCounts = new Map<string, number>();
  for (const message of delivered) {
    const key = deliveredKey(message);
    deliveredCounts.set(key, (deliveredCounts.get(key) ?? 0) + 1);
  }
  const twice = [...deliveredCounts].filter(([, count]) => count > 1);
  // When and how each copy was sent, so that a duplicate can be told apart (two sends, or one message received twice).
  const copies = twice.slice(0, 3).map(([key]) =>
    delivered
      .filter((message) => deliveredKey(message) === key)
      .map((message) => ({ id: attribute(message, 'notificationId'), messageId: message.MessageId, stagedAt: attribute(message, 'stagedAt'), sent: message.Attributes?.SentTimestamp })),
  );
  assert.deepEqual(twice.slice(0, 5), [], `${twice.length} notifications delivered more than once: ${JSON.stringify(copies)}`);
  const missing = [...run.validKeys].filter((key) => !deliveredCounts.has(key));
  assert.deepEqual(missing.slice(0, 5), [], `${missing.length} valid legacy notifications were never delivered`);
  assert.equal(delivered.length, run.validKeys.size);
  // Each foreign body went out as the old drain sent it: a JSON string of the original body.
  for (const message of delivered) {
    const original = run.forwards.get(deliveredKey(message));
    if (original === undefined) continue;
    assert.equal(attribute(message, 'legacyForward'), 'true');
    assert.equal(JSON.parse(message.Body!), original);
  }

  const deadLettered = await collectMessages(stack.sqs, deadLetterUrl, { expected: run.poison.size, timeoutMs: 60_000, quietMs: 3_000 });
  // Exactly once each: a Set of bodies could not show a second copy.
  assert.equal(deadLettered.length, run.poison.size, `${deadLettered.length} dead letters for ${run.poison.size} poison messages`);
  const deadBodies = new Set(deadLettered.map((message) => message.Body!));
  const notDeadLettered = [...run.poison].filter((body) => !deadBodies.has(body));
  assert.deepEqual(notDeadLettered.slice(0, 3), [], `${notDeadLettered.length} poison messages missing from the dead-letter queue`);
  const wronglyDeadLettered = [...deadBodies].filter((body) => !run.poison.has(body));
  assert.deepEqual(wronglyDeadLettered.slice(0, 3), [], `${wronglyDeadLettered.length} valid messages in the dead-letter queue`);
  for (const message of deadLettered) assert.ok((attribute(message, 'reason') ?? '').length > 0, 'a dead letter without its reason');

  assert.equal(await queueDepth(stack.sqs, stack.queueUrls.legacyWait), 0, 'the legacy wait queue is not empty');
}

describe('reconciling the legacy wait queue (dev server + ElasticMQ + worker process)', () => {
  test(`the schedule exists with its spec, and a trigger drains ${TOTAL} legacy messages`, { timeout: 600_000 }, async () => {
    await startWorker();
    // The worker created the schedule when it started; ensuring it again updates it in place.
    const settings = { taskQueue: TASK_QUEUE, cron: loadConfig({}).reconcile.cron, maxRunSeconds: 600 };
    assert.equal(await ensureReconcileSchedule(stack.env.client, settings), 'updated', 'a second ensure must update, not fail');

    const description = await reconcileScheduleHandle(stack.env.client).describe();
    assert.equal(description.scheduleId, RECONCILE_SCHEDULE_ID);
    assert.equal(description.spec.timezone, SCHEDULE_TIME_ZONE);
    assert.equal(description.policies.overlap, ScheduleOverlapPolicy.SKIP);
    assert.equal(description.action.type, 'startWorkflow');
    assert.equal(description.action.type === 'startWorkflow' && description.action.workflowType, 'reconcileLegacyQueueWorkflow');
    // Every minute: the server shows the cron as a calendar on every minute of every hour.
    const nextTimes = description.info.nextActionTimes.map((time) => time.getTime());
    assert.ok(nextTimes.length >= 2);
    assert.equal(nextTimes[1]! - nextTimes[0]!, 60_000);

    const run = legacyRun(`trigger-${Date.now().toString(36)}`);
    await sendRawMessages(stack.sqs, stack.queueUrls.legacyWait, run.bodies);
    await reconcileScheduleHandle(stack.env.client).trigger();
    const delivered = await collectMessages(stack.sqs, deliveryUrl, {
      expected: run.validKeys.size,
      timeoutMs: 420_000,
      quietMs: 5_000,
    });
    await assertOutcome(run, delivered);
  });

  test(`the same with the worker killed (SIGKILL) in the middle of the drain and restarted`, { timeout: 600_000 }, async () => {
    const run = legacyRun(`kill-${Date.now().toString(36)}`);
    await sendRawMessages(stack.sqs, stack.queueUrls.legacyWait, run.bodies);
    await reconcileScheduleHandle(stack.env.client).trigger();

    // Let it get well into the drain of the wait queue, then kill the worker the hard way.
    const depthAtKill = await waitForQueueDepthAtMost(stack.queueUrls.legacyWait, Math.floor(run.bodies.length * 0.6), 300_000);
    const killed = worker!;
    killed.kill('SIGKILL');
    await killed.exited;
    assert.ok(depthAtKill > 0, 'the drain had finished before the kill: nothing was tested');

    await startWorker();
    const delivered = await collectMessages(stack.sqs, deliveryUrl, {
      expected: run.validKeys.size,
      timeoutMs: 480_000,
      quietMs: 10_000,
    });
    await assertOutcome(run, delivered);
  });
});
