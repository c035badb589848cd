/**
 * One notification, held through the recipient's quiet window and then handed to the delivery queue.
 *
 * The client starts this workflow with a start delay that ends `prestageSeconds` before the release,
 * so a held notification costs no timer, no task and no worker memory while it waits. Its first task
 * decides again from its input, sends the message with the SQS delay that remains (a local activity:
 * no activity task to match), and completes.
 *
 * Deterministic: the only clock is the workflow's own (Date.now() inside a workflow is replayed from
 * history), and every side effect is the deliverNotification activity.
 */
import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities, DeliveryResult } from '../activities';
import { FAILURE_TYPES } from '../failureTypes';
import {
  InvalidNotificationError,
  parseConsentChange,
  parseDeliverable,
  parseReschedule,
  policySubjectOf,
  type Deliverable,
  type NotificationResult,
  type NotificationStatus,
} from '../notification';
import {
  assertValidPolicy,
  DEFAULT_POLICY,
  nextAllowedSendTime,
  prestageLeadMs,
  sendDeadline,
  wakeUpAt,
  type QuietHoursPolicy,
  type SendDecision,
} from '../policy';
import {
  heldSearchAttributes,
  NotificationReleaseAtKey,
  NotificationStatusKey,
} from '../searchAttributes';
import {
  cancelUpdate,
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
  /** Send this many seconds before the release, with an SQS delay (0–900; 0 sends at the release). */
  prestageSeconds?: number;
}

/**
 * One send attempt (a local activity: no activity task to match, start and complete on the server).
 * Retries are the workflow's own, on its own clock, so that they stop at the send's deadline (see
 * sendDeadline): a local activity's own timeouts run on the worker's wall clock instead.
 */
const { deliverNotification } = proxyLocalActivities<Pick<Activities, 'deliverNotification'>>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 1 },
});

/** Backoff between failed attempts (throttling, network, SQS 5xx): 1 s, doubling, at most a minute. */
export function retryBackoffMs(failedAttempts: number): number {
  return Math.min(60_000, 1_000 * 2 ** Math.max(0, failedAttempts - 1));
}

