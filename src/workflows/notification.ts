/**
 * One notification, held through the recipient's quiet window and then handed to the delivery queue.
 * Deterministic: the only clock is the workflow's own (Date.now() inside a workflow is replayed
 * from history), and every side effect is the deliverNotification activity.
 */
import {
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { z, ZodTypeAny } from 'zod';
import {
  ConsentChangeSchema,
  InvalidNotificationError,
  NotificationSchema,
  parseWith,
  RescheduleSchema,
  type Notification,
  type NotificationResult,
  type NotificationStatus,
} from '../notification';
import { assertValidPolicy, DEFAULT_POLICY, nextAllowedSendTime, type QuietHoursPolicy, type SendDecision } from '../policy';
import {
  NotificationCategoryKey,
  NotificationChannelKey,
  NotificationReleaseAtKey,
  NotificationStatusKey,
  RecipientIdKey,
} from '../searchAttributes';
import {
  cancelUpdate,
  NOT_HELD_ERROR,
  rescheduleUpdate,
  statusQuery,
  updateConsentUpdate,
  type CancelOutcome,
} from './notificationMessages';

export interface NotificationWorkflowInput {
  /** Validated again here: a workflow can be started by anything that speaks Temporal. */
  notification: unknown;
  /** The quiet-hours policy in force when it was scheduled; recorded in history with the input. */
  policy?: QuietHoursPolicy;
}

const { deliverNotification } = proxyActivities<Pick<Activities, 'deliverNotification'>>({
  startToCloseTimeout: '30 seconds',
  // Throttling and network errors retry with backoff for as long as it takes; the activity turns
  // what no retry can fix (missing queue, message too large) into a non-retryable failure.
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

export const INVALID_NOTIFICATION_ERROR = 'InvalidNotification';
export const INVALID_POLICY_ERROR = 'InvalidPolicy';

export async function notificationWorkflow(input: NotificationWorkflowInput): Promise<NotificationResult> {
  const notification = parsedOrFail(NotificationSchema, input.notification, 'notification');
  const policy = validatedPolicy(input.policy ?? DEFAULT_POLICY);
  const scheduledAt = new Date(workflowInfo().startTime).toISOString();

  let status: NotificationStatus = 'held';
  let decision: SendDecision = decide(notification, policy);
  let releasedAt: string | undefined;
  let messageId: string | undefined;
  let cancelRequested = false;
  let decisionChanged = false;

  const result = (): NotificationResult => ({
    status,
    releaseAt: decision.releaseAt.toISOString(),
    ...(releasedAt ? { releasedAt } : {}),
    ...(messageId ? { messageId } : {}),
  });
  const redecide = (): NotificationResult => {
    decision = decide(notification, policy);
    decisionChanged = true;
    recordSearchAttributes(status, decision);
    return result();
  };
  const rejectUnlessHeld = (): void => {
    if (status !== 'held') {
      throw ApplicationFailure.nonRetryable(`notification is ${status}, no longer held`, NOT_HELD_ERROR);
    }
  };

  setHandler(statusQuery, result);
  setHandler(
    cancelUpdate,
    async (): Promise<CancelOutcome> => {
      if (status === 'held') cancelRequested = true;
      // Wait for the outcome: cancelled, or (when delivery had already begun) how the send ended,
      // rather than pretend it was stopped.
      await condition(() => status !== 'held' && status !== 'sending');
      return status === 'cancelled'
        ? { cancelled: true, status, releaseAt: decision.releaseAt.toISOString() }
        : { cancelled: false, ...result() };
    },
  );
  // Validators run before an update is accepted into history, so a bad argument (a string
  // "false" for a boolean, an instant without its offset) is refused and changes nothing.
  setHandler(
    rescheduleUpdate,
    (change) => {
      notification.notBefore = parsedOrFail(RescheduleSchema, change, 'reschedule').notBefore ?? undefined;
      return redecide();
    },
    {
      validator: (change) => {
        parsedOrFail(RescheduleSchema, change, 'reschedule');
        rejectUnlessHeld();
      },
    },
  );
  setHandler(
    updateConsentUpdate,
    (change) => {
      notification.recipient.nightConsent = parsedOrFail(ConsentChangeSchema, change, 'consent change').nightConsent;
      return redecide();
    },
    {
      validator: (change) => {
        parsedOrFail(ConsentChangeSchema, change, 'consent change');
        rejectUnlessHeld();
      },
    },
  );

  recordSearchAttributes(status, decision, notification);

  // Hold until the release time, or the expiry if that comes first. A consent change or a
  // reschedule wakes the loop to decide again; a cancel ends it.
  try {
    for (;;) {
      decisionChanged = false;
      const deadline = Math.min(decision.releaseAt.getTime(), expiryMs(notification));
      const remainingMs = deadline - Date.now();
      if (remainingMs > 0) await condition(() => cancelRequested || decisionChanged, remainingMs);
      if (cancelRequested) {
        status = 'cancelled';
        break;
      }
      if (decisionChanged) continue;
      const now = Date.now();
      if (now >= expiryMs(notification) && decision.releaseAt.getTime() > expiryMs(notification)) {
        status = 'expired';
        break;
      }
      if (now >= decision.releaseAt.getTime()) break;
    }
  } catch (error) {
    // Cancellation requested through Temporal itself (Web UI, `temporal workflow cancel`).
    if (!isCancellation(error)) throw error;
    status = 'cancelled';
  }

  if (status === 'held') {
    status = 'sending';
    recordSearchAttributes(status, decision);
    releasedAt = new Date(Date.now()).toISOString();
    // Once the send has begun it runs to its end even if the workflow is cancelled, so the
    // outcome that is reported is the one that happened.
    const sent = await CancellationScope.nonCancellable(() =>
      deliverNotification({ notification, scheduledAt, releasedAt: releasedAt!, releaseReason: decision.reason }),
    );
    messageId = sent.messageId;
    status = 'delivered';
  }
  recordSearchAttributes(status, decision);
  // Let a pending cancel update see the outcome before the workflow closes (non-cancellable:
  // after a Temporal cancellation any cancellable wait would throw instead).
  await CancellationScope.nonCancellable(() => condition(allHandlersFinished));
  return result();
}

/** Parses with a contract schema; a bad value becomes a typed, non-retryable failure naming the field. */
function parsedOrFail<T extends ZodTypeAny>(schema: T, raw: unknown, what: string): z.output<T> {
  try {
    return parseWith(schema, raw, what);
  } catch (error) {
    if (error instanceof InvalidNotificationError) {
      throw ApplicationFailure.create({
        message: error.message,
        type: INVALID_NOTIFICATION_ERROR,
        nonRetryable: true,
        details: [error.issues],
      });
    }
    throw error;
  }
}

/** A bad policy would throw on every decision, failing the workflow task forever: fail the workflow instead. */
function validatedPolicy(policy: QuietHoursPolicy): QuietHoursPolicy {
  try {
    return assertValidPolicy(policy);
  } catch (error) {
    throw ApplicationFailure.nonRetryable(`invalid quiet-hours policy: ${(error as Error).message}`, INVALID_POLICY_ERROR);
  }
}

function decide(notification: Notification, policy: QuietHoursPolicy): SendDecision {
  return nextAllowedSendTime(new Date(Date.now()), notification, policy);
}

function expiryMs(notification: Notification): number {
  return notification.expiresAt ? Date.parse(notification.expiresAt) : Number.POSITIVE_INFINITY;
}

function recordSearchAttributes(status: NotificationStatus, decision: SendDecision, notification?: Notification): void {
  upsertSearchAttributes([
    { key: NotificationStatusKey, value: status },
    { key: NotificationReleaseAtKey, value: decision.releaseAt },
    ...(notification
      ? [
          { key: NotificationCategoryKey, value: notification.category },
          { key: NotificationChannelKey, value: notification.channel },
          { key: RecipientIdKey, value: notification.recipient.id },
        ]
      : []),
  ]);
}
