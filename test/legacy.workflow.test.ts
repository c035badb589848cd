/**
 * The legacy reconciler through the quiet window, on the time-skipping test server.
 *
 * Real: the test server, the worker and bundled workflows, ElasticMQ as the legacy wait queue,
 * the real drainLegacyQueue activity (receive, parse, start workflows, forward foreign bodies,
 * dead-letter, delete). Stubbed: only deliverNotification, which records the test server's clock
 * and what it was asked to send.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { DateTime } from 'luxon';
import { createLegacyQueueActivities } from '../src/activities/legacyQueue';
import type { DeliveryRequest } from '../src/activities';
import { loadConfig } from '../src/config';
import { deliveryMessageBody } from '../src/deliveryMessage';
import { classifyLegacyMessage, contentIdInBucket, parseLegacyMessage } from '../src/legacy/legacyMessage';
import { demoLegacyBodies, sendRawMessages } from '../src/legacy/legacySender';
import { NotificationClient } from '../src/client';
import { DEFAULT_POLICY } from '../src/policy';
import { createSqsClient, ensureQueue, queueDepth } from '../src/sqs';
import { startElasticMq, type RunningElasticMq } from '../src/stack/elasticMq';
// The production bundle options: the policy, luxon and zod shared between workflows, as in a worker.
import { workflowCodeOptions } from '../src/workers/workflowCode';
import type { reconcileLegacyQueueWorkflow } from '../src/workflows/reconcileLegacyQueue';
import { attribute, collectMessages, peekSentTimestamps } from './helpers/queues';
import { startTimeSkippingEnv, testDataConverter, testLegacyIds, testRecipientHashKey } from './helpers/stack';

const KST = 'Asia/Seoul';
const TASK_QUEUE = 'legacy-overnight-test';

let env: TestWorkflowEnvironment;
let elasticMq: RunningElasticMq;
let sqs: SQSClient;
let worker: Worker;
let workerRun: Promise<void>;
let legacyWaitUrl: string;
let deadLetterUrl: string;
const releases = new Map<string, DateTime[]>();
/** The original body of each legacy forward by its id, and what the workflow asked the send to deliver. */
const forwardedBodies = new Map<string, string>();
const sentForwards = new Map<string, DeliveryRequest['notification']>();

before(async () => {
  [env, elasticMq] = await Promise.all([
    startTimeSkippingEnv(),
    startElasticMq({ queues: ['legacy-wait', 'legacy-dead-letter'] }),
  ]);
  sqs = createSqsClient({ ...loadConfig({}).sqs, endpoint: elasticMq.endpoint });
  legacyWaitUrl = await ensureQueue(sqs, 'legacy-wait');
  const legacy = createLegacyQueueActivities({
    sqs,
    legacyWaitQueueUrl: legacyWaitUrl,
    deadLetterQueueUrl: (deadLetterUrl = await ensureQueue(sqs, 'legacy-dead-letter')),
    schedulerFor: (client) => new NotificationClient({ client, taskQueue: TASK_QUEUE, policy: DEFAULT_POLICY, recipientHashKey: testRecipientHashKey(), clock: () => env.currentTimeMs() }),
    contentIdKey: testRecipientHashKey(),
    dedupWindowMs: testLegacyIds().dedupWindowMs,
  });
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: TASK_QUEUE,
    ...workflowCodeOptions(),
    dataConverter: testDataConverter(),
    activities: {
      ...legacy,
      async deliverNotification(request: DeliveryRequest) {
        // The test server's clock at the moment of the send.
        const at = DateTime.fromMillis(await env.currentTimeMs(), { zone: KST });
        const id = request.notification.notificationId;
        releases.set(id, [...(releases.get(id) ?? []), at]);
        sentForwards.set(id, request.notification);
        return { messageId: `fake-${id}`, stagedAt: at.toUTC().toISO()!, releasedAt: at.toUTC().toISO()! };
      },
    },
  });
  workerRun = worker.run();
});

after(async () => {
  worker?.shutdown();
  await workerRun;
  await env?.teardown();
  sqs?.destroy();
  await elasticMq?.stop();
});

async function advanceToNextKst(hour: number): Promise<DateTime> {
  const now = DateTime.fromMillis(await env.currentTimeMs(), { zone: KST });
  let target = now.set({ hour, minute: 0, second: 0, millisecond: 0 });
  if (target.toMillis() <= now.toMillis() + 60_000) target = target.plus({ days: 1 });
  await env.sleep(target.toMillis() - now.toMillis());
  return target;
}

