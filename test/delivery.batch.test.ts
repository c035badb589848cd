/**
 * A worker's delivery sends share SendMessageBatch requests (src/activities/sendBatcher.ts), and each
 * notification still gets its own outcome. Real ElasticMQ behind the counting proxy, which passes
 * every request through unchanged and counts the send requests it saw; the activity runs in
 * MockActivityEnvironment, nothing is stubbed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createDeliveryActivities, type DeliveryRequest } from '../src/activities/delivery';
import { BatchEntryFailed, SendBatcher } from '../src/activities/sendBatcher';
import { classifySqsError } from '../src/activities/sqsErrors';
import { loadConfig } from '../src/config';
import { parseNotification } from '../src/notification';
import { createSqsClient, ensureQueue } from '../src/sqs';
import { startElasticMq, type RunningElasticMq } from '../src/stack/elasticMq';
import { attribute, collectMessages } from './helpers/queues';
import { startSqsCountingProxy, type SqsCountingProxy } from './helpers/sqsCountingProxy';

let elasticMq: RunningElasticMq;
let proxy: SqsCountingProxy;
let sqs: SQSClient;
let serial = 0;

before(async () => {
  elasticMq = await startElasticMq({ queues: ['unused'] });
  proxy = await startSqsCountingProxy(elasticMq.endpoint);
  sqs = createSqsClient({ ...loadConfig({}).sqs, endpoint: proxy.endpoint });
});

after(async () => {
  sqs?.destroy();
  await proxy?.stop();
  await elasticMq?.stop();
});

/** A fresh queue per test, so that counts and contents are the test's own. */
const freshQueue = () => ensureQueue(sqs, `batch-${process.pid}-${++serial}`);

function request(id: string, payload: Record<string, unknown> = {}, extra: Partial<DeliveryRequest> = {}): DeliveryRequest {
  return {
    notification: parseNotification({ notificationId: id, recipient: { id: 'user-1' }, channel: 'sms', category: 'order', payload }),
    scheduledAt: new Date().toISOString(),
    releaseReason: 'immediate',
    ...extra,
  };
}

const run = (activity: (request: DeliveryRequest) => Promise<unknown>, input: DeliveryRequest) => new MockActivityEnvironment().run(activity, input);

