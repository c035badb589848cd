/**
 * End-to-end: the real Temporal dev server, the real worker with the real activities, and
 * ElasticMQ as SQS. Nothing is stubbed. Independent of the wall clock: the recipients here have
 * night-time consent, so the quiet window (covered by the time-skipping tests) does not apply.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ActivityFailure, ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { createDeliveryActivities } from '../src/activities/delivery';
import { NotificationClient } from '../src/client';
import { parseNotification, type NotificationInput } from '../src/notification';
import { DEFAULT_POLICY } from '../src/policy';
import { ensureQueue } from '../src/sqs';
import { createNotificationWorker } from '../src/workers/createWorker';
import { attribute, collectMessages, countBy } from './helpers/queues';
import { startE2EStack, testDataConverter, type E2EStack } from './helpers/stack';

let stack: E2EStack;
let worker: Worker;
let workerRun: Promise<void>;
let client: NotificationClient;
const TASK_QUEUE = `notifications-e2e-${process.pid}`;
const run = Date.now().toString(36);

function notification(id: string, overrides: Partial<NotificationInput> = {}): NotificationInput {
  return {
    notificationId: `e2e-${run}-${id}`,
    recipient: { id: `user-${id}`, nightConsent: true },
    channel: 'push',
    category: 'advertising',
    payload: { title: 'Winter sale', body: '30% off tonight' },
    ...overrides,
  };
}

before(async () => {
  stack = await startE2EStack();
  worker = await createNotificationWorker({
    connection: stack.env.nativeConnection,
    namespace: stack.env.namespace ?? 'default',
    taskQueue: TASK_QUEUE,
    dataConverter: testDataConverter(),
    deps: {
      sqs: stack.sqs,
      deliveryQueueUrl: stack.queueUrls.delivery,
      legacyWaitQueueUrl: stack.queueUrls.legacyWait,
      deadLetterQueueUrl: stack.queueUrls.deadLetter,
      notifications: { taskQueue: TASK_QUEUE, policy: DEFAULT_POLICY },
    },
  });
  workerRun = worker.run();
  client = new NotificationClient({ client: stack.env.client, taskQueue: TASK_QUEUE, policy: DEFAULT_POLICY });
  // Start from an empty delivery queue so that counts below are this file's own.
  await collectMessages(stack.sqs, stack.queueUrls.delivery, { expected: 0, timeoutMs: 2_000, quietMs: 500 });
});

after(async () => {
  worker?.shutdown();
  await workerRun;
  await stack?.stop();
});

describe('notifications end to end (dev server + ElasticMQ)', () => {
  test('a notification due a few seconds ahead lands in the delivery queue then, with the design attributes', async () => {
    const notBefore = new Date(Date.now() + 3_000);
    const input = notification('due-soon', { notBefore: notBefore.toISOString() });
    const { handle } = await client.schedule(input);
    assert.equal((await client.status(input.notificationId)).status, 'held');

    const result = await handle.result();
    assert.equal(result.status, 'delivered');
    const [message, ...others] = await collectMessages(stack.sqs, stack.queueUrls.delivery, { expected: 1 });
    assert.equal(others.length, 0);
    assert.ok(message);
    assert.equal(message.MessageId, result.messageId);
    assert.equal(attribute(message, 'notificationId'), input.notificationId);
    assert.equal(attribute(message, 'category'), 'advertising');
    assert.equal(attribute(message, 'releasedAt'), result.releasedAt);
    assert.ok(Date.parse(attribute(message, 'scheduledAt')!) < notBefore.getTime());
    assert.ok(Date.parse(attribute(message, 'releasedAt')!) >= notBefore.getTime(), 'released before notBefore');
    // SQS's own clock agrees that it was not sent early.
    assert.ok(Number(message.Attributes?.SentTimestamp) >= notBefore.getTime(), 'arrived before notBefore');
    const body = JSON.parse(message.Body!);
    assert.equal(body.notificationId, input.notificationId);
    assert.deepEqual(body.payload, input.payload);
  });

  test('one notification scheduled twice lands once', async () => {
    const input = notification('twice');
    const [first, second] = await Promise.all([client.schedule(input), client.schedule(input)]);
    assert.deepEqual([first.started, second.started].sort(), [false, true]);
    await first.handle.result();
    assert.equal((await client.schedule(input)).started, false, 'a third schedule after delivery started something');
    const messages = await collectMessages(stack.sqs, stack.queueUrls.delivery, { expected: 1, quietMs: 3_000 });
    assert.equal(countBy(messages, 'notificationId').get(input.notificationId), 1);
    assert.equal(messages.length, 1);
  });

  test('a missing delivery queue fails the workflow clearly, without retrying forever', async () => {
    const taskQueue = `${TASK_QUEUE}-missing-queue`;
    const missing = await createNotificationWorker({
      connection: stack.env.nativeConnection,
      namespace: stack.env.namespace ?? 'default',
      taskQueue,
      dataConverter: testDataConverter(),
      deps: {
        sqs: stack.sqs,
        deliveryQueueUrl: `${stack.queueUrls.delivery}-does-not-exist`,
        legacyWaitQueueUrl: stack.queueUrls.legacyWait,
        deadLetterQueueUrl: stack.queueUrls.deadLetter,
        notifications: { taskQueue, policy: DEFAULT_POLICY },
      },
    });
    const missingClient = new NotificationClient({ client: stack.env.client, taskQueue, policy: DEFAULT_POLICY });
    await missing.runUntil(async () => {
      const { handle } = await missingClient.schedule(notification('missing-queue'));
      await assert.rejects(handle.result(), (error: unknown) => {
        assert.ok(error instanceof WorkflowFailedError);
        assert.ok(error.cause instanceof ActivityFailure);
        assert.ok(error.cause.cause instanceof ApplicationFailure);
        assert.equal(error.cause.cause.type, 'QueueDoesNotExist');
        return true;
      });
    });
  });
});

describe('deliverNotification against ElasticMQ (the activity alone)', () => {
  test('on a FIFO queue a retried send is deduplicated by the notification id', async () => {
    const fifoUrl = await ensureQueue(stack.sqs, `delivery-e2e-${run}.fifo`);
    const { deliverNotification } = createDeliveryActivities({ sqs: stack.sqs, deliveryQueueUrl: fifoUrl });
    const request = {
      notification: parseNotification(notification('fifo')),
      scheduledAt: new Date().toISOString(),
      releasedAt: new Date().toISOString(),
      releaseReason: 'immediate',
    };
    const activityEnv = new MockActivityEnvironment();
    // The same send twice, as after a crash between SendMessage and the activity's completion.
    const first = (await activityEnv.run(deliverNotification, request)) as { messageId: string };
    const second = (await activityEnv.run(deliverNotification, request)) as { messageId: string };
    assert.equal(second.messageId, first.messageId);
    const messages = await collectMessages(stack.sqs, fifoUrl, { expected: 1, quietMs: 2_000 });
    assert.equal(messages.length, 1);
    assert.equal(messages[0]!.Attributes?.MessageGroupId, request.notification.notificationId);
    assert.equal(messages[0]!.Attributes?.MessageDeduplicationId, request.notification.notificationId);
  });

  test('a message over the SQS size limit fails non-retryably before it is sent', async () => {
    const { deliverNotification } = createDeliveryActivities({ sqs: stack.sqs, deliveryQueueUrl: stack.queueUrls.delivery });
    const huge = parseNotification(notification('huge', { payload: { body: 'x'.repeat(300 * 1024) } }));
    await assert.rejects(
      new MockActivityEnvironment().run(deliverNotification, {
        notification: huge,
        scheduledAt: new Date().toISOString(),
        releasedAt: new Date().toISOString(),
        releaseReason: 'immediate',
      }),
      (error: unknown) => error instanceof ApplicationFailure && error.type === 'MessageTooLarge' && error.nonRetryable,
    );
  });
});
