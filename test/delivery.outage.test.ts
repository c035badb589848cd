/**
 * A notification whose delivery queue is misnamed for an hour is not lost: it ends `failed`, says
 * so, and goes out once the queue is fixed and its producer (a client, or a legacy producer that
 * re-enqueues) tries again.
 *
 * Real, nothing stubbed: the time-skipping test server (the hour passes at once), the worker with
 * the production activities (delivery and legacy drain) against ElasticMQ, the client and the
 * reconciler workflow.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { DateTime } from 'luxon';
import { createActivities } from '../src/activities';
import { MorningGates } from '../src/client/morningGates';
import { NotificationClient, type NotificationClientSettings } from '../src/client';
import { loadConfig } from '../src/config';
import { encodeLegacyBody, parseLegacyMessage } from '../src/legacy/legacyMessage';
import { sendRawMessages } from '../src/legacy/legacySender';
import { DEFAULT_POLICY } from '../src/policy';
import { NotificationStatusKey } from '../src/searchAttributes';
import { createSqsClient, ensureQueue } from '../src/sqs';
import { startElasticMq, type RunningElasticMq } from '../src/stack/elasticMq';
// The production bundle options: the policy, luxon and zod shared between workflows, as in a worker.
import { workflowCodeOptions } from '../src/workers/workflowCode';
import type { reconcileLegacyQueueWorkflow } from '../src/workflows/reconcileLegacyQueue';
import { attribute, collectMessages } from './helpers/queues';
import { startTimeSkippingEnv, testDataConverter, testLegacyIds, testRecipientHashKey } from './helpers/stack';

const TASK_QUEUE = 'delivery-outage-test';
let env: TestWorkflowEnvironment;
let elasticMq: RunningElasticMq;
let sqs: SQSClient;
let queues: { delivery: string; wait: string; deadLetter: string };

before(async () => {
  [env, elasticMq] = await Promise.all([startTimeSkippingEnv(), startElasticMq({ queues: ['outage-delivery', 'outage-wait', 'outage-dead-letter'] })]);
  sqs = createSqsClient({ ...loadConfig({}).sqs, endpoint: elasticMq.endpoint });
  queues = {
    delivery: await ensureQueue(sqs, 'outage-delivery'),
    wait: await ensureQueue(sqs, 'outage-wait'),
    deadLetter: await ensureQueue(sqs, 'outage-dead-letter'),
  };
});

after(async () => {
  await env?.teardown();
  sqs?.destroy();
  await elasticMq?.stop();
});

const settings = (): NotificationClientSettings => ({ taskQueue: TASK_QUEUE, policy: DEFAULT_POLICY, recipientHashKey: testRecipientHashKey(), clock: () => env.currentTimeMs() });

/** The production worker, its delivery queue URL as given. */
function workerFor(deliveryQueueUrl: string): Promise<Worker> {
  return Worker.create({
    connection: env.nativeConnection,
    taskQueue: TASK_QUEUE,
    ...workflowCodeOptions(),
    dataConverter: testDataConverter(),
    activities: createActivities({
      sqs,
      deliveryQueueUrl,
      maxMessageBytes: 256 * 1024,
      legacyWaitQueueUrl: queues.wait,
      deadLetterQueueUrl: queues.deadLetter,
      schedulerFor: (client) => new NotificationClient({ client, ...settings() }),
      contentIdKey: testRecipientHashKey(),
      dedupWindowMs: testLegacyIds().dedupWindowMs,
      morningGatesFor: (client) => new MorningGates(client, TASK_QUEUE),
    }),
  });
}

async function reconcileOnce(runId: string) {
  return env.client.workflow.execute<typeof reconcileLegacyQueueWorkflow>('reconcileLegacyQueueWorkflow', {
    taskQueue: TASK_QUEUE,
    workflowId: `reconcile-outage-${runId}`,
    args: [{ maxRunSeconds: 60 }],
  });
}

