/**
 * The legacy reconciler through the quiet window, on the time-skipping test server.
 *
 * Real: the test server, the worker and bundled workflows, ElasticMQ as the legacy wait queue,
 * the real drainLegacyQueue activity (receive, parse, start workflows, delete). Stubbed: only
 * deliverNotification, which records the test server's clock at the moment of the send.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { DateTime } from 'luxon';
import { createLegacyQueueActivities } from '../src/activities/legacyQueue';
import type { DeliveryRequest } from '../src/activities';
import { loadConfig } from '../src/config';
import { parseLegacyMessage } from '../src/legacy/legacyMessage';
import { demoLegacyBodies, sendRawMessages } from '../src/legacy/legacySender';
import { NotificationClient } from '../src/client';
import { DEFAULT_POLICY } from '../src/policy';
import { createSqsClient, ensureQueue, queueDepth } from '../src/sqs';
import { startElasticMq, type RunningElasticMq } from '../src/stack/elasticMq';
import { WORKFLOWS_PATH } from '../src/workers/createWorker';
import type { reconcileLegacyQueueWorkflow } from '../src/workflows/reconcileLegacyQueue';
import { startTimeSkippingEnv, testDataConverter, testRecipientHashKey } from './helpers/stack';

const KST = 'Asia/Seoul';
const TASK_QUEUE = 'legacy-overnight-test';

let env: TestWorkflowEnvironment;
let elasticMq: RunningElasticMq;
let sqs: SQSClient;
let worker: Worker;
let workerRun: Promise<void>;
let legacyWaitUrl: string;
const releases = new Map<string, DateTime[]>();

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
    deadLetterQueueUrl: await ensureQueue(sqs, 'legacy-dead-letter'),
    schedulerFor: (client) => new NotificationClient({ client, taskQueue: TASK_QUEUE, policy: DEFAULT_POLICY, recipientHashKey: testRecipientHashKey(), clock: () => env.currentTimeMs() }),
  });
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: TASK_QUEUE,
    workflowsPath: WORKFLOWS_PATH,
    dataConverter: testDataConverter(),
    activities: {
      ...legacy,
      async deliverNotification(request: DeliveryRequest) {
        // The test server's clock at the moment of the send.
        const at = DateTime.fromMillis(await env.currentTimeMs(), { zone: KST });
        const id = request.notification.notificationId;
        releases.set(id, [...(releases.get(id) ?? []), at]);
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

/** Writes legacy messages, runs one reconciliation, and waits for every notification it started. */
async function writeAndReconcile(runId: string): Promise<string[]> {
  const bodies = demoLegacyBodies({ count: 12, encoding: 'mixed', runId });
  await sendRawMessages(sqs, legacyWaitUrl, bodies);
  const result = await env.client.workflow.execute<typeof reconcileLegacyQueueWorkflow>('reconcileLegacyQueueWorkflow', {
    taskQueue: TASK_QUEUE,
    workflowId: `reconcile-${runId}`,
    args: [{ maxRunSeconds: 60 }],
  });
  assert.deepEqual(result, { received: 12, started: 12, alreadyPresent: 0, deadLettered: 0, queueEmpty: true });
  assert.equal(await queueDepth(sqs, legacyWaitUrl), 0);
  const ids = bodies.map((body) => parseLegacyMessage(body).notificationId);
  for (const id of ids) await env.client.workflow.getHandle(`notification-${id}`).result();
  return ids;
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
  });
});