describe('batched delivery sends, against ElasticMQ', () => {
  test('25 notifications sent together leave in at most three requests, and each arrives once with its own attributes', async () => {
    const queueUrl = await freshQueue();
    const { deliverNotification } = createDeliveryActivities({ sqs, deliveryQueueUrl: queueUrl, maxMessageBytes: 256 * 1024, sendBatchWindowMs: 200 });
    const ids = Array.from({ length: 25 }, (_, index) => `batched-${index}`);
    const requestsBefore = proxy.sendRequests;

    const results = (await Promise.all(ids.map((id) => run(deliverNotification, request(id))))) as { messageId: string; releasedAt: string }[];

    assert.ok(proxy.sendRequests - requestsBefore <= 3, `${proxy.sendRequests - requestsBefore} send requests for 25 messages`);
    assert.equal(new Set(results.map((result) => result.messageId)).size, 25, 'each notification has its own message id');
    const messages = await collectMessages(sqs, queueUrl, { expected: 25, timeoutMs: 30_000 });
    assert.deepEqual(messages.map((message) => attribute(message, 'notificationId')).sort(), [...ids].sort());
    const byMessageId = new Map(messages.map((message) => [message.MessageId, message]));
    for (const [index, result] of results.entries()) {
      const message = byMessageId.get(result.messageId);
      assert.equal(message && attribute(message, 'notificationId'), ids[index], 'the answer of each notification is its own message');
      assert.equal(message && attribute(message, 'releasedAt'), result.releasedAt);
    }
  });

  test("a batch's messages together stay within the queue's size limit", async () => {
    const queueUrl = await freshQueue();
    // About 1,500 bytes each against a 4 KiB limit: two fit in a request, so six take three.
    const { deliverNotification } = createDeliveryActivities({ sqs, deliveryQueueUrl: queueUrl, maxMessageBytes: 4096, sendBatchWindowMs: 200 });
    const ids = Array.from({ length: 6 }, (_, index) => `sized-${index}`);
    const requestsBefore = proxy.sendRequests;

    await Promise.all(ids.map((id) => run(deliverNotification, request(id, { text: 'x'.repeat(1_200) }))));

    assert.equal(proxy.sendRequests - requestsBefore, 3);
    const messages = await collectMessages(sqs, queueUrl, { expected: 6, timeoutMs: 30_000 });
    assert.deepEqual(messages.map((message) => attribute(message, 'notificationId')).sort(), [...ids].sort());
  });

  test('an entry SQS refuses fails alone, with its code; the others in its batch are sent', async () => {
    const queueUrl = await freshQueue();
    const batcher = new SendBatcher({ sqs, queueUrl, maxBatchBytes: 256 * 1024, windowMs: 100, requestTimeoutMs: 5_000 });
    const message = (body: string) => ({ bytes: body.length, deadline: Number.POSITIVE_INFINITY, entryAt: () => ({ MessageBody: body }) });

    const [good, refused, alsoGood] = await Promise.allSettled([batcher.send(message('first')), batcher.send(message('bad \u0000 body')), batcher.send(message('third'))]);

    assert.equal(good.status, 'fulfilled');
    assert.equal(alsoGood.status, 'fulfilled');
    assert.equal(refused.status, 'rejected');
    const reason = (refused as PromiseRejectedResult).reason as BatchEntryFailed;
    assert.ok(reason instanceof BatchEntryFailed, String(reason));
    // The activity classifies it like a single send's refusal: no retry can fix it.
    const classified = classifySqsError(reason, queueUrl);
    assert.ok(classified instanceof ApplicationFailure && classified.nonRetryable && classified.type === 'InvalidQueueMessage', String(classified));
    const messages = await collectMessages(sqs, queueUrl, { expected: 2, timeoutMs: 30_000 });
    assert.deepEqual(messages.map((received) => received.Body).sort(), ['first', 'third']);
  });

  test('a send whose deadline passes while it waits for its batch is not sent, and says its window closed', async () => {
    const queueUrl = await freshQueue();
    const { deliverNotification } = createDeliveryActivities({ sqs, deliveryQueueUrl: queueUrl, maxMessageBytes: 256 * 1024, sendBatchWindowMs: 1_000 });
    const requestsBefore = proxy.sendRequests;

    // Due 4.5 s from now, its batch must leave 4 s before that (the second to spare and the worker's
    // unmeasured lag, UNMEASURED_LAG_MS); it leaves in one second.
    await assert.rejects(run(deliverNotification, request('too-late', {}, { deadline: new Date(Date.now() + 4_500).toISOString() })), (error: unknown) => {
      assert.ok(error instanceof ApplicationFailure, String(error));
      assert.equal(error.type, 'SendWindowClosed');
      assert.equal(error.nonRetryable, true);
      assert.match(error.message, /could not be receivable before its deadline/);
      return true;
    });

    assert.equal(proxy.sendRequests - requestsBefore, 0, 'nothing was sent');
    assert.equal((await collectMessages(sqs, queueUrl, { expected: 0, timeoutMs: 3_000, quietMs: 1_500 })).length, 0);
  });

  test('a send a few seconds before its deadline goes out (its request is given the time that remains, in whole milliseconds)', async () => {
    const queueUrl = await freshQueue();
    const { deliverNotification } = createDeliveryActivities({ sqs, deliveryQueueUrl: queueUrl, maxMessageBytes: 256 * 1024, sendBatchWindowMs: 100 });
    const sent = (await run(deliverNotification, request('just-in-time', {}, { deadline: new Date(Date.now() + 6_500).toISOString() }))) as { messageId: string };
    assert.ok(sent.messageId);
    assert.equal((await collectMessages(sqs, queueUrl, { expected: 1, timeoutMs: 10_000 })).length, 1);
  });

  test('the time a send waited in the worker for a free slot counts: one decided in time but started 3 s later is not made', async () => {
    const queueUrl = await freshQueue();
    const { deliverNotification } = createDeliveryActivities({ sqs, deliveryQueueUrl: queueUrl, maxMessageBytes: 256 * 1024, sendBatchWindowMs: 100 });
    const now = Date.now();
    // Decided a second ago with 6 s to its deadline; the worker asked for the send then, but it only starts now, 3 s later.
    const waited = new MockActivityEnvironment({ isLocal: true, currentAttemptScheduledTimestampMs: now - 3_000 });
    const late = request('waited', {}, { decidedAt: new Date(now - 1_000).toISOString(), deadline: new Date(now + 5_000).toISOString() });
    await assert.rejects(waited.run(deliverNotification, late), (error: unknown) => error instanceof ApplicationFailure && error.type === 'SendWindowClosed');
    // The same send without the wait goes out.
    const prompt = new MockActivityEnvironment({ isLocal: true, currentAttemptScheduledTimestampMs: Date.now() });
    assert.ok(((await prompt.run(deliverNotification, { ...late, notification: { ...late.notification, notificationId: 'prompt' }, deadline: new Date(Date.now() + 6_000).toISOString() })) as { messageId: string }).messageId);
  });
});
