import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { Context } from '@temporalio/activity';
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
import type { Digest } from '../digest';
import type { Deliverable } from '../notification';
import { MAX_PRESTAGE_SECONDS } from '../policy';
import { measureSend, recordSend, recordSendFailure } from './metrics';
import { zoneDataVersion } from '../zoneData';
import { SendBatcher, SendDeadlinePassed } from './sendBatcher';
import { classifySqsError } from './sqsErrors';

export interface DeliveryRequest {
  /** A notification, a legacy body forwarded as it was, or a morning's digest. */
  notification: Deliverable | Digest;
  /** When the notification was scheduled (workflow start), ISO-8601. */
  scheduledAt: string;
  /**
   * The workflow's clock when it decided to send (its task's time, which is the Temporal server's),
   * ISO-8601. Every instant of the send is reckoned from this and the worker's monotonic clock, never
   * from the worker's wall clock, which may be off by seconds. Absent (older workflows): the wall clock.
   */
  decidedAt?: string;
  /**
   * Set when the workflow sends before the release (staging): the message must not be receivable
   * before this instant, so it carries the SQS delay that remains. Absent, it is sent to be
   * receivable at once.
   */
  releaseAt?: string;
  /**
   * The decision's release instant, also when the send is not staged, ISO-8601. Used only for the
   * metrics (how late after its release a message became receivable); absent: that lag is not
   * recorded for an unstaged send.
   */
  dueAt?: string;
  /** Why it goes out when it does: `immediate`, `held-quiet-hours` or `not-before`. */
  releaseReason: string;
  /** It must be receivable before this instant (the next quiet window or its expiry); absent: no bound. */
  deadline?: string;
  /** The decision was made under a window narrower than the law's (a test or benchmark); the message says so. */
  narrowerThanLaw?: boolean;
}

