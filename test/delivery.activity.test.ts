/**
 * Which delivery failures Temporal retries (unit, nothing stubbed: real SDK exceptions, and a
 * real SQS client against a closed port for the network case).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidMessageContents, KmsDisabled, QueueDoesNotExist, RequestThrottled, SQSClient, SQSServiceException } from '@aws-sdk/client-sqs';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createDeliveryActivities } from '../src/activities/delivery';
import { classifySqsError } from '../src/activities/sqsErrors';
import { parseNotification } from '../src/notification';
import { queueMaxMessageBytes } from '../src/sqs';
import { freePort } from '../src/stack/ports';
import { retryBackoffMs } from '../src/workflows/notificationState';

const QUEUE = 'http://127.0.0.1:9/000000000000/notification-delivery';
const metadata = { $metadata: {}, message: 'from SQS' };

describe('delivery failures', () => {
  test('a missing queue has its own type, retried by the workflow for a bounded time (a redeploy may be recreating it)', () => {
    const classified = classifySqsError(new QueueDoesNotExist(metadata), QUEUE);
    assert.ok(classified instanceof ApplicationFailure);
    assert.equal(classified.type, 'QueueDoesNotExist');
    assert.equal(classified.nonRetryable, false);
  });

  test('every client fault is classified: the message refused (never retried), or the request refused (retried for a bounded time)', () => {
    const fault = (name: string, status: number) =>
      new SQSServiceException({ name, $fault: status < 500 ? 'client' : 'server', $metadata: { httpStatusCode: status }, message: `${name} from SQS` });
    const cases: [unknown, string | undefined][] = [
      [new InvalidMessageContents(metadata), 'InvalidQueueMessage'],
      [fault('InvalidParameterValue', 400), 'InvalidQueueMessage'],
      [fault('InvalidParameterValueException', 400), 'InvalidQueueMessage'],
      [fault('AccessDenied', 403), 'QueueRequestRefused'],
      [fault('AccessDeniedException', 400), 'QueueRequestRefused'],
      [new KmsDisabled(metadata), 'QueueRequestRefused'],
      [fault('KMS.DisabledException', 400), 'QueueRequestRefused'],
      [fault('InvalidClientTokenId', 403), 'QueueRequestRefused'],
      [fault('SomethingNewFromSqs', 400), 'QueueRequestRefused'],
      // Load and outages stay transient: the workflow retries them until the send's deadline.
      [fault('ThrottlingException', 400), undefined],
      [fault('InternalError', 500), undefined],
      [fault('ServiceUnavailable', 503), undefined],
    ];
    for (const [error, type] of cases) {
      const classified = classifySqsError(error, QUEUE);
      const name = (error as Error).name;
      if (type === undefined) {
        assert.equal(classified, error, `${name} must stay transient`);
      } else {
        assert.ok(classified instanceof ApplicationFailure, `${name} must be classified`);
        assert.equal(classified.type, type, name);
        assert.equal(classified.nonRetryable, type === 'InvalidQueueMessage', name);
      }
    }
  });

  test("the waits between a send's failed attempts double from the first up to the longest, as the retry limits set them", () => {
    assert.deepEqual([1, 2, 3, 6, 7, 8].map((failed) => retryBackoffMs(failed)), [1_000, 2_000, 4_000, 32_000, 60_000, 60_000]);
    assert.deepEqual([1, 2, 3].map((failed) => retryBackoffMs(failed, { minBackoffSeconds: 5, maxBackoffSeconds: 12 })), [5_000, 10_000, 12_000]);
    assert.equal(retryBackoffMs(1, { minBackoffSeconds: 3_600, maxBackoffSeconds: 3_600 }), 3_600_000);
  });

  test('throttling is left to Temporal to retry with backoff', () => {
    const throttled = new RequestThrottled(metadata);
    assert.equal(classifySqsError(throttled, QUEUE), throttled);
  });

  test('a network error from a real SQS client is retryable', async () => {
    const port = await freePort(); // nothing listens there
    const sqs = new SQSClient({
      region: 'ap-northeast-2',
      endpoint: `http://127.0.0.1:${port}`,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
    const { deliverNotification } = createDeliveryActivities({ sqs, deliveryQueueUrl: `http://127.0.0.1:${port}/000000000000/q`, maxMessageBytes: 256 * 1024 });
    const notification = parseNotification({
      notificationId: 'network-1',
      recipient: { id: 'u' },
      channel: 'sms',
      category: 'order',
      payload: {},
    });
    await assert.rejects(
      new MockActivityEnvironment().run(deliverNotification, {
        notification,
        scheduledAt: new Date().toISOString(),
        releaseAt: new Date().toISOString(),
        releaseReason: 'immediate',
      }),
      (error: unknown) => !(error instanceof ApplicationFailure && error.nonRetryable) && /ECONNREFUSED/.test(String((error as Error).message ?? error) + String((error as { code?: string }).code)),
    );
    sqs.destroy();
  });

  test("the delivery queue's size limit is read from its MaximumMessageSize, else SQS's default", async () => {
    // SQS's answer to GetQueueAttributes is given here: ElasticMQ does not keep this attribute.
    const answering = (attributes: Record<string, string>) => ({ send: async () => ({ Attributes: attributes }) }) as unknown as SQSClient;
    assert.equal(await queueMaxMessageBytes(answering({ MaximumMessageSize: '2048' }), QUEUE), 2048);
    assert.equal(await queueMaxMessageBytes(answering({ MaximumMessageSize: '1048576' }), QUEUE), 1_048_576);
    assert.equal(await queueMaxMessageBytes(answering({}), QUEUE), 262_144);
  });
});
