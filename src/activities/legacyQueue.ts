import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { NotificationClient } from '../client/NotificationClient';
import { parseLegacyMessage, PoisonLegacyMessageError } from '../legacy/legacyMessage';
import type { QuietHoursPolicy } from '../policy';
import { addCounts, EMPTY_COUNTS, type DrainCounts } from '../legacy/drainCounts';
import { classifySqsError } from './sqsErrors';

export interface LegacyQueueDeps {
  sqs: SQSClient;
  legacyWaitQueueUrl: string;
  deadLetterQueueUrl: string;
  /** Where the notification workflows are started, with the policy in force. */
  notifications: { taskQueue: string; policy: QuietHoursPolicy; client?: Client };
}

export interface DrainOptions {
  /** Stop after this long (a bound on one activity attempt; the workflow calls again). */
  maxSeconds: number;
  /** Stop after this many messages. */
  maxMessages: number;
  /** Receive loops in parallel, each taking up to 10 messages at a time. */
  concurrency: number;
  /** Long-polling wait of each receive, in seconds (0–20). */
  waitTimeSeconds: number;
}

/** Invisible while one attempt works on a batch; after a crash the messages come back this much later. */
const VISIBILITY_TIMEOUT_SECONDS = 30;

export function createLegacyQueueActivities(deps: LegacyQueueDeps) {
  const { sqs, legacyWaitQueueUrl, deadLetterQueueUrl } = deps;

  async function deadLetter(message: Message, reason: string): Promise<void> {
    try {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: deadLetterQueueUrl,
          // The original body, byte for byte, so that nothing of it is lost.
          MessageBody: message.Body ?? '',
          MessageAttributes: {
            reason: { DataType: 'String', StringValue: reason.slice(0, 1000) },
            sourceQueue: { DataType: 'String', StringValue: legacyWaitQueueUrl },
            sourceMessageId: { DataType: 'String', StringValue: message.MessageId ?? 'unknown' },
          },
        }),
      );
    } catch (error) {
      throw classifySqsError(error, deadLetterQueueUrl);
    }
  }

  /** Starts (or finds) the message's workflow, or dead-letters it; says which. */
  async function reconcileOne(notifications: NotificationClient, message: Message): Promise<keyof DrainCounts> {
    let notification;
    try {
      notification = parseLegacyMessage(message.Body ?? '');
    } catch (error) {
      if (!(error instanceof PoisonLegacyMessageError)) throw error;
      await deadLetter(message, error.message);
      return 'deadLettered';
    }
    const { started } = await notifications.schedule(notification);
    return started ? 'started' : 'alreadyPresent';
  }

  return {
    /**
     * Moves legacy messages into notification workflows until the queue answers empty or a
     * bound is reached. Each message is deleted only after its workflow start is confirmed (or
     * it was found to exist already, or it was dead-lettered), so a crash at any point loses
     * nothing; the workflow id comes from the business id, so a redelivered message starts
     * nothing twice.
     */
    async drainLegacyQueue(options: DrainOptions): Promise<DrainCounts & { queueEmpty: boolean }> {
      const context = Context.current();
      const notifications = new NotificationClient({
        client: deps.notifications.client ?? context.client,
        taskQueue: deps.notifications.taskQueue,
        policy: deps.notifications.policy,
      });
      const deadline = Date.now() + options.maxSeconds * 1000;
      let counts: DrainCounts = { ...EMPTY_COUNTS };
      let queueEmpty = false;

      const receiveLoop = async () => {
        while (!queueEmpty && Date.now() < deadline && counts.received < options.maxMessages) {
          if (context.cancellationSignal.aborted) return;
          let messages: Message[];
          try {
            ({ Messages: messages = [] } = await sqs.send(
              new ReceiveMessageCommand({
                QueueUrl: legacyWaitQueueUrl,
                MaxNumberOfMessages: 10,
                WaitTimeSeconds: options.waitTimeSeconds,
                VisibilityTimeout: VISIBILITY_TIMEOUT_SECONDS,
              }),
            ));
          } catch (error) {
            throw classifySqsError(error, legacyWaitQueueUrl);
          }
          if (messages.length === 0) {
            queueEmpty = true;
            return;
          }
          const outcomes = await Promise.all(messages.map((message) => reconcileOne(notifications, message)));
          const batch = { ...EMPTY_COUNTS, received: messages.length };
          for (const outcome of outcomes) batch[outcome] += 1;
          await deleteHandled(messages);
          counts = addCounts(counts, batch);
          context.heartbeat(counts);
        }
      };

      const deleteHandled = async (messages: Message[]) => {
        try {
          const result = await sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: legacyWaitQueueUrl,
              Entries: messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle })),
            }),
          );
          // A failed delete only means the message comes back and is found to exist already.
          if (result.Failed?.length) context.log.warn('some legacy messages were not deleted', { failed: result.Failed });
        } catch (error) {
          throw classifySqsError(error, legacyWaitQueueUrl);
        }
      };

      await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, receiveLoop));
      return { ...counts, queueEmpty };
    },
  };
}
