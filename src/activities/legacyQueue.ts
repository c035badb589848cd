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
import {
  classifyLegacyMessage,
  contentIdInBucket,
  PoisonLegacyMessageError,
  type ContentIdentity,
  type LegacyMessage,
} from '../legacy/legacyMessage';
import { InvalidNotificationError, type LegacyForward, type Notification } from '../notification';
import { classifySqsError } from './sqsErrors';

/** Where a legacy notification came from: when SQS received its message (SentTimestamp, ms). */
export interface LegacySource {
  sentAtMs: number;
}

/**
 * What the drain needs of NotificationClient: start a notification's (or a legacy forward's)
 * workflow, or find it started; an InvalidNotificationError says it can never be delivered.
 */
export interface NotificationScheduler {
  scheduleFromLegacy(notification: Notification, source: LegacySource): Promise<{ started: boolean }>;
  scheduleLegacyForward(forward: LegacyForward, source: LegacySource): Promise<{ started: boolean }>;
  /** The SentTimestamp of the legacy message that started each of these notifications, for those that exist. */
  legacySentAt(notificationIds: string[]): Promise<Map<string, number>>;
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
  /** Key of the content hash that names a legacy message without an id (NOTIFY_RECIPIENT_HASH_KEY). */
  contentIdKey: Uint8Array;
  /** Copies of one body sent within this long are one notification (NOTIFY_LEGACY_DEDUP_WINDOW_SECONDS). */
  dedupWindowMs: number;
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

/** When SQS received the message: the same for every redelivery of it. */
function sentTimestampOf(message: Message): number {
  const sentAtMs = Number(message.Attributes?.SentTimestamp);
  // SQS always answers it when asked; without it, the time it reached us is the best there is.
  return Number.isFinite(sentAtMs) && sentAtMs > 0 ? sentAtMs : Date.now();
}

/** Runs tasks with the same key one after another, in the order they came; tasks with other keys run freely. */
class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  /** `queued` is called when the task has to wait for an earlier one with its key. */
  run<T>(key: string, task: () => Promise<T>, queued?: () => void): Promise<T> {
    const earlier = this.tails.get(key);
    if (earlier) queued?.();
    const previous = earlier ?? Promise.resolve();
    const result = previous.then(task, task);
    const tail = result.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }
}

export function createLegacyQueueActivities(deps: LegacyQueueDeps) {
  const { sqs, legacyWaitQueueUrl, deadLetterQueueUrl } = deps;
  const foreignBodies = deps.foreignBodies ?? 'forward';
  const contentLanes = new KeyedQueue();
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

  /** A received message, classified (or found to be poison), with when SQS received it. */
  interface Received {
    message: Message;
    source: LegacySource;
    legacy?: LegacyMessage;
    poison?: string;
  }

  function classify(message: Message): Received {
    const source = { sentAtMs: sentTimestampOf(message) };
    try {
      return { message, source, legacy: classifyLegacyMessage(message.Body ?? '', { idKey: deps.contentIdKey, sentAtMs: source.sentAtMs, dedupWindowMs: deps.dedupWindowMs }) };
    } catch (error) {
      if (!(error instanceof PoisonLegacyMessageError)) throw error;
      return { message, source, poison: error.message };
    }
  }

  /**
   * Copies of a body without an id: a copy in the same window-long stretch of time has the same id,
   * and its start finds it; one in a neighbouring stretch is looked up, for a whole batch at once.
   */
  class Copies {
    constructor(private readonly scheduler: NotificationScheduler) {}

    /** The neighbours' SentTimestamps of a batch's bodies without ids, by notification id. */
    async lookUp(batch: Received[]): Promise<Map<string, number>> {
      const neighbours = batch.flatMap(({ legacy }) =>
        legacy?.identity ? [contentIdInBucket(legacy.identity, legacy.identity.bucket - 1), contentIdInBucket(legacy.identity, legacy.identity.bucket + 1)] : [],
      );
      return neighbours.length === 0 ? new Map() : this.scheduler.legacySentAt(neighbours);
    }

    /**
     * Whether a copy of the same body was sent within the window of this one. Copies in one batch
     * are decided one after the other (a lane per body), so the later one looks again: the earlier
     * may have just started in a neighbouring stretch.
     */
    async sentWithinWindow(identity: ContentIdentity, known: Map<string, number>, lookAgain: boolean): Promise<boolean> {
      const ids = [contentIdInBucket(identity, identity.bucket - 1), contentIdInBucket(identity, identity.bucket + 1)];
      const sentAt = lookAgain ? await this.scheduler.legacySentAt(ids) : known;
      return ids.some((id) => {
        const sentAtMs = sentAt.get(id);
        return sentAtMs !== undefined && Math.abs(identity.sentAtMs - sentAtMs) < identity.dedupWindowMs;
      });
    }
  }

  /**
   * Starts (or finds) a message's workflow, or dead-letters it; says which. Dead letters: a body
   * in the documented vocabulary with an invalid field, an empty body, one that could never fit the
   * delivery queue, and a foreign body when foreign bodies are not forwarded.
   */
  async function reconcileOne(scheduler: NotificationScheduler, { message, source, legacy, poison }: Received, copies: Copies, known: Map<string, number>): Promise<Outcome> {
    if (poison !== undefined || !legacy) {
      await deadLetter(message, poison ?? 'unreadable');
      return 'deadLettered';
    }
    if (legacy.kind === 'foreign' && foreignBodies === 'dead-letter') {
      await deadLetter(message, `not the documented legacy vocabulary (${legacy.why}); NOTIFY_LEGACY_FOREIGN=dead-letter`);
      return 'deadLettered';
    }
    let waited = false;
    const start = async (): Promise<Outcome> => {
      if (legacy.identity && (await copies.sentWithinWindow(legacy.identity, known, waited))) return 'alreadyPresent';
      const { started } =
        legacy.kind === 'foreign'
          ? await scheduler.scheduleLegacyForward(legacy.forward, source)
          : await scheduler.scheduleFromLegacy(legacy.notification, source);
      if (!started) return 'alreadyPresent';
      return legacy.kind === 'foreign' ? 'forwarded' : 'started';
    };
    try {
      // Copies of one body are decided one after the other, so that two of them never both find no earlier copy.
      if (!legacy.identity) return await start();
      return await contentLanes.run(legacy.identity.prefix, start, () => (waited = true));
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
      const copies = new Copies(scheduler);
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
                MessageSystemAttributeNames: ['SentTimestamp'],
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
          const received = messages.map(classify);
          const known = await copies.lookUp(received);
          const settled = await Promise.allSettled(received.map((each) => reconcileOne(scheduler, each, copies, known)));
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