/** Bodies outside the documented vocabulary, as a producer of its own might write them. */
function foreignBodies(runId: string): string[] {
  return [
    JSON.stringify({ user_id: 42, message: `parcel arriving ${runId}` }),
    `plain text reminder ${runId}`,
    JSON.stringify(JSON.stringify({ user_id: 43, message: `double encoded ${runId}` })),
  ];
}

/**
 * Writes 12 legacy messages in the documented vocabulary and 3 foreign ones, runs one
 * reconciliation, and waits for every notification it started; returns their ids.
 */
async function writeAndReconcile(runId: string): Promise<string[]> {
  const bodies = demoLegacyBodies({ count: 12, encoding: 'mixed', runId });
  const foreign = foreignBodies(runId);
  await sendRawMessages(sqs, legacyWaitUrl, [...bodies, ...foreign]);
  // Named as the reconciler will name them: by content and by when SQS received them.
  const sentAt = new Map((await peekSentTimestamps(sqs, legacyWaitUrl)).map(({ body, sentAtMs }) => [body, sentAtMs]));
  const classify = (body: string) => classifyLegacyMessage(body, testLegacyIds(sentAt.get(body)));
  const result = await env.client.workflow.execute<typeof reconcileLegacyQueueWorkflow>('reconcileLegacyQueueWorkflow', {
    taskQueue: TASK_QUEUE,
    workflowId: `reconcile-${runId}`,
    args: [{ maxRunSeconds: 60 }],
  });
  assert.deepEqual(result, { received: 15, started: 12, forwarded: 3, alreadyPresent: 0, deadLettered: 0, queueEmpty: true });
  assert.equal(await queueDepth(sqs, legacyWaitUrl), 0);
  const forwardIds = foreign.map((body) => {
    const message = classify(body);
    assert.ok(message.kind === 'foreign');
    return message.forward.notificationId;
  });
  forwardIds.forEach((id, index) => forwardedBodies.set(id, foreign[index]!));
  const ids = [...bodies.map((body) => parseLegacyMessage(body, testLegacyIds(sentAt.get(body))).notificationId), ...forwardIds];
  for (const id of ids) await env.client.workflow.getHandle(`notification-${id}`).result();
  return ids;
}

/** Each forward was sent as a legacy forward carrying its original body. */
function assertForwardsKeptTheirBodies(ids: string[]): void {
  for (const id of ids.filter((each) => forwardedBodies.has(each))) {
    assert.deepEqual(sentForwards.get(id), { kind: 'legacy-forward', notificationId: id, body: forwardedBodies.get(id) });
  }
}

describe('legacy messages through the quiet window (time-skipping + ElasticMQ)', () => {
  test('written at 23:00, they are delivered at 08:00, not before', async () => {
    const writtenAt = await advanceToNextKst(23);
    const ids = await writeAndReconcile(`night-${writtenAt.toMillis()}`);
    const eight = writtenAt.plus({ days: 1 }).set({ hour: 8 });
    for (const id of ids) {
      const at = releases.get(id) ?? [];
      assert.equal(at.length, 1, `${id} delivered ${at.length} times`);
      const deltaMs = at[0]!.toMillis() - eight.toMillis();
      assert.ok(deltaMs >= 0 && deltaMs < 5_000, `${id} released at ${at[0]!.toISO()}, expected 08:00`);
    }
    assertForwardsKeptTheirBodies(ids);
  });

  test('written at 10:00, they are delivered at once', async () => {
    const writtenAt = await advanceToNextKst(10);
    const ids = await writeAndReconcile(`day-${writtenAt.toMillis()}`);
    for (const id of ids) {
      const at = releases.get(id) ?? [];
      assert.equal(at.length, 1, `${id} delivered ${at.length} times`);
      const deltaMs = at[0]!.toMillis() - writtenAt.toMillis();
      assert.ok(deltaMs >= 0 && deltaMs < 30_000, `${id} released at ${at[0]!.toISO()}, expected at once after 10:00`);
    }
    assertForwardsKeptTheirBodies(ids);
  });

  test('a foreign body too large for the delivery queue once encoded is dead-lettered with its reason, and nothing starts', async () => {
    await advanceToNextKst(11);
    const huge = `${'x'.repeat(256 * 1024 - 100)} ${Date.now()}`;
    await sendRawMessages(sqs, legacyWaitUrl, [huge]);
    const result = await env.client.workflow.execute<typeof reconcileLegacyQueueWorkflow>('reconcileLegacyQueueWorkflow', {
      taskQueue: TASK_QUEUE,
      workflowId: `reconcile-huge-${Date.now()}`,
      args: [{ maxRunSeconds: 60 }],
    });
    assert.deepEqual(result, { received: 1, started: 0, forwarded: 0, alreadyPresent: 0, deadLettered: 1, queueEmpty: true });
    const [deadLetter, ...others] = await collectMessages(sqs, deadLetterUrl, { expected: 1, quietMs: 1_000 });
    assert.equal(others.length, 0);
    assert.equal(deadLetter!.Body, huge);
    assert.match(attribute(deadLetter!, 'reason') ?? '', /bytes/);
    // Whichever window-long stretch it was received in, no workflow exists for it.
    const forward = classifyLegacyMessage(huge, testLegacyIds());
    assert.ok(forward.kind === 'foreign');
    for (const bucket of [forward.identity.bucket - 1, forward.identity.bucket]) {
      await assert.rejects(env.client.workflow.getHandle(`notification-${contentIdInBucket(forward.identity, bucket)}`).describe(), /not found/i);
    }
  });
});

