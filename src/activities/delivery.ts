import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { ApplicationFailure } from '@temporalio/common';
import {
  deliveryMessageAttributes,
  deliveryMessageBody,
  fifoMessageId,
  isFifoQueue,
  messageBytes,
} from '../deliveryMessage';
import { DEFAULT_SEND_BATCH_WINDOW_MS } from '../config';
import { FAILURE_TYPES } from '../failureTypes';
import type { Deliverable } from '../notification';
import { MAX_PRESTAGE_SECONDS } from '../policy';
import { SendBatcher, SendDeadlinePassed } from './sendBatcher';
import { classifySqsError } from './sqsErrors';

export interface DeliveryRequest {
  /** A notification, or a legacy body forwarded as it was. */
  notification: Deliverable;
  /** When the notification was scheduled (workflow start), ISO-8601. */
  scheduledAt: string;
  /**
   * Set when the workflow sends before the release (staging): the message must not be receivable
   * before this instant, so it carries the SQS delay that remains by this worker's clock. Absent,
   * it is sent to be receivable at once.
   */
  releaseAt?: string;
  /** Why it goes out when it does: `immediate`, `held-quiet-hours` or `not-before`. */
  releaseReason: string;
  /** It must be receivable before this instant (the next quiet window or its expiry); absent: no bound. */
  deadline?: string;
}

export interface DeliveryResult {
  /** The delivery queue's message id. */
  messageId: string;
  /** When it was handed to SQS, ISO-8601. */
  stagedAt: string;
  /** When it becomes receivable: stagedAt plus its delay, ISO-8601. */
  releasedAt: string;
}

export interface DeliveryDeps {
  sqs: SQSClient;
  deliveryQueueUrl: string;
  /** The delivery queue's MaximumMessageSize, read from the queue when the worker starts. */
  maxMessageBytes: number;
  /** How long a send waits for others to share its SendMessageBatch (NOTIFY_SEND_BATCH_WINDOW_MS). */
  sendBatchWindowMs?: number;
}

/** Each SQS request is abandoned after this long and retried (if its deadline allows). */
const SEND_TIMEOUT_MS = 5_000;

/**
 * SQS delays are whole seconds, so a staged send joins its batch at the whole second before the
 * release plus this margin. Its delay is reckoned when the batch leaves, at most the batch window
 * later: the message turns receivable that margin and window after the release at most, instead of
 * up to a second after it, and never before it.
 */
