/**
 * Gathers the delivery sends of every notification a worker is sending into SendMessageBatch calls
 * of up to ten messages. A send waits at most `windowMs` for others to join it.
 *
 * Why: one request per message was much of what the delivery queue cost. SQS bills a batch of ten
 * as one request, and the worker signs and sends one HTTP request instead of ten. In the release of
 * 10,000 without staging on the 2-core machine, batches (6.4 messages each) took ElasticMQ from 9.4
 * to 4.5 ms of CPU per message and the worker from 28.3 to 21.2 ms (bench/README.md, "Batched
 * sends"). Staged sends gain the most: they are timed to whole seconds, so every send due in the
 * same second leaves in the same few batches.
 *
 * The coalescing itself is DataLoader's (a window, a batch size); SQS's rules are here: each entry
 * may fail on its own, a batch's messages together may not exceed the queue's MaximumMessageSize,
 * and no entry is sent after its own deadline.
 */
import { SendMessageBatchCommand, type SendMessageBatchRequestEntry, type SQSClient } from '@aws-sdk/client-sqs';
import DataLoader from 'dataloader';

/** SQS takes at most ten messages in one SendMessageBatch. */
export const SQS_MAX_BATCH_ENTRIES = 10;

export type BatchEntry = Omit<SendMessageBatchRequestEntry, 'Id'>;

/**
 * Times here are the process's monotonic clock (performance.now()), never its wall clock: a worker
 * whose wall clock is off must not send early or late. Each sender turns them into instants on
 * its own reckoning of the server's clock (src/activities/delivery.ts).
 */
export interface OutgoingMessage {
  /** Its size as SQS counts it (body and attributes). */
  bytes: number;
  /** It must not be handed to SQS at or after this monotonic time; Infinity: no bound. */
  deadline: number;
  /** The entry as it leaves at monotonic time `sentAt`: a staged message's delay depends on that instant. */
  entryAt(sentAt: number): BatchEntry;
}

export interface SentMessage {
  messageId: string;
  /** When its batch was handed to SQS (monotonic): the time `entryAt` was given. */
  sentAt: number;
}

/** The deadline passed while the message waited for its batch; it was not sent. */
export class SendDeadlinePassed extends Error {
  override readonly name = 'SendDeadlinePassed';
}

/**
 * SQS refused one entry of a batch. `Code` is SQS's error code and `$fault` whose fault it was
 * (SenderFault), as a single send's exception carries them, so src/activities/sqsErrors.ts
 * classifies both alike.
 */
export class BatchEntryFailed extends Error {
  override readonly name = 'BatchEntryFailed';
  readonly $fault: 'client' | 'server';
  constructor(
    readonly Code: string,
    message: string,
    senderFault: boolean,
  ) {
    super(`${Code}: ${message}`);
    this.$fault = senderFault ? 'client' : 'server';
  }
}

export interface SendBatcherOptions {
  sqs: SQSClient;
  queueUrl: string;
  /** The queue's MaximumMessageSize: SQS applies it to a batch's messages together as well. */
  maxBatchBytes: number;
  /** How long the first send of a batch waits for others (0: only the sends made before the next turn of the event loop). */
  windowMs: number;
  /** Each request is abandoned after this long, or at its earliest entry's deadline. */
  requestTimeoutMs: number;
}

export class SendBatcher {
  private readonly loader: DataLoader<OutgoingMessage, SentMessage>;

  constructor(private readonly options: SendBatcherOptions) {
    this.loader = new DataLoader((messages) => this.sendAll(messages), {
      cache: false,
      maxBatchSize: SQS_MAX_BATCH_ENTRIES,
      batchScheduleFn: (dispatch) => setTimeout(dispatch, options.windowMs),
    });
  }

  /** Sends one message in the next batch; rejects with SendDeadlinePassed, BatchEntryFailed or the request's error. */
  send(message: OutgoingMessage): Promise<SentMessage> {
    return this.loader.load(message);
  }

  private async sendAll(messages: readonly OutgoingMessage[]): Promise<Array<SentMessage | Error>> {
    const sentAt = performance.now();
    const results: Array<SentMessage | Error> = messages.map(() => new Error('no answer from SQS for this entry'));
    const due: number[] = [];
    messages.forEach((message, index) => {
      if (sentAt >= message.deadline) {
        results[index] = new SendDeadlinePassed(`its deadline passed ${Math.round(sentAt - message.deadline)} ms before its batch left`);
      } else {
        due.push(index);
      }
    });
    await Promise.all(
      bySize(due, (index) => messages[index]!.bytes, this.options.maxBatchBytes).map((chunk) => this.sendChunk(chunk, messages, sentAt, results)),
    );
    return results;
  }

  /** One SendMessageBatch for the messages at `indexes`; writes each one's outcome into `results`. */
  private async sendChunk(indexes: number[], messages: readonly OutgoingMessage[], sentAt: number, results: Array<SentMessage | Error>): Promise<void> {
    const earliestDeadline = Math.min(...indexes.map((index) => messages[index]!.deadline));
    try {
      const answer = await this.options.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: this.options.queueUrl,
          Entries: indexes.map((index) => ({ Id: String(index), ...messages[index]!.entryAt(sentAt) })),
        }),
        // A request still hanging at an entry's deadline must not be accepted after it. (Whole
        // milliseconds, rounded down: AbortSignal.timeout refuses a fraction.)
        { abortSignal: AbortSignal.timeout(Math.max(1, Math.floor(Math.min(this.options.requestTimeoutMs, earliestDeadline - performance.now())))) },
      );
      for (const sent of answer.Successful ?? []) results[Number(sent.Id)] = { messageId: sent.MessageId ?? '', sentAt };
      for (const failed of answer.Failed ?? []) {
        results[Number(failed.Id)] = new BatchEntryFailed(failed.Code ?? 'Unknown', failed.Message ?? 'SQS gave no reason', failed.SenderFault ?? false);
      }
    } catch (error) {
      for (const index of indexes) results[index] = error as Error;
    }
  }
}

/** Splits `indexes`, in order, into runs whose sizes add up to at most `limit` (a message alone may reach it). */
function bySize(indexes: number[], sizeOf: (index: number) => number, limit: number): number[][] {
  const chunks: number[][] = [];
  let current: number[] = [];
  let currentBytes = 0;
  for (const index of indexes) {
    const bytes = sizeOf(index);
    if (current.length > 0 && currentBytes + bytes > limit) {
      chunks.push(current);
      [current, currentBytes] = [[], 0];
    }
    current.push(index);
    currentBytes += bytes;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