describe('legacy bodies are kept exact and apart (time-skipping + ElasticMQ, the real drain)', () => {
  test('numbers keep their digits, copies within the window are one, a later copy is another, and ids are keyed', { timeout: 120_000 }, async () => {
    await advanceToNextKst(12);
    const taskQueue = 'legacy-exact-test';
    const waitUrl = await ensureQueue(sqs, 'legacy-exact-wait');
    const windowMs = 3_000;
    const sent: DeliveryRequest['notification'][] = [];
    const exactWorker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      ...workflowCodeOptions(),
      dataConverter: testDataConverter(),
      activities: {
        ...createLegacyQueueActivities({
          sqs,
          legacyWaitQueueUrl: waitUrl,
          deadLetterQueueUrl: deadLetterUrl,
          schedulerFor: (client) => new NotificationClient({ client, taskQueue, policy: DEFAULT_POLICY, recipientHashKey: testRecipientHashKey(), clock: () => env.currentTimeMs() }),
          contentIdKey: testRecipientHashKey(),
          dedupWindowMs: windowMs,
        }),
        async deliverNotification(request: DeliveryRequest) {
          sent.push(request.notification);
          return { messageId: `fake-${sent.length}`, stagedAt: new Date().toISOString(), releasedAt: new Date().toISOString() };
        },
      },
    });
    const runId = Date.now().toString(36);
    // Two bodies that JSON.parse would make one (…789 and …790 round to the same double).
    const body = (orderId: string) => `{"recipientId":"user-exact","channel":"SMS","type":"ORDER","payload":{"orderId":${orderId},"run":"${runId}"}}`;
    const [first, second] = [body('1234567890123456789'), body('1234567890123456790')];
    const reconcile = (label: string) =>
      env.client.workflow.execute<typeof reconcileLegacyQueueWorkflow>('reconcileLegacyQueueWorkflow', { taskQueue, workflowId: `reconcile-exact-${runId}-${label}`, args: [{ maxRunSeconds: 60 }] });

    await exactWorker.runUntil(async () => {
      // The first body, the same body again a second later (a producer's retry), and the second body.
      await sendRawMessages(sqs, waitUrl, [first]);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      await sendRawMessages(sqs, waitUrl, [first, second]);
      assert.deepEqual(await reconcile('within'), { received: 3, started: 2, forwarded: 0, alreadyPresent: 1, deadLettered: 0, queueEmpty: true });
      // The same body once the window has passed: a reminder, a new notification.
      await new Promise((resolve) => setTimeout(resolve, windowMs + 1_000));
      await sendRawMessages(sqs, waitUrl, [first]);
      assert.deepEqual(await reconcile('after'), { received: 1, started: 1, forwarded: 0, alreadyPresent: 0, deadLettered: 0, queueEmpty: true });
      while (sent.length < 3) await new Promise((resolve) => setTimeout(resolve, 100));
    });

    const bodies = sent.map((notification) => deliveryMessageBody(notification));
    assert.equal(bodies.filter((text) => text.includes('"orderId":1234567890123456789,')).length, 2, bodies.join('\n'));
    assert.equal(bodies.filter((text) => text.includes('"orderId":1234567890123456790,')).length, 1, bodies.join('\n'));
    // Workflow ids are in plain sight in the Web UI and every history: a keyed hash, no plain SHA-256 of the content.
    for (const notification of sent) {
      assert.match(notification.notificationId, /^legacy-[0-9a-f]{32}-\d+$/);
      for (const text of [first, second]) {
        assert.ok(!notification.notificationId.includes(createHash('sha256').update(text).digest('hex').slice(0, 32)), notification.notificationId);
      }
    }
  });
});