export interface DeliveryResult {
  /** The delivery queue's message id. */
  messageId: string;
  /** When its batch was handed to SQS (the earliest instant SQS can have taken it), ISO-8601. */
  stagedAt: string;
  /**
   * The earliest instant SQS can hand it out: stagedAt plus its delay, ISO-8601. "Never early" is
   * judged on this (it is never before the release).
   */
  releasedAt: string;
  /**
   * The latest instant SQS can have first handed it out: when the call returned, plus the part of
   * the worker's delay that cannot be measured (UNMEASURED_LAG_MS), plus its delay, ISO-8601. The
   * deadline is judged on this, and so is the compliance report. Absent from older results.
   */
  receivableBy?: string;
  /**
   * The IANA time zone data this worker decides with (`process.versions.tz`, e.g. "2026e"), also in
   * the message's `zoneData` attribute: the workflow records it in its evidence. Absent from results
   * recorded by workers before it was returned.
   */
  zoneData?: string;
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

/**
 * A send must be receivable, at the latest, this long before its deadline (the next quiet window,
 * the expiry): a second to spare.
 */
const DEADLINE_MARGIN_MS = 1_000;

/**
 * What the reckoning of the server's clock cannot see: the time between the workflow task's start
 * on the server and the moment this worker asked for the send (the task's way to the worker, and
 * its wait in a busy worker before the workflow code ran). The wait of the send itself for a free
 * local-activity slot is measured and counted; this covers the rest. The latest instant a message
 * can have become receivable counts it, and so does the deadline: a send that might land after its
 * deadline is not made. At a staged release of 10,000 on one worker on 2 cores, SQS took each
 * message at most 1.18 s (p99 0.75 s) after this reckoning said it was sent (bench/README.md).
 */
export const UNMEASURED_LAG_MS = 3_000;

/** A worker clock this far from the server's is worth an operator's attention (it does not affect sends). */
const SKEW_WARNING_MS = 2_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * How long this local activity waited in this worker for a free slot: from when the workflow asked
 * for it to now, both read on this worker's clock. 0 outside a local activity (tests that call the
 * activity directly, or a regular activity, whose scheduled time is the server's).
 */
function queuedMs(): number {
  try {
    const { info } = Context.current();
    return info.isLocal ? Math.max(0, Date.now() - info.currentAttemptScheduledTimestampMs) : 0;
  } catch {
    return 0;
  }
}

/**
 * The Temporal server's clock as one send reckons it: the time of the workflow task that decided
 * the send, plus the time elapsed on this process's monotonic clock since the send began. It runs
 * behind the server's clock by the task's journey to this worker, never ahead of it, so a delay
 * measured from it can only make a message receivable later than its release, never earlier;
 * and the worker's wall clock plays no part.
 */
export function serverClock(decidedAtMs: number, startedAt = performance.now()) {
  return {
    /** The server's time (epoch ms) at a monotonic time, by default now. */
    instantAt: (monotonic = performance.now()) => decidedAtMs + (monotonic - startedAt),
    /** The monotonic time at which the server's clock reads `instantMs`. */
    monotonicAt: (instantMs: number) => startedAt + (instantMs - decidedAtMs),
  };
}

export function createDeliveryActivities({ sqs, deliveryQueueUrl, maxMessageBytes, sendBatchWindowMs = DEFAULT_SEND_BATCH_WINDOW_MS }: DeliveryDeps) {
  const fifo = isFifoQueue(deliveryQueueUrl);
  let lastSkewWarningMs = 0;
  const warnOfSkew = (skewMs: number) => {
    if (Math.abs(skewMs) < SKEW_WARNING_MS || Date.now() - lastSkewWarningMs < 60_000) return;
    lastSkewWarningMs = Date.now();
    console.warn(
      `this worker's clock is ${(Math.abs(skewMs) / 1000).toFixed(1)} s ${skewMs > 0 ? 'ahead of' : 'behind'} the Temporal server's ` +
        '(sends do not depend on it: their delays and deadlines are measured from the server\'s clock); check its time synchronisation',
    );
  };
  // The process's ICU loads its zone data once: the version cannot change while it runs.
  const zoneData = zoneDataVersion();
  // One per worker: the sends of all the notifications it runs share batches.
  const batcher = new SendBatcher({
    sqs,
    queueUrl: deliveryQueueUrl,
    maxBatchBytes: maxMessageBytes,
    windowMs: sendBatchWindowMs,
    requestTimeoutMs: SEND_TIMEOUT_MS,
  });
  const deliver = async (request: DeliveryRequest): Promise<DeliveryResult> => {
    const { notification } = request;
    // The decision's instant, plus the time this send waited in this worker for a slot, which the
    // worker measures on its own clock: both ends are its, so its skew cancels out.
    const clock = serverClock((request.decidedAt === undefined ? Date.now() : Date.parse(request.decidedAt)) + queuedMs());
    warnOfSkew(Date.now() - clock.instantAt());
    const releaseAtMs = request.releaseAt === undefined ? Number.NEGATIVE_INFINITY : Date.parse(request.releaseAt);
    const deadlineMs = request.deadline === undefined ? Number.POSITIVE_INFINITY : Date.parse(request.deadline);
    const body = deliveryMessageBody(notification);
    const windowClosed = () =>
      ApplicationFailure.nonRetryable(
        `notification ${notification.notificationId} could not be receivable before its deadline ${request.deadline}`,
        FAILURE_TYPES.sendWindowClosed,
      );

    if (releaseAtMs > clock.instantAt()) {
      if (fifo) {
        throw ApplicationFailure.nonRetryable('a FIFO queue cannot delay a single message; send at the release instead', FAILURE_TYPES.stagingUnsupported);
      }
      const remainingMs = releaseAtMs - clock.instantAt();
      if (remainingMs > MAX_PRESTAGE_SECONDS * 1000) {
        throw ApplicationFailure.retryable(`the release is ${Math.round(remainingMs)} ms away, more than SQS can delay a message`, 'TooEarlyToStage');
      }
      await sleep((remainingMs % 1000) + ALIGNMENT_MARGIN_MS);
    }
    // Judged on the latest it could be receivable: now (as late as it may really be) or its release.
    if (Math.max(clock.instantAt() + UNMEASURED_LAG_MS, releaseAtMs) + DEADLINE_MARGIN_MS >= deadlineMs) throw windowClosed();
    // The delay and the timestamps are those of the instant its batch leaves, a window later at most.
    const sentAt = (sentAtMonotonic: number) => {
      const sentAtMs = clock.instantAt(sentAtMonotonic);
      const delaySeconds = Math.max(0, Math.ceil((releaseAtMs - sentAtMs) / 1000));
      const stagedAt = new Date(sentAtMs).toISOString();
      const releasedAt = new Date(sentAtMs + delaySeconds * 1000).toISOString();
      const attributes = deliveryMessageAttributes(notification, {
        scheduledAt: request.scheduledAt,
        releasedAt,
        stagedAt,
        releaseReason: request.releaseReason,
        narrowerThanLaw: request.narrowerThanLaw,
        zoneData,
      });
      return { delaySeconds, stagedAt, releasedAt, attributes };
    };
    // Every timestamp has the same length, so the size does not depend on the instant.
    const size = messageBytes(body, sentAt(performance.now()).attributes);
    if (size > maxMessageBytes) {
      throw ApplicationFailure.nonRetryable(
        `notification ${notification.notificationId} is ${size} bytes with its attributes, over the delivery queue's limit of ${maxMessageBytes}`,
        FAILURE_TYPES.messageTooLarge,
      );
    }
    try {
      const sent = await batcher.send({
        bytes: size,
        // Its batch must not leave so late that the message might land after the deadline.
        deadline: clock.monotonicAt(deadlineMs - DEADLINE_MARGIN_MS - UNMEASURED_LAG_MS),
        entryAt: (sentAtMonotonic) => {
          const { delaySeconds, attributes } = sentAt(sentAtMonotonic);
          return {
            MessageBody: body,
            MessageAttributes: attributes,
            DelaySeconds: delaySeconds || undefined,
            MessageGroupId: fifo ? fifoMessageId(notification.notificationId) : undefined,
            MessageDeduplicationId: fifo ? fifoMessageId(notification.notificationId) : undefined,
          };
        },
      });
      const { stagedAt, releasedAt, delaySeconds } = sentAt(sent.sentAt);
      const receivableBy = new Date(clock.instantAt() + UNMEASURED_LAG_MS + delaySeconds * 1000).toISOString();
      return { messageId: sent.messageId, stagedAt, releasedAt, receivableBy, zoneData };
    } catch (error) {
      if (error instanceof SendDeadlinePassed) throw windowClosed();
      throw classifySqsError(error, deliveryQueueUrl);
    }
  };

  return {
    /**
     * Puts one notification on the delivery queue, receivable at its release instant and not
     * before: sent earlier (staged), it carries the SQS delay that remains. On a FIFO queue the
     * notification id (hashed when too long) is both the group and the deduplication id, so a
     * retry after a crash (within SQS's 5-minute deduplication window) does not produce a second
     * message. A standard queue is at-least-once: the downstream deduplicates on `notificationId`.
     */
    async deliverNotification(request: DeliveryRequest): Promise<DeliveryResult> {
      try {
        const result = await deliver(request);
        recordSend(measureSend(request, result), Date.parse(result.stagedAt));
        return result;
      } catch (error) {
        recordSendFailure(request, error instanceof ApplicationFailure ? (error.type ?? 'Error') : error instanceof Error ? error.name : 'Error');
        throw error;
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
