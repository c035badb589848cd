import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { isFifoQueue } from '../deliveryMessage';
import { addCounts, EMPTY_COUNTS, type DrainCounts } from '../legacy/drainCounts';
import { classifyLegacyMessage, PoisonLegacyMessageError, type LegacyMessage } from '../legacy/legacyMessage';
import { InvalidNotificationError, type LegacyForward, type Notification } from '../notification';
import { classifySqsError } from './sqsErrors';

/**
 * What the drain needs of NotificationClient: start a notification's (or a legacy forward's)
 * workflow, or find it started; an InvalidNotificationError says it can never be delivered.
 */
export interface NotificationScheduler {
  schedule(notification: Notification): Promise<{ started: boolean }>;
  scheduleLegacyForward(forward: LegacyForward): Promise<{ started: boolean }>;
}

/** What becomes of a body outside the documented vocabulary (NOTIFY_LEGACY_FOREIGN). */
export type ForeignBodies = 'forward' | 'dead-letter';

export interface LegacyQueueDeps {
  sqs: SQSClient;
  legacyWaitQueueUrl: string;
  deadLetterQueueUrl: string;
  /** The scheduler that starts notification workflows, on the Temporal client the activity is given. */
  schedulerFor: (temporal: Client) => NotificationScheduler;
  /** Default `forward`, as the old drain did. */
  foreignBodies?: ForeignBodies;
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

type Outcome = 'started' | 'forwarded' | 'alreadyPresent' | 'deadLettered';

export function createLegacyQueueActivities(deps: LegacyQueueDeps) {
  const { sqs, legacyWaitQueueUrl, deadLetterQueueUrl } = deps;
  const foreignBodies = deps.foreignBodies ?? 'forward';
  const fifoDeadLetters = isFifoQueue(deadLetterQueueUrl);

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
          // A redelivered message keeps its MessageId: on a FIFO dead-letter queue a second copy
          // (after a crash between this send and the delete) is dropped by SQS.
          MessageGroupId: fifoDeadLetters ? 'legacy-dead-letters' : undefined,
          MessageDeduplicationId: fifoDeadLetters ? message.MessageId : undefined,
        }),
      );
    } catch (error) {
      throw classifySqsError(error, deadLetterQueueUrl);
    }
  }

  /**
   * Starts (or finds) the message's workflow, or dead-letters it; says which. Dead letters: a body
   * in the documented vocabulary with an invalid field, an empty body, one that could never fit the
   * delivery queue, and a foreign body when foreign bodies are not forwarded.
   */
  async function reconcileOne(scheduler: NotificationScheduler, message: Message): Promise<Outcome> {
    let legacy: LegacyMessage;
    try {
      legacy = classifyLegacyMessage(message.Body ?? '');
    } catch (error) {
      if (!(error instanceof PoisonLegacyMessageError)) throw error;
      await deadLetter(message, error.message);
      return 'deadLettered';
    }
    if (legacy.kind === 'foreign' && foreignBodies === 'dead-letter') {
      await deadLetter(message, `not the documented legacy vocabulary (${legacy.why}); NOTIFY_LEGACY_FOREIGN=dead-letter`);
      return 'deadLettered';
    }
    try {
      const { started } =
        legacy.kind === 'foreign' ? await scheduler.scheduleLegacyForward(legacy.forward) : await scheduler.schedule(legacy.notification);
      if (!started) return 'alreadyPresent';
      return legacy.kind === 'foreign' ? 'forwarded' : 'started';
    } catch (error) {
      if (!(error instanceof InvalidNotificationError)) throw error;
      await deadLetter(message, error.message);
      return 'deadLettered';
    }
  }

  /** Deletes the messages; returns those SQS confirmed deleted (the others come back and are found to exist). */
  async function deleteMessages(messages: Message[], abortSignal: AbortSignal): Promise<Message[]> {
    if (messages.length === 0) return [];
    try {
      const result = await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: legacyWaitQueueUrl,
          Entries: messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle })),
        }),
        { abortSignal },
      );
      if (result.Failed?.length) Context.current().log.warn('some legacy messages were not deleted', { failed: result.Failed });
      const failed = new Set((result.Failed ?? []).map((entry) => entry.Id));
      return messages.filter((_, index) => !failed.has(String(index)));
    } catch (error) {
      throw classifySqsError(error, legacyWaitQueueUrl);
    }
  }

  return {
    /**
     * Moves legacy messages into notification workflows until the queue answers empty or a
     * bound is reached. Each message is deleted only after its workflow start is confirmed (or
     * it was found to exist already, or it was dead-lettered), so a crash at any point loses
     * nothing; the workflow id comes from the business id, so a redelivered message starts
     * nothing twice. Counts cover only what was deleted. If any message of a batch cannot be
     * handled, the rest of its batch is still deleted, every receive loop of this attempt stops,
     * and the attempt fails (the workflow retries it; the failed message comes back).
     */
    async drainLegacyQueue(options: DrainOptions): Promise<DrainCounts & { queueEmpty: boolean }> {
      const context = Context.current();
      const scheduler = deps.schedulerFor(context.client);
      const deadline = Date.now() + options.maxSeconds * 1000;
      // One failed loop stops the others: an attempt that has failed must not keep working beside its retry.
      const attempt = new AbortController();
      const stopped = AbortSignal.any([attempt.signal, context.cancellationSignal]);
      let counts: DrainCounts = { ...EMPTY_COUNTS };
      let queueEmpty = false;
      let failure: unknown;

      const receiveLoop = async () => {
        while (!stopped.aborted && !queueEmpty && Date.now() < deadline && counts.received < options.maxMessages) {
          let messages: Message[];
          try {
            ({ Messages: messages = [] } = await sqs.send(
              new ReceiveMessageCommand({
                QueueUrl: legacyWaitQueueUrl,
                MaxNumberOfMessages: 10,
                WaitTimeSeconds: options.waitTimeSeconds,
                VisibilityTimeout: VISIBILITY_TIMEOUT_SECONDS,
              }),
              { abortSignal: stopped },
            ));
          } catch (error) {
            if (stopped.aborted) return;
            throw classifySqsError(error, legacyWaitQueueUrl);
          }
          if (messages.length === 0) {
            queueEmpty = true;
            return;
          }
          const settled = await Promise.allSettled(messages.map((message) => reconcileOne(scheduler, message)));
          const outcomes = new Map<Message, Outcome>();
          settled.forEach((result, index) => {
            if (result.status === 'fulfilled') outcomes.set(messages[index]!, result.value);
          });
          const deleted = await deleteMessages([...outcomes.keys()], context.cancellationSignal);
          const batch = { ...EMPTY_COUNTS, received: messages.length };
          for (const message of deleted) batch[outcomes.get(message)!] += 1;
          counts = addCounts(counts, batch);
          context.heartbeat(counts);
          const rejected = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
          if (rejected) throw rejected.reason;
        }
      };

      const loops = Array.from({ length: Math.max(1, options.concurrency) }, () =>
        receiveLoop().catch((error: unknown) => {
          failure ??= error;
          attempt.abort();
        }),
      );
      await Promise.all(loops);
      if (failure !== undefined) throw failure;
      return { ...counts, queueEmpty };
    },
  };
}