export async function notificationWorkflow(input: NotificationWorkflowInput): Promise<NotificationResult> {
  const deliverable = parsedOrFail(input.notification, parseDeliverable);
  // What the policy reads; updates change it (consent, notBefore), never the message itself.
  const subject = policySubjectOf(deliverable);
  const policy = validatedPolicy(input.policy ?? DEFAULT_POLICY);
  let leadMs = validatedLead(input.prestageSeconds ?? 0);
  const scheduledAt = workflowInfo().startTime;

  // Decided again from the input and the instant it was scheduled, exactly as the client did when it
  // chose the start delay: the same release instant, and the reason an auditor sees.
  let decision: SendDecision = nextAllowedSendTime(scheduledAt, subject, policy);
  let status: NotificationStatus = 'held';
  let delivery: DeliveryResult | undefined;
  let cancelRequested = false;
  let decisionChanged = false;
  // Failed send attempts since the last decision, and when the next may run.
  let failedAttempts = 0;
  let retryAtMs: number | undefined;

  const result = (): NotificationResult => ({
    status,
    releaseAt: decision.releaseAt.toISOString(),
    ...(delivery ? { releasedAt: delivery.releasedAt, stagedAt: delivery.stagedAt, messageId: delivery.messageId } : {}),
  });
  /** Decides again at `atMs` (now, or later) after a consent change, a reschedule or a closed send window. */
  const redecide = (atMs: number = Date.now()): NotificationResult => {
    decision = nextAllowedSendTime(new Date(atMs), subject, policy);
    decisionChanged = true;
    [failedAttempts, retryAtMs] = [0, undefined];
    recordSearchAttributes({ status, releaseAt: decision.releaseAt });
    return result();
  };
  const rejectUnlessHeld = (): void => {
    if (status !== 'held') {
      throw ApplicationFailure.nonRetryable(`notification is ${status}, no longer held`, FAILURE_TYPES.notHeld);
    }
  };

  setHandler(statusQuery, result);
  setHandler(cancelUpdate, async (): Promise<CancelOutcome> => {
    if (status === 'held') cancelRequested = true;
    // Wait for the outcome: cancelled, or (when delivery had already begun) how the send ended,
    // rather than pretend it was stopped.
    await condition(() => status !== 'held' && status !== 'sending');
    return status === 'cancelled'
      ? { cancelled: true, status, releaseAt: decision.releaseAt.toISOString() }
      : { cancelled: false, ...result() };
  });
  // Validators run before an update is accepted into history, so a bad argument (a string
  // "false" for a boolean, an instant without its offset) is refused and changes nothing.
  setHandler(
    rescheduleUpdate,
    (change) => {
      subject.notBefore = parsedOrFail(change, parseReschedule).notBefore ?? undefined;
      return redecide();
    },
    {
      validator: (change) => {
        parsedOrFail(change, parseReschedule);
        rejectUnlessHeld();
      },
    },
  );
  setHandler(
    updateConsentUpdate,
    (change) => {
      subject.recipient.nightConsent = parsedOrFail(change, parseConsentChange).nightConsent;
      return redecide();
    },
    {
      validator: (change) => {
        parsedOrFail(change, parseConsentChange);
        rejectUnlessHeld();
      },
    },
  );

  recordStartAttributesIfMissing(deliverable, decision);

  // Wait until it is time to send (the release minus the lead), to retry, or to expire. A consent
  // change or a reschedule wakes the loop to decide again; a cancel ends it.
  try {
    for (;;) {
      decisionChanged = false;
      const wakeAtMs = retryAtMs ?? wakeUpAt(decision, subject.expiresAt, leadMs).getTime();
      if (wakeAtMs > Date.now()) await condition(() => cancelRequested || decisionChanged, wakeAtMs - Date.now());
      if (cancelRequested) {
        status = 'cancelled';
        break;
      }
      if (decisionChanged || Date.now() < wakeAtMs) continue;
      if (decision.expired) {
        status = 'expired';
        break;
      }
      const deadline = sendDeadline(decision.releaseAt, subject, policy)?.getTime();
      if (deadline !== undefined && Date.now() >= deadline) {
        // The queue kept failing until the next quiet window (or the expiry): never send later than
        // that. Decide again from the deadline: the next morning, or expired.
        redecide(Math.max(Date.now(), deadline));
        continue;
      }
      status = 'sending';
      // Once an attempt has begun it runs to its end even if the workflow is cancelled, so the
      // outcome that is reported is the one that happened.
      const sent = await CancellationScope.nonCancellable(() => sendOnce(deliverable, scheduledAt, decision, deadline));
      if (sent.outcome === 'delivered') {
        delivery = sent.delivery;
        status = 'delivered';
        break;
      }
      status = 'held';
      if (sent.outcome === 'staging-unsupported') leadMs = 0;
      if (sent.outcome === 'window-closed') redecide(Math.max(Date.now(), deadline ?? Date.now()));
      if (sent.outcome === 'retry') {
        failedAttempts += 1;
        // Never past the deadline: there the loop decides again (the next morning, or expired).
        retryAtMs = Math.min(Date.now() + retryBackoffMs(failedAttempts), deadline ?? Number.POSITIVE_INFINITY);
      }
    }
  } catch (error) {
    // Cancellation requested through Temporal itself (Web UI, `temporal workflow cancel`).
    if (isCancellation(error)) status = 'cancelled';
    else if (error instanceof DeliveryFailure) status = 'failed';
    else throw error;
    recordSearchAttributes({ status });
    // Let a pending cancel update see the outcome before the workflow closes (non-cancellable:
    // after a Temporal cancellation any cancellable wait would throw instead). Usually none is
    // pending, and then no scope is opened: each promise a workflow makes costs its worker a stack trace.
    if (!allHandlersFinished()) await CancellationScope.nonCancellable(() => condition(allHandlersFinished));
    if (error instanceof DeliveryFailure) throw error.failure;
    return result();
  }
  recordSearchAttributes({ status });
  if (!allHandlersFinished()) await CancellationScope.nonCancellable(() => condition(allHandlersFinished));
  return result();
}