describe('a delivery queue misnamed for an hour (time-skipping + ElasticMQ, nothing stubbed)', () => {
  test('each notification ends failed and visible as such; once the queue is fixed, producers retry and each goes out once', { timeout: 180_000 }, async () => {
    const now = DateTime.fromMillis(await env.currentTimeMs(), { zone: 'Asia/Seoul' });
    const noon = now.set({ hour: 12, minute: 0, second: 0, millisecond: 0 }).plus({ days: 1 });
    await env.sleep(noon.toMillis() - now.toMillis());
    const client = new NotificationClient({ client: env.client, ...settings() });
    const input = { notificationId: 'outage-order-1', recipient: { id: 'user-7' }, channel: 'sms' as const, category: 'order' as const, payload: { order: 1 } };
    const legacyBody = encodeLegacyBody({ notificationId: 'outage-legacy-1', recipientId: 'user-8', channel: 'KAKAO', type: 'DELIVERY', payload: { parcel: 2 } }, { doubleEncoded: true });
    const legacyId = parseLegacyMessage(legacyBody, testLegacyIds()).notificationId;

    const misnamed = await workerFor(`${queues.delivery}-typo`);
    await misnamed.runUntil(async () => {
      const { handle } = await client.schedule(input);
      await assert.rejects(handle.result(), (error: unknown) => {
        assert.ok(error instanceof WorkflowFailedError);
        assert.equal((error.cause as ApplicationFailure).type, 'DeliveryFailed');
        assert.equal(((error.cause as ApplicationFailure).cause as ApplicationFailure).type, 'QueueDoesNotExist');
        return true;
      });
      await sendRawMessages(sqs, queues.wait, [legacyBody]);
      assert.deepEqual(await reconcileOnce('first'), { received: 1, started: 1, forwarded: 0, alreadyPresent: 0, deadLettered: 0, queueEmpty: true });
      await assert.rejects(client.result(legacyId), WorkflowFailedError);
      for (const id of [input.notificationId, legacyId]) {
        const status = await client.status(id);
        assert.equal(status.status, 'failed', id);
        assert.match(status.failure ?? '', /does not exist/);
        assert.equal((await client.handle(id).describe()).typedSearchAttributes.get(NotificationStatusKey), 'failed');
      }
    });

    await env.sleep(3_600_000);

    const fixed = await workerFor(queues.delivery);
    await fixed.runUntil(async () => {
      // The producer retries: a failed notification may be scheduled again.
      const retried = await client.schedule(input);
      assert.equal(retried.started, true);
      assert.equal((await retried.handle.result()).status, 'delivered');
      // The legacy producer re-enqueues: the reconciler starts it again instead of calling it "already present".
      await sendRawMessages(sqs, queues.wait, [legacyBody]);
      assert.deepEqual(await reconcileOnce('second'), { received: 1, started: 1, forwarded: 0, alreadyPresent: 0, deadLettered: 0, queueEmpty: true });
      assert.equal((await client.result(legacyId)).status, 'delivered');
      // Delivered ones stay delivered: a third schedule starts nothing.
      assert.equal((await client.schedule(input)).started, false);
    });

    const delivered = await collectMessages(sqs, queues.delivery, { expected: 2, quietMs: 1_500 });
    assert.deepEqual(delivered.map((message) => attribute(message, 'notificationId')).sort(), [input.notificationId, legacyId].sort());
  });

  test('a queue missing for five minutes (a redeploy) is retried, shown as retrying, and delivered once it is back', { timeout: 180_000 }, async () => {
    const name = `outage-redeploy-${Date.now().toString(36)}`;
    const url = queues.delivery.replace(/outage-delivery$/, name);
    const client = new NotificationClient({ client: env.client, ...settings() });
    const input = { notificationId: `${name}-order`, recipient: { id: 'user-9' }, channel: 'sms' as const, category: 'order' as const, payload: { order: 9 } };
    const redeploying = await workerFor(url);
    await redeploying.runUntil(async () => {
      const { handle } = await client.schedule(input);
      await env.sleep(300_000);
      const status = await client.status(input.notificationId);
      assert.equal(status.status, 'retrying');
      assert.match(status.lastError ?? '', /does not exist/);
      assert.equal(await ensureQueue(sqs, name), url, 'the queue is back under the same URL');
      await env.sleep(120_000);
      assert.equal((await handle.result()).status, 'delivered');
    });
    const delivered = await collectMessages(sqs, url, { expected: 1, quietMs: 1_500 });
    assert.deepEqual(delivered.map((message) => attribute(message, 'notificationId')), [input.notificationId]);
  });
});
