import { SendMessageCommand, type MessageAttributeValue, type SQSClient } from '@aws-sdk/client-sqs';
import { ApplicationFailure } from '@temporalio/common';
import type { Notification } from '../notification';
import { classifySqsError, isFifoQueue, SQS_MAX_MESSAGE_BYTES } from './sqsErrors';

export interface DeliveryRequest {
  notification: Notification;
  /** When the notification was scheduled (workflow start), ISO-8601. */
  scheduledAt: string;
  /** The instant the workflow released it, ISO-8601. */
  releasedAt: string;
  /** Why it went out when it did: `immediate` or `held-quiet-hours`. */
  releaseReason: string;
}

export interface DeliveryDeps {
  sqs: SQSClient;
  deliveryQueueUrl: string;
}

/** The body the downstream sender (KakaoTalk / SMS / push gateway) consumes. */
export function deliveryMessageBody(notification: Notification): string {
  const { notificationId, recipient, channel, category, payload } = notification;
  return JSON.stringify({ notificationId, recipient: { id: recipient.id }, channel, category, payload });
}

function stringAttribute(value: string): MessageAttributeValue {
  return { DataType: 'String', StringValue: value };
}

export function createDeliveryActivities({ sqs, deliveryQueueUrl }: DeliveryDeps) {
  return {
    /**
     * Puts one notification on the delivery queue. On a FIFO queue the notification id is both
     * the group and the deduplication id, so a retry after a crash (within SQS's 5-minute
     * deduplication window) does not produce a second message. A standard queue is
     * at-least-once: the downstream deduplicates on the `notificationId` attribute.
     */
    async deliverNotification(request: DeliveryRequest): Promise<{ messageId: string }> {
      const { notification } = request;
      const body = deliveryMessageBody(notification);
      const attributes: Record<string, MessageAttributeValue> = {
        notificationId: stringAttribute(notification.notificationId),
        category: stringAttribute(notification.category),
        channel: stringAttribute(notification.channel),
        scheduledAt: stringAttribute(request.scheduledAt),
        releasedAt: stringAttribute(request.releasedAt),
        releaseReason: stringAttribute(request.releaseReason),
      };
      const size =
        Buffer.byteLength(body) +
        Object.entries(attributes).reduce(
          (sum, [name, value]) => sum + Buffer.byteLength(name) + Buffer.byteLength(value.DataType ?? '') + Buffer.byteLength(value.StringValue ?? ''),
          0,
        );
      if (size > SQS_MAX_MESSAGE_BYTES) {
        throw ApplicationFailure.nonRetryable(
          `notification ${notification.notificationId} is ${size} bytes, over SQS's limit of ${SQS_MAX_MESSAGE_BYTES}`,
          'MessageTooLarge',
        );
      }
      const fifo = isFifoQueue(deliveryQueueUrl);
      try {
        const sent = await sqs.send(
          new SendMessageCommand({
            QueueUrl: deliveryQueueUrl,
            MessageBody: body,
            MessageAttributes: attributes,
            MessageGroupId: fifo ? notification.notificationId : undefined,
            MessageDeduplicationId: fifo ? notification.notificationId : undefined,
          }),
        );
        return { messageId: sent.MessageId ?? '' };
      } catch (error) {
        throw classifySqsError(error, deliveryQueueUrl);
      }
    },

    /** The stack's smoke test: one plain message on the delivery queue. */
    async sendSmokeMessage(body: string): Promise<{ messageId: string }> {
      try {
        const sent = await sqs.send(new SendMessageCommand({ QueueUrl: deliveryQueueUrl, MessageBody: body,
          MessageGroupId: isFifoQueue(deliveryQueueUrl) ? 'smoke' : undefined,
          MessageDeduplicationId: isFifoQueue(deliveryQueueUrl) ? body : undefined }));
        return { messageId: sent.MessageId ?? '' };
      } catch (error) {
        throw classifySqsError(error, deliveryQueueUrl);
      }
    },
  };
}