type SendOutcome =
  | { outcome: 'delivered'; delivery: DeliveryResult }
  /** Throttling, network, a timeout: try again after a backoff, while the deadline allows. */
  | { outcome: 'retry' }
  /** The activity found the deadline passed: decide again. */
  | { outcome: 'window-closed' }
  | { outcome: 'staging-unsupported' };

/** A send that no retry can fix; carries the workflow's failure. */
class DeliveryFailure extends Error {
  constructor(readonly failure: ApplicationFailure) {
    super(failure.message);
  }
}

/** One attempt at the send; throws DeliveryFailure for what no retry can fix (missing queue, message refused or too large). */
async function sendOnce(deliverable: Deliverable, scheduledAt: Date, decision: SendDecision, deadlineMs: number | undefined): Promise<SendOutcome> {
  try {
    const delivery = await deliverNotification({
      notification: deliverable,
      scheduledAt: scheduledAt.toISOString(),
      // Only a send before the release is staged; the workflow's clock (the server's) decides.
      ...(decision.releaseAt.getTime() > Date.now() ? { releaseAt: decision.releaseAt.toISOString() } : {}),
      releaseReason: decision.reason,
      ...(deadlineMs !== undefined ? { deadline: new Date(deadlineMs).toISOString() } : {}),
    });
    return { outcome: 'delivered', delivery };
  } catch (error) {
    // A local activity's failure arrives as the activity's own ApplicationFailure (a regular
    // activity's is wrapped in an ActivityFailure); a timeout as a TimeoutFailure.
    const cause = error instanceof ActivityFailure ? error.cause : error;
    if (!(cause instanceof ApplicationFailure) || !cause.nonRetryable) return { outcome: 'retry' };
    if (cause.type === FAILURE_TYPES.sendWindowClosed) return { outcome: 'window-closed' };
    if (cause.type === FAILURE_TYPES.stagingUnsupported) return { outcome: 'staging-unsupported' };
    throw new DeliveryFailure(
      ApplicationFailure.create({
        type: FAILURE_TYPES.deliveryFailed,
        message: `the delivery queue refused notification ${deliverable.notificationId}: ${cause.message}`,
        nonRetryable: true,
        cause,
      }),
    );
  }
}

/** Parses with a contract parser; a bad value becomes a typed, non-retryable failure naming the field. */
function parsedOrFail<T>(raw: unknown, parse: (raw: unknown) => T): T {
  try {
    return parse(raw);
  } catch (error) {
    if (error instanceof InvalidNotificationError) {
      throw ApplicationFailure.create({
        message: error.message,
        type: FAILURE_TYPES.invalidNotification,
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
    throw ApplicationFailure.nonRetryable(`invalid quiet-hours policy: ${(error as Error).message}`, FAILURE_TYPES.invalidPolicy);
  }
}

function validatedLead(prestageSeconds: number): number {
  try {
    return prestageLeadMs(prestageSeconds);
  } catch (error) {
    throw ApplicationFailure.nonRetryable(`invalid prestageSeconds: ${(error as Error).message}`, FAILURE_TYPES.invalidPolicy);
  }
}

function recordSearchAttributes(change: { status: NotificationStatus; releaseAt?: Date }): void {
  upsertSearchAttributes([
    { key: NotificationStatusKey, value: change.status },
    ...(change.releaseAt ? [{ key: NotificationReleaseAtKey, value: change.releaseAt }] : []),
  ]);
}

/**
 * The client sets the search attributes when it starts the workflow, so the Web UI lists a held
 * notification without a workflow task. A workflow started some other way (the Web UI, the
 * temporal CLI), or one that decided a different release than its client (clocks a few ms apart at
 * a window edge), records them here. The recipient's hashed id needs the client's key and is left out.
 */
function recordStartAttributesIfMissing(deliverable: Deliverable, decision: SendDecision): void {
  const attributes = workflowInfo().typedSearchAttributes;
  const recordedReleaseAt = attributes.get(NotificationReleaseAtKey);
  if (attributes.get(NotificationStatusKey) === undefined) {
    upsertSearchAttributes(heldSearchAttributes(deliverable, decision.releaseAt));
  } else if (recordedReleaseAt?.getTime() !== decision.releaseAt.getTime()) {
    upsertSearchAttributes([{ key: NotificationReleaseAtKey, value: decision.releaseAt }]);
  }
}