const ALIGNMENT_MARGIN_MS = 10;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function createDeliveryActivities({ sqs, deliveryQueueUrl, maxMessageBytes, sendBatchWindowMs = DEFAULT_SEND_BATCH_WINDOW_MS }: DeliveryDeps) {
  const fifo = isFifoQueue(deliveryQueueUrl);
  // One per worker: the sends of all the notifications it runs share batches.
  const batcher = new SendBatcher({
    sqs,
    queueUrl: deliveryQueueUrl,
    maxBatchBytes: maxMessageBytes,
    windowMs: sendBatchWindowMs,
    requestTimeoutMs: SEND_TIMEOUT_MS,
  });
  return {
    /**
     * Puts one notification on the delivery queue, receivable at its release instant and not
     * before: sent earlier (staged), it carries the SQS delay that remains. On a FIFO queue the
     * notification id (hashed when too long) is both the group and the deduplication id, so a
     * retry after a crash (within SQS's 5-minute deduplication window) does not produce a second
     * message. A standard queue is at-least-once: the downstream deduplicates on `notificationId`.
     */
    async deliverNotification(request: DeliveryRequest): Promise<DeliveryResult> {
      const { notification } = request;
      const releaseAtMs = request.releaseAt === undefined ? Number.NEGATIVE_INFINITY : Date.parse(request.releaseAt);
      const deadlineMs = request.deadline === undefined ? Number.POSITIVE_INFINITY : Date.parse(request.deadline);
      const body = deliveryMessageBody(notification);

      let nowMs = Date.now();
      if (releaseAtMs > nowMs) {
        if (fifo) {
          throw ApplicationFailure.nonRetryable('a FIFO queue cannot delay a single message; send at the release instead', FAILURE_TYPES.stagingUnsupported);
        }
        const remainingMs = releaseAtMs - nowMs;
        if (remainingMs > MAX_PRESTAGE_SECONDS * 1000) {
          // Only a worker clock well behind the server's gets here; a later attempt can send.
          throw ApplicationFailure.retryable(`the release is ${remainingMs} ms away, more than SQS can delay a message`, 'TooEarlyToStage');
        }
        await sleep((remainingMs % 1000) + ALIGNMENT_MARGIN_MS);
        nowMs = Date.now();
      }
      // The deadline bounds the send itself; a staged message turns receivable at its release, which
      // is before the deadline by construction (to within the alignment margin).
      if (nowMs >= deadlineMs) {
        throw ApplicationFailure.nonRetryable(
          `notification ${notification.notificationId} was not sent before its deadline ${request.deadline}`,
          FAILURE_TYPES.sendWindowClosed,
        );
      }
      // The delay and the timestamps are those of the instant its batch leaves, a window later at most.
      const sentAt = (sentAtMs: number) => {
        const delaySeconds = Math.max(0, Math.ceil((releaseAtMs - sentAtMs) / 1000));
        const stagedAt = new Date(sentAtMs).toISOString();
        const releasedAt = new Date(sentAtMs + delaySeconds * 1000).toISOString();
        const attributes = deliveryMessageAttributes(notification, { scheduledAt: request.scheduledAt, releasedAt, stagedAt, releaseReason: request.releaseReason });
        return { delaySeconds, stagedAt, releasedAt, attributes };
      };
      // Every timestamp has the same length, so the size does not depend on the instant.
      const size = messageBytes(body, sentAt(nowMs).attributes);
      if (size > maxMessageBytes) {
        throw ApplicationFailure.nonRetryable(
          `notification ${notification.notificationId} is ${size} bytes with its attributes, over the delivery queue's limit of ${maxMessageBytes}`,
          FAILURE_TYPES.messageTooLarge,
        );
      }
      try {
        const sent = await batcher.send({
          bytes: size,
          deadlineMs,
          entryAt: (sentAtMs) => {
            const { delaySeconds, attributes } = sentAt(sentAtMs);
            return {
              MessageBody: body,
              MessageAttributes: attributes,
              DelaySeconds: delaySeconds || undefined,
              MessageGroupId: fifo ? fifoMessageId(notification.notificationId) : undefined,
              MessageDeduplicationId: fifo ? fifoMessageId(notification.notificationId) : undefined,
            };
          },
        });
        const { stagedAt, releasedAt } = sentAt(sent.sentAtMs);
        return { messageId: sent.messageId, stagedAt, releasedAt };
      } catch (error) {
        if (error instanceof SendDeadlinePassed) {
          throw ApplicationFailure.nonRetryable(`notification ${notification.notificationId} was not sent: ${error.message}`, FAILURE_TYPES.sendWindowClosed);
        }
        throw classifySqsError(error, deliveryQueueUrl);
      }
    },

    /** The stack's smoke test: one plain message on the delivery queue. */
    async sendSmokeMessage(body: string): Promise<{ messageId: string }> {
      try {
        const sent = await sqs.send(
          new SendMessageCommand({
            QueueUrl: deliveryQueueUrl,
            MessageBody: body,
            MessageGroupId: fifo ? 'smoke' : undefined,
            MessageDeduplicationId: fifo ? fifoMessageId(body) : undefined,
          }),
        );
        return { messageId: sent.MessageId ?? '' };
      } catch (error) {
        throw classifySqsError(error, deliveryQueueUrl);
      }
    },
  };
}
