/**
 * One notification, held through the recipient's quiet window and then handed to the delivery queue.
 *
 * The client starts this workflow with a start delay that ends when there is something to do (the
 * staging lead before the release, or the release itself), so a held notification costs no timer,
 * no task and no worker memory while it waits. Its first task decides again from its input and
 * sends the message with the SQS delay that remains (a local activity: no activity task to match).
 *
 * Changes (cancel, consent, reschedule) are accepted while it is held and while a send attempt is
 * under way: one that arrives during an attempt waits for it, and takes effect if the attempt did
 * not deliver. After delivery (or staging) they are refused with a typed failure that says since
 * when the message is on the queue.
 *
 * Deterministic: the only clock is the workflow's own (Date.now() inside a workflow is the time of
 * its task, the server's, replayed from history), and every side effect is an activity.
 */
import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities, DeliveryResult } from '../activities';
import { DIGEST_ENVELOPE_BYTES, payloadText } from '../digest';
import { formatEvidence } from '../evidence';
import { FAILURE_TYPES, MESSAGE_FAILURES, MISCONFIGURATION_FAILURES } from '../failureTypes';
import {
  InvalidNotificationError,
  isLegacyForward,
  OPEN_STATUSES,
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
  isHeldCategory,
  isStageable,
  keepsLawWindow,
  morningOf,
  NO_MORNING_CAP,
  nextAllowedSendTime,
  prestageLeadMs,
  sendDeadline,
  wakeUpAt,
  type MorningRules,
  type MorningVerdict,
  type QuietHoursPolicy,
  type SendDecision,
} from '../policy';
import { heldSearchAttributes, NotificationEvidenceKey, NotificationReleaseAtKey, NotificationStatusKey, RecipientIdKey } from '../searchAttributes';
import { currentDetails } from '../webUiText';
import type { MorningGateInput } from './morningGate';
import { morningGateId, morningVerdictUpdate, type GateRegistration, type MorningAssignment } from './morningGateMessages';
import { cancelUpdate, rescheduleUpdate, statusQuery, updateConsentUpdate, type CancelOutcome } from './notificationMessages';

/** How long a failing send is tried before the notification ends `failed`. */
export interface SendRetryLimits {
  /** Release windows in which every attempt failed (for a notification without a window: days). */
  maxFailedWindows: number;
  /** How long a queue that is missing or refuses access is retried, from its first such failure. */
  misconfiguredGraceSeconds: number;
}

export const DEFAULT_SEND_RETRY_LIMITS: SendRetryLimits = Object.freeze({ maxFailedWindows: 3, misconfiguredGraceSeconds: 900 });

export interface NotificationWorkflowInput {
  /** Validated again here: a workflow can be started by anything that speaks Temporal. */
  notification: unknown;
  /** The quiet-hours policy in force when it was scheduled; recorded in history with the input. */
  policy?: QuietHoursPolicy;
  /** Send this many seconds before the release, with an SQS delay (0–900; 0 sends at the release). */
  prestageSeconds?: number;
  retryLimits?: SendRetryLimits;
  /** The morning it is held for and its gate's verdict, when a cap or a collapse key concerns it. */
  morning?: MorningAssignment;
  /** The morning cap in force when it was scheduled: a notification that moves to another morning registers under it. */
  morningRules?: MorningRules;
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

/** A notification that moves to another morning (a cancel, consent, a reschedule) leaves its gate and joins another. */
const { withdrawFromGate, registerWithGate } = proxyLocalActivities<Pick<Activities, 'withdrawFromGate' | 'registerWithGate'>>({
  startToCloseTimeout: '3 minutes',
});

/** The status a gate's verdict gives a held notification. */
function statusOfVerdict(verdict: MorningVerdict): NotificationStatus {
  return verdict.outcome === 'admitted' ? 'held' : verdict.outcome;
}

/** Asked only of a workflow whose policy is narrower than the law's: whether this worker allows that. */
const { narrowerQuietHoursAllowed } = proxyLocalActivities<Pick<Activities, 'narrowerQuietHoursAllowed'>>({
  startToCloseTimeout: '10 seconds',
});

/** Backoff between failed attempts (throttling, network, SQS 5xx): 1 s, doubling, at most a minute. */
export function retryBackoffMs(failedAttempts: number): number {
  return Math.min(60_000, 1_000 * 2 ** Math.max(0, failedAttempts - 1));
}

/** Without a quiet window to end a retry period, a day of failing counts as one failed window. */
const RETRY_PERIOD_WITHOUT_WINDOW_MS = 24 * 3_600_000;

export async function notificationWorkflow(input: NotificationWorkflowInput): Promise<NotificationResult> {
  const settings = parsedInput(input);
  const deliverable = parsedOrFail(settings.notification, parseDeliverable);
  // What the policy reads; updates change it (consent, notBefore), never the message itself.
  const subject = policySubjectOf(deliverable);
  const policy = validatedPolicy(settings.policy ?? DEFAULT_POLICY);
  let leadMs = validatedLead(settings.prestageSeconds ?? 0);
  const limits = settings.retryLimits ?? DEFAULT_SEND_RETRY_LIMITS;
  const scheduledAt = workflowInfo().startTime;

  // Decided again from the input and the instant it was scheduled, exactly as the client did when it
  // chose the start delay: the same release instant, and the reason an auditor sees.
  let decision: SendDecision = nextAllowedSendTime(scheduledAt, subject, policy);
  let decidedWithConsent = subject.recipient.nightConsent;
  let morning: MorningAssignment | undefined = settings.morning;
  const morningRules = settings.morningRules ?? NO_MORNING_CAP;
  let status: NotificationStatus = morning ? statusOfVerdict(morning.verdict) : 'held';
  let delivery: DeliveryResult | undefined;
  let cancelRequested = false;
  let decisionChanged = false;
  // Handlers of changes that arrived during a send attempt, waiting to see how it ends.
  let waitingForAttempt = 0;
  // Failed attempts since the last decision, when the next may run, and what went wrong last.
  let failedAttempts = 0;
  let retryAtMs: number | undefined;
  let lastError: ApplicationFailure | undefined;
  let failedWindows = 0;
  let retryPeriodStartMs: number | undefined;
  let misconfiguredSinceMs: number | undefined;
  let recordedReleaseAtMs: number | undefined;

  const result = (): NotificationResult => ({
    status,
    releaseAt: decision.releaseAt.toISOString(),
    releaseReason: decision.reason,
    ...(subject.expiresAt ? { expiresAt: subject.expiresAt } : {}),
    ...(delivery ? { releasedAt: delivery.releasedAt, stagedAt: delivery.stagedAt, messageId: delivery.messageId } : {}),
    ...(lastError && status !== 'delivered' ? { lastError: lastError.message, failedAttempts, failedWindows } : {}),
    ...(decision.narrowerThanLaw ? { narrowerThanLaw: true as const } : {}),
    ...(morning?.verdict.outcome === 'collapsed' ? { replacedBy: morning.verdict.replacedBy } : {}),
    ...(morning?.verdict.outcome === 'digested' ? { digest: { notificationId: digestIdOf(morning.gateId) } } : {}),
  });
  /** Writes what changed of status, release instant and evidence, in one upsert (each is a billed action). */
  const record = (change: { status?: NotificationStatus; evidence?: boolean } = {}): void => {
    const releaseChanged = recordedReleaseAtMs !== decision.releaseAt.getTime();
    const pairs = [
      ...(change.status ? [{ key: NotificationStatusKey, value: change.status }] : []),
      ...(releaseChanged ? [{ key: NotificationReleaseAtKey, value: decision.releaseAt }] : []),
      ...(change.evidence ? [{ key: NotificationEvidenceKey, value: evidenceText() }] : []),
    ];
    if (pairs.length > 0) upsertSearchAttributes(pairs);
    recordedReleaseAtMs = decision.releaseAt.getTime();
    // The Web UI's "current details" (answered by a worker, free: no command, nothing in history).
    setCurrentDetails(currentDetails(result(), policy.defaultTimeZone));
  };
  const evidenceText = (): string =>
    formatEvidence({
      reason: decision.reason,
      nightConsent: decidedWithConsent,
      heldCategory: isHeldCategory(subject.category, policy),
      zone: subject.recipient.timeZone || policy.defaultTimeZone,
      window: `${policy.quietStart}-${policy.quietEnd}`,
      ...(delivery ? { receivableAt: delivery.releasedAt } : {}),
      ...(decision.narrowerThanLaw ? { narrowerThanLaw: true } : {}),
      ...(delivery?.zoneData ? { zoneData: delivery.zoneData } : {}),
    });
  /** Decides again at `atMs` (now, or later) after a consent change, a reschedule or a closed send window. */
  const redecide = (atMs: number = Date.now()): NotificationResult => {
    decision = nextAllowedSendTime(new Date(atMs), subject, policy);
    decidedWithConsent = subject.recipient.nightConsent;
    decisionChanged = true;
    [failedAttempts, retryAtMs, misconfiguredSinceMs] = [0, undefined, undefined];
    record();
    return result();
  };
  /**
   * After a decision changed: if it is now for another morning (or none), leave the old gate, and
   * register with the new one when the cap or a collapse key concerns it; the verdict is its status.
   */
  const morningFor = (): { gateId?: string; releaseAt?: Date } => {
    const releaseAt = morningOf(decision, { category: subject.category, collapseKey: deliverableCollapseKey(deliverable) }, morningRules);
    const recipientHash = workflowInfo().typedSearchAttributes.get(RecipientIdKey);
    return releaseAt && recipientHash && !isLegacyForward(deliverable) ? { gateId: morningGateId(recipientHash, releaseAt), releaseAt } : {};
  };
  /** Whether the decision now belongs to another morning than the one its gate holds it for. */
  const morningMoved = (): boolean => morning?.gateId !== morningFor().gateId;
  // While it moves, the loop waits: nothing is sent on a verdict that is about to change.
  let moving = false;
  const moveMorning = async (): Promise<void> => {
    if (!morningMoved()) return;
    const { gateId, releaseAt } = morningFor();
    moving = true;
    try {
      if (morning) await withdrawFromGate({ gateId: morning.gateId, notificationId: deliverable.notificationId });
      morning = undefined;
      if (gateId && releaseAt) morning = { gateId, verdict: await registerWithGate({ gateId, input: gateInput(releaseAt), registration: registration() }) };
    } finally {
      moving = false;
    }
    const moved = morning ? statusOfVerdict(morning.verdict) : 'held';
    if (status !== moved && OPEN_STATUSES.includes(status) && status !== 'retrying') {
      status = moved;
      record({ status });
    }
  };
  const registration = (): GateRegistration => {
    const notification = deliverable as Exclude<typeof deliverable, { kind: 'legacy-forward' }>;
    return {
      notificationId: notification.notificationId,
      category: notification.category,
      channel: notification.channel,
      ...(notification.collapseKey !== undefined ? { collapseKey: notification.collapseKey } : {}),
      ...(notification.priority !== undefined ? { priority: notification.priority } : {}),
      scheduledAtMs: scheduledAt.getTime(),
      ...(morningRules.overflow === 'digest' ? { digestEntry: { notificationId: notification.notificationId, payloadJson: payloadText(notification) } } : {}),
    };
  };
  const gateInput = (releaseAt: Date): MorningGateInput => ({
    recipientId: (deliverable as { recipient: { id: string } }).recipient.id,
    releaseAt: releaseAt.toISOString(),
    rules: morningRules,
    leadMs,
    ...deadlineOf(sendDeadline(releaseAt, { ...subject, category: 'advertising', recipient: { ...subject.recipient, nightConsent: false } }, policy)),
  });
  /** A change that arrives during a send attempt waits for it: it applies only if the attempt did not deliver. */
  const afterAttempt = async (): Promise<void> => {
    if (status !== 'sending') return;
    waitingForAttempt += 1;
    try {
      await condition(() => status !== 'sending');
    } finally {
      waitingForAttempt -= 1;
    }
  };
  const failUnlessOpen = (): void => {
    if (OPEN_STATUSES.includes(status)) return;
    throw ApplicationFailure.create({ message: notOpenMessage(deliverable.notificationId, result()), type: FAILURE_TYPES.notHeld, nonRetryable: true });
  };

  setHandler(statusQuery, result);
  setHandler(cancelUpdate, async (): Promise<CancelOutcome> => {
    if (OPEN_STATUSES.includes(status)) cancelRequested = true;
    // Wait for the outcome: cancelled, or (when an attempt in flight delivered) how the send ended,
    // rather than pretend it was stopped.
    await condition(() => !OPEN_STATUSES.includes(status));
    return status === 'cancelled'
      ? { cancelled: true, status, releaseAt: decision.releaseAt.toISOString() }
      : { cancelled: false, ...result() };
  });
  // Validators run before an update is accepted into history, so a bad argument (a string
  // "false" for a boolean, an instant without its offset) is refused and changes nothing.
  setHandler(
    rescheduleUpdate,
    async (change) => {
      const { notBefore } = parsedOrFail(change, parseReschedule);
      await afterAttempt();
      failUnlessOpen();
      subject.notBefore = notBefore ?? undefined;
      const answer = redecide();
      if (!morningMoved()) return answer;
      await moveMorning();
      return result();
    },
    {
      validator: (change) => {
        parsedOrFail(change, parseReschedule);
        failUnlessOpen();
      },
    },
  );
  setHandler(
    updateConsentUpdate,
    async (change) => {
      const { nightConsent } = parsedOrFail(change, parseConsentChange);
      await afterAttempt();
      failUnlessOpen();
      subject.recipient.nightConsent = nightConsent;
      const answer = redecide();
      if (!morningMoved()) return answer;
      await moveMorning();
      return result();
    },
    {
      validator: (change) => {
        const { nightConsent } = parsedOrFail(change, parseConsentChange);
        if (nightConsent && isLegacyForward(deliverable)) {
          // Its body is not in the documented vocabulary: nobody knows it is not an advertisement.
          throw ApplicationFailure.create({
            message: `notification ${deliverable.notificationId} is a legacy body of unknown content: night-time consent cannot release it`,
            type: FAILURE_TYPES.notHeld,
            nonRetryable: true,
          });
        }
        failUnlessOpen();
      },
    },
  );

  setHandler(
    morningVerdictUpdate,
    async ({ verdict, gateId }) => {
      await afterAttempt();
      failUnlessOpen();
      if (morning?.gateId !== gateId) return;
      morning = { gateId, verdict };
      if (status !== 'retrying') {
        status = statusOfVerdict(verdict);
        record({ status });
      }
    },
    {
      validator: ({ gateId }) => {
        failUnlessOpen();
        // A gate it has left (it moved to another morning) has no say any more.
        if (morning?.gateId !== gateId) throw ApplicationFailure.create({ message: `notification ${deliverable.notificationId} is no longer held for ${gateId}`, type: FAILURE_TYPES.notHeld, nonRetryable: true });
      },
    },
  );

  await policyWithinLaw(policy);
  // The client set the verdict's status when it started the workflow; the evidence records it at the end.
  recordedReleaseAtMs = recordStartAttributes(deliverable, decision, wakeUpAt(decision, subject, policy, leadMs).getTime() > Date.now());
  setCurrentDetails(currentDetails(result(), policy.defaultTimeZone));

  /** A notification that ends without going (cancelled, expired, failed) frees its place in its morning's plan. */
  const leaveMorning = async (): Promise<void> => {
    if (morning && (status === 'cancelled' || status === 'expired' || status === 'failed')) {
      await withdrawFromGate({ gateId: morning.gateId, notificationId: deliverable.notificationId });
    }
  };

  /**
   * The send's window closed (the next quiet window began, or the expiry came): if every attempt in
   * it failed, one more failed window, and the end once there were too many. At the expiry it just
   * ends `expired`.
   */
  const windowClosed = async (deadlineMs: number): Promise<void> => {
    const expiryMs = subject.expiresAt === undefined ? Number.POSITIVE_INFINITY : Date.parse(subject.expiresAt);
    if (failedAttempts > 0 && deadlineMs < expiryMs) windowFailed();
    redecide(Math.max(Date.now(), deadlineMs));
  };
  const windowFailed = (): void => {
    failedWindows += 1;
    retryPeriodStartMs = undefined;
    if (failedWindows >= limits.maxFailedWindows) {
      throw new DeliveryFailure(deliveryFailure(deliverable, lastError!, `every attempt failed in ${failedWindows} release windows`));
    }
  };

  // Wait until it is time to send (the release minus the lead), to retry, or to expire. A consent
  // change or a reschedule wakes the loop to decide again; a cancel ends it.
  try {
    for (;;) {
      if (moving) await condition(() => !moving);
      decisionChanged = false;
      const wakeAtMs = retryAtMs ?? wakeUpAt(decision, subject, policy, leadMs).getTime();
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
      // Its morning's plan kept it back: it ends with the gate's verdict, unsent.
      if (morning && morning.verdict.outcome !== 'admitted') {
        status = morning.verdict.outcome;
        break;
      }
      const deadline = sendDeadline(decision.releaseAt, subject, policy)?.getTime();
      if (deadline !== undefined && Date.now() >= deadline) {
        // The queue kept failing until the next quiet window (or the expiry): never send later than
        // that. Decide again from the deadline: the next morning, or expired.
        await windowClosed(deadline);
        continue;
      }
      const statusBefore: NotificationStatus = status;
      status = 'sending';
      // Once an attempt has begun it runs to its end even if the workflow is cancelled, so the
      // outcome that is reported is the one that happened.
      const sent = await CancellationScope.nonCancellable(() => sendOnce(deliverable, scheduledAt, decision, deadline, policy, subject, leadMs));
      if (sent.outcome === 'delivered') {
        delivery = sent.delivery;
        status = 'delivered';
        break;
      }
      status = statusBefore;
      if (sent.outcome === 'staging-unsupported') leadMs = 0;
      if (sent.outcome === 'window-closed') await windowClosed(deadline ?? Date.now());
      if (sent.outcome === 'failed') {
        lastError = sent.failure;
        failedAttempts += 1;
        retryPeriodStartMs ??= Date.now();
        if (MISCONFIGURATION_FAILURES.includes(sent.failure.type ?? '')) {
          misconfiguredSinceMs ??= Date.now();
          if (Date.now() - misconfiguredSinceMs >= limits.misconfiguredGraceSeconds * 1000) {
            throw new DeliveryFailure(deliveryFailure(deliverable, sent.failure, `still failing after ${limits.misconfiguredGraceSeconds} s`));
          }
        } else {
          misconfiguredSinceMs = undefined;
        }
        if (deadline === undefined && Date.now() - retryPeriodStartMs >= RETRY_PERIOD_WITHOUT_WINDOW_MS) windowFailed();
        if (status !== 'retrying') {
          status = 'retrying';
          record({ status });
        }
        // Never past the deadline: there the loop decides again (the next morning, or expired).
        retryAtMs = Math.min(Date.now() + retryBackoffMs(failedAttempts), deadline ?? Number.POSITIVE_INFINITY);
      }
      // Changes that arrived during the attempt take effect now, before anything else is decided.
      if (waitingForAttempt > 0) await condition(() => waitingForAttempt === 0);
    }
  } catch (error) {
    // Cancellation requested through Temporal itself (Web UI, `temporal workflow cancel`).
    if (isCancellation(error)) status = 'cancelled';
    else if (error instanceof DeliveryFailure) status = 'failed';
    else throw error;
    await CancellationScope.nonCancellable(leaveMorning);
    record({ status, evidence: true });
    // Let pending updates see the outcome before the workflow closes (non-cancellable: after a
    // Temporal cancellation any cancellable wait would throw instead). Usually none is pending,
    // and then no scope is opened: each promise a workflow makes costs its worker a stack trace.
    if (!allHandlersFinished()) await CancellationScope.nonCancellable(() => condition(allHandlersFinished));
    if (error instanceof DeliveryFailure) throw error.failure;
    return result();
  }
  await leaveMorning();
  record({ status, evidence: true });
  if (!allHandlersFinished()) await CancellationScope.nonCancellable(() => condition(allHandlersFinished));
  return result();
}

/** The collapse key of a notification (a legacy forward has none). */
function deliverableCollapseKey(deliverable: Deliverable): string | undefined {
  return isLegacyForward(deliverable) ? undefined : deliverable.collapseKey;
}

/** The deadline field of a gate's input, if there is a deadline. */
function deadlineOf(deadline: Date | undefined): { deadline?: string } {
  return deadline ? { deadline: deadline.toISOString() } : {};
}

/** The digest's notification id: one per gate (src/workflows/morningGate.ts names it the same way). */
function digestIdOf(gateId: string): string {
  return `digest-${gateId.replace(/^morning-/, '')}`;
}

/** Why a change is refused: delivered (and since when it is on the queue), or ended otherwise. */
function notOpenMessage(notificationId: string, result: NotificationResult): string {
  if (result.status === 'delivered') {
    return `notification ${notificationId} is already on the delivery queue since ${result.stagedAt}, receivable at ${result.releasedAt}: it can no longer be changed`;
  }
  return `notification ${notificationId} is ${result.status}, no longer held`;
}

type SendOutcome =
  | { outcome: 'delivered'; delivery: DeliveryResult }
  /** The attempt failed and may be retried (how long depends on the failure's type). */
  | { outcome: 'failed'; failure: ApplicationFailure }
  /** The activity found the deadline passed: decide again. */
  | { outcome: 'window-closed' }
  | { outcome: 'staging-unsupported' };

/** A send that no retry can fix, or that kept failing beyond the limits; carries the workflow's failure. */
class DeliveryFailure extends Error {
  constructor(readonly failure: ApplicationFailure) {
    super(failure.message);
  }
}

function deliveryFailure(deliverable: Deliverable, cause: ApplicationFailure, why?: string): ApplicationFailure {
  return ApplicationFailure.create({
    type: FAILURE_TYPES.deliveryFailed,
    message: `the delivery queue refused notification ${deliverable.notificationId}${why ? ` (${why})` : ''}: ${cause.message}`,
    nonRetryable: true,
    cause,
  });
}

/** One attempt at the send; throws DeliveryFailure for what no retry can fix (the message refused or too large). */
async function sendOnce(
  deliverable: Deliverable,
  scheduledAt: Date,
  decision: SendDecision,
  deadlineMs: number | undefined,
  policy: QuietHoursPolicy,
  subject: ReturnType<typeof policySubjectOf>,
  leadMs: number,
): Promise<SendOutcome> {
  // Only a release that may be staged is sent before its instant; the workflow's clock (the server's) decides.
  const staged = leadMs > 0 && decision.releaseAt.getTime() > Date.now() && isStageable(decision, subject, policy);
  try {
    const delivery = await deliverNotification({
      notification: deliverable,
      scheduledAt: scheduledAt.toISOString(),
      decidedAt: new Date(Date.now()).toISOString(),
      ...(staged ? { releaseAt: decision.releaseAt.toISOString() } : {}),
      releaseReason: decision.reason,
      ...(deadlineMs !== undefined ? { deadline: new Date(deadlineMs).toISOString() } : {}),
      ...(decision.narrowerThanLaw ? { narrowerThanLaw: true } : {}),
    });
    return { outcome: 'delivered', delivery };
  } catch (error) {
    // A local activity's failure arrives as the activity's own ApplicationFailure (a regular
    // activity's is wrapped in an ActivityFailure); a timeout as a TimeoutFailure.
    const cause = error instanceof ActivityFailure ? error.cause : error;
    if (!(cause instanceof ApplicationFailure)) {
      return { outcome: 'failed', failure: ApplicationFailure.retryable(cause instanceof Error ? cause.message : String(cause), cause instanceof Error ? cause.name : 'Error') };
    }
    if (cause.type === FAILURE_TYPES.sendWindowClosed) return { outcome: 'window-closed' };
    if (cause.type === FAILURE_TYPES.stagingUnsupported) return { outcome: 'staging-unsupported' };
    if (MESSAGE_FAILURES.includes(cause.type ?? '')) throw new DeliveryFailure(deliveryFailure(deliverable, cause));
    return { outcome: 'failed', failure: cause };
  }
}

/** The input's own shape: a null or a string would otherwise fail the workflow task forever with a TypeError. */
function parsedInput(input: unknown): NotificationWorkflowInput {
  if (input === null || typeof input !== 'object' || Array.isArray(input) || !('notification' in input)) {
    throw ApplicationFailure.create({
      message: `invalid workflow input: expected { notification, policy?, prestageSeconds?, retryLimits? }, got ${input === null ? 'null' : typeof input}`,
      type: FAILURE_TYPES.invalidNotification,
      nonRetryable: true,
    });
  }
  const { retryLimits } = input as NotificationWorkflowInput;
  if (
    retryLimits !== undefined &&
    !(Number.isInteger(retryLimits?.maxFailedWindows) && retryLimits.maxFailedWindows >= 1 && Number.isFinite(retryLimits.misconfiguredGraceSeconds) && retryLimits.misconfiguredGraceSeconds >= 0)
  ) {
    throw ApplicationFailure.nonRetryable('invalid retryLimits: expected { maxFailedWindows ≥ 1, misconfiguredGraceSeconds ≥ 0 }', FAILURE_TYPES.invalidPolicy);
  }
  return input as NotificationWorkflowInput;
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

/**
 * The law's window is a floor: a policy that does not keep 21:00–08:00 quiet is refused, unless
 * the worker that runs it allows narrower windows (NOTIFY_ALLOW_NARROWER_QUIET_HOURS, for tests and
 * benchmarks). Anyone who can start a workflow could pass a policy of their own; only the worker's
 * configuration can allow this. Asked only then, so a lawful policy costs nothing.
 */
async function policyWithinLaw(policy: QuietHoursPolicy): Promise<QuietHoursPolicy> {
  if (keepsLawWindow(policy)) return policy;
  if (await narrowerQuietHoursAllowed()) return policy;
  throw ApplicationFailure.nonRetryable(
    `the quiet window ${policy.quietStart}–${policy.quietEnd} with default zone ${policy.defaultTimeZone} is narrower than the law's 21:00–08:00 (on every recipient's clock, and in Asia/Seoul for a recipient without a zone), and this worker does not allow that (NOTIFY_ALLOW_NARROWER_QUIET_HOURS)`,
    FAILURE_TYPES.invalidPolicy,
  );
}

function validatedLead(prestageSeconds: number): number {
  try {
    return prestageLeadMs(prestageSeconds);
  } catch (error) {
    throw ApplicationFailure.nonRetryable(`invalid prestageSeconds: ${(error as Error).message}`, FAILURE_TYPES.invalidPolicy);
  }
}

/**
 * The client sets the search attributes when it starts the workflow, so the Web UI lists a held
 * notification without a workflow task. A workflow started some other way (the Web UI, the
 * temporal CLI) records them here. One whose client decided a different release (clocks a few ms
 * apart at a window's edge) corrects it here only if it is going to wait: one that sends now
 * records its release with its final status, in the same write. The recipient's hashed id needs
 * the client's key and is left out.
 */
function recordStartAttributes(deliverable: Deliverable, decision: SendDecision, willWait: boolean): number | undefined {
  const attributes = workflowInfo().typedSearchAttributes;
  const recorded = attributes.get(NotificationReleaseAtKey)?.getTime();
  if (attributes.get(NotificationStatusKey) === undefined) {
    upsertSearchAttributes(heldSearchAttributes(deliverable, decision.releaseAt));
    return decision.releaseAt.getTime();
  }
  if (willWait && recorded !== decision.releaseAt.getTime()) {
    upsertSearchAttributes([{ key: NotificationReleaseAtKey, value: decision.releaseAt }]);
    return decision.releaseAt.getTime();
  }
  return recorded;
}
