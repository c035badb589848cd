/**
 * One notification, held through the recipient's quiet window and then handed to the delivery queue.
 *
 * The client starts this workflow with a start delay that ends when there is something to do (the
 * staging lead before the release, or the release itself), so a held notification costs no timer,
 * no task and no worker memory while it waits. Its first task decides again from its input, on the
 * server's clock, and sends the message with the SQS delay that remains.
 *
 * A notification that the morning cap or a collapse key concerns starts at once instead: it
 * registers with the gate of its morning (src/workflows/morningGate.ts), then sleeps. Shortly
 * before the staging lead the gate tells it where it goes: on its own, nowhere (it ends capped or
 * collapsed then), or in the digest, which the gate sends, locking it in, and tells it about.
 *
 * Every path it can take is in src/workflows/notificationState.ts: its state is one record there,
 * and this file drives it (timers, activities, handlers).
 *
 * Deterministic: the only clock is the workflow's own (Date.now() inside a workflow is the time of
 * its task, the server's, replayed from history), and every side effect is an activity.
 */
import {
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
import type { Activities } from '../activities';
import { digestEntryBytes, payloadText, type DigestEntry } from '../digest';
import { formatEvidence } from '../evidence';
import { FAILURE_TYPES } from '../failureTypes';
import {
  isLegacyForward,
  notHeldMessage,
  parseConsentChange,
  parseDeliverable,
  parseReschedule,
  policySubjectOf,
  type Deliverable,
  type Notification,
  type NotificationResult,
  type NotificationStatus,
} from '../notification';
import {
  DEFAULT_POLICY,
  isHeldCategory,
  isStageable,
  morningOf,
  NO_MORNING_CAP,
  nextAllowedSendTime,
  sendDeadline,
  wakeUpAt,
  type QuietHoursPolicy,
  type SendDecision,
} from '../policy';
import { NotificationEvidenceKey, NotificationReleaseAtKey, NotificationStatusKey, RecipientIdKey } from '../searchAttributes';
import { currentDetails } from '../webUiText';
import type { MorningGateInput } from './morningGate';
import { digestOutcomeUpdate, lockForDigestUpdate, morningGateId, morningVerdictSignal, type GateRegistration } from './morningGateMessages';
import { cancelUpdate, rescheduleUpdate, statusQuery, updateConsentUpdate, type CancelOutcome } from './notificationMessages';
import {
  attemptEnded,
  attemptUnderWay,
  decided,
  DEFAULT_SEND_RETRY_LIMITS,
  ended,
  initialState,
  isOpen,
  joinedMorning,
  lockedIntoDigest,
  sendWindowClosed,
  type AttemptOutcome,
  type NotificationState,
  type SendFailure,
} from './notificationState';
import { countEnded, countScheduled } from './metrics';
import { parsedInput, parsedOrFail, policyWithinLaw, recordStartAttributes, validatedLead, validatedPolicy, type NotificationWorkflowInput } from './notificationInput';
import { attemptDelivery } from './sendAttempt';

export { DEFAULT_SEND_RETRY_LIMITS, retryBackoffMs, type SendRetryLimits } from './notificationState';
export type { NotificationWorkflowInput } from './notificationInput';


/** A notification moving between mornings: its registrations are signals, which no worker has to answer. */
const { moveMorning } = proxyLocalActivities<Pick<Activities, 'moveMorning'>>({
  startToCloseTimeout: '1 minute',
});


/** The statuses that end a notification that did not go out: it leaves its morning, freeing its place before the freeze. */
const UNSENT_ENDS: readonly NotificationStatus[] = ['cancelled', 'expired', 'failed'];

export async function notificationWorkflow(input: NotificationWorkflowInput): Promise<NotificationResult> {
  const settings = parsedInput(input);
  const deliverable = parsedOrFail(settings.notification, parseDeliverable);
  countScheduled(deliverable);
  // What the policy reads; updates change it (consent, notBefore), never the message itself.
  const subject = policySubjectOf(deliverable);
  const policy = validatedPolicy(settings.policy ?? DEFAULT_POLICY);
  const limits = settings.retryLimits ?? DEFAULT_SEND_RETRY_LIMITS;
  const morningRules = settings.morningRules ?? NO_MORNING_CAP;
  const scheduledAt = workflowInfo().startTime;
  // Decided again from the input and the instant it was scheduled, on the server's clock: the same
  // release the client decided (unless their clocks straddle a window's edge), and the reason an
  // auditor sees.
  const state: NotificationState = initialState(nextAllowedSendTime(scheduledAt, subject, policy), subject.recipient.nightConsent, validatedLead(settings.prestageSeconds ?? 0));
  let recordedStatus: NotificationStatus = 'held';
  let recordedReleaseAtMs: number | undefined;
  // Handlers of changes that arrived during a send attempt, waiting to see how it ends.
  let waitingForAttempt = 0;
  // The loop waits, past its wake, for its morning's verdict.
  let waitingForVerdict = false;

  const result = (): NotificationResult => resultOf(state, subject.expiresAt);
  /** Writes what changed of status and release instant (and, at the end, the evidence) in one upsert: each is a billed action. */
  const record = (withEvidence = false): void => {
    // `sending` lasts one attempt: it is answered by the status query, never written.
    const status = state.status === 'sending' ? recordedStatus : state.status;
    const releaseChanged = recordedReleaseAtMs !== state.decision.releaseAt.getTime();
    const pairs = [
      ...(status !== recordedStatus ? [{ key: NotificationStatusKey, value: status }] : []),
      ...(releaseChanged ? [{ key: NotificationReleaseAtKey, value: state.decision.releaseAt }] : []),
      ...(withEvidence ? [{ key: NotificationEvidenceKey, value: evidenceText() }] : []),
    ];
    if (pairs.length > 0) upsertSearchAttributes(pairs);
    [recordedStatus, recordedReleaseAtMs] = [status, state.decision.releaseAt.getTime()];
    // The Web UI's "current details" (answered by a worker, free: no command, nothing in history).
    setCurrentDetails(currentDetails(result(), policy.defaultTimeZone));
  };
  const evidenceText = (): string =>
    formatEvidence({
      reason: state.decision.reason,
      nightConsent: state.decidedWithConsent,
      heldCategory: isHeldCategory(subject.category, policy),
      zone: subject.recipient.timeZone || policy.defaultTimeZone,
      window: `${policy.quietStart}-${policy.quietEnd}`,
      ...(state.delivery ? { receivableAt: state.delivery.releasedAt } : {}),
      ...(state.delivery?.receivableBy ? { receivableBy: state.delivery.receivableBy } : {}),
      ...(state.decision.narrowerThanLaw ? { narrowerThanLaw: true } : {}),
      ...(state.delivery?.zoneData ? { zoneData: state.delivery.zoneData } : {}),
      ...(state.delivery?.digestId ? { digest: state.delivery.digestId } : {}),
    });
  /** Decides again at `atMs` (now, or later) after a consent change, a reschedule or a closed send window. */
  const redecide = (atMs: number = Date.now()): void => {
    decided(state, nextAllowedSendTime(new Date(atMs), subject, policy), subject.recipient.nightConsent);
    record();
  };

  /**
   * The gate of the morning its current decision holds it for, when the cap or a collapse key
   * concerns that release; none for a release at once or at notBefore. The recipient's keyed hash
   * is the client's (a workflow started some other way has none, and no morning).
   */
  const morningOfDecision = (): { gateId: string; releaseAt: Date } | undefined => {
    if (isLegacyForward(deliverable)) return undefined;
    const releaseAt = morningOf(state.decision, { category: deliverable.category, collapseKey: deliverable.collapseKey }, morningRules);
    const recipientHash = workflowInfo().typedSearchAttributes.get(RecipientIdKey);
    return releaseAt && recipientHash ? { gateId: morningGateId(recipientHash, releaseAt), releaseAt } : undefined;
  };
  const digestEntry = (): DigestEntry => ({ notificationId: deliverable.notificationId, payloadJson: payloadText(deliverable as Notification) });
  const registration = (seq: number): GateRegistration => {
    const notification = deliverable as Notification;
    return {
      notificationId: notification.notificationId,
      seq,
      category: notification.category,
      channel: notification.channel,
      ...(notification.collapseKey !== undefined ? { collapseKey: notification.collapseKey } : {}),
      ...(notification.priority !== undefined ? { priority: notification.priority } : {}),
      scheduledAtMs: scheduledAt.getTime(),
      ...(morningRules.overflow === 'digest' ? { digestBytes: digestEntryBytes(digestEntry()) } : {}),
    };
  };
  const gateInput = (releaseAt: Date): MorningGateInput => {
    const recipient = (deliverable as Notification).recipient;
    // The digest is an advertisement without consent, released at the window's end: its deadline is the next window's start.
    const deadline = sendDeadline(releaseAt, { notificationId: deliverable.notificationId, category: 'advertising', recipient: { timeZone: recipient.timeZone, nightConsent: false } }, policy);
    return {
      recipientId: recipient.id,
      releaseAt: releaseAt.toISOString(),
      rules: morningRules,
      leadMs: state.leadMs,
      ...(limits.maxBackoffSeconds !== undefined ? { maxBackoffSeconds: limits.maxBackoffSeconds } : {}),
      ...(limits.minBackoffSeconds !== undefined ? { minBackoffSeconds: limits.minBackoffSeconds } : {}),
      ...(deadline ? { deadline: deadline.toISOString() } : {}),
      grounds: {
        zone: recipient.timeZone || policy.defaultTimeZone,
        window: `${policy.quietStart}-${policy.quietEnd}`,
        ...(state.decision.narrowerThanLaw ? { narrowerThanLaw: true } : {}),
      },
    };
  };
  /** Leaves the morning it is registered with, and joins the one its decision holds it for (either may be none). */
  const moveToMorning = async (target: { gateId: string; releaseAt: Date } | undefined): Promise<void> => {
    const seq = state.registrations + 1;
    const answer = await moveMorning({
      ...(state.morning ? { leave: { gateId: state.morning.gateId, notificationId: deliverable.notificationId, seq: state.morning.seq } } : {}),
      ...(target ? { join: { gateId: target.gateId, input: gateInput(target.releaseAt), registration: registration(seq) } } : {}),
    });
    joinedMorning(state, target?.gateId);
    // That gate has already ended: its morning is over and decided, without this notification.
    if (answer === 'closed' && state.morning) state.morning.verdict = { outcome: 'capped' };
  };
  const heldAndStill = () => state.phase === 'held' && !state.cancelRequested;

  /** A change that arrives during a send attempt waits for it: it applies only if the attempt did not deliver. */
  const afterAttempt = async (): Promise<void> => {
    if (!attemptUnderWay(state)) return;
    waitingForAttempt += 1;
    try {
      await condition(() => !attemptUnderWay(state));
    } finally {
      waitingForAttempt -= 1;
    }
  };
  const failUnlessOpen = (): void => {
    if (isOpen(state)) return;
    throw ApplicationFailure.create({ message: notHeldMessage(deliverable.notificationId, result()), type: FAILURE_TYPES.notHeld, nonRetryable: true });
  };

  setHandler(statusQuery, result);
  setHandler(cancelUpdate, async (): Promise<CancelOutcome> => {
    if (isOpen(state)) {
      state.cancelRequested = true;
      state.changes += 1;
    }
    // Wait for the outcome: cancelled, or (when an attempt in flight delivered) how the send ended,
    // rather than pretend it was stopped.
    await condition(() => !isOpen(state));
    return state.status === 'cancelled' ? { cancelled: true, status: 'cancelled', releaseAt: state.decision.releaseAt.toISOString() } : { cancelled: false, ...result() };
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
      redecide();
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
      redecide();
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
  // The gate locks it into its digest only while it is held for that very morning, its decision included.
  setHandler(lockForDigestUpdate, ({ gateId, attempt }) =>
    lockedIntoDigest(state, gateId, attempt, morningOfDecision()?.gateId) ? { locked: true as const, entry: digestEntry() } : { locked: false as const },
  );
  // Its gate's verdict, for the registration it is still held under (a moved or ended one ignores it).
  setHandler(morningVerdictSignal, ({ gateId, seq, verdict }) => {
    if (state.phase !== 'held' || state.morning?.gateId !== gateId || state.morning.seq !== seq) return;
    state.morning.verdict = verdict;
    // An admitted one sleeps on to its wake as it was (a timer is a billed action): only an end,
    // the digest, or one that already waits for this verdict past its wake, wakes the loop.
    if (verdict.outcome !== 'admitted' || waitingForVerdict) state.changes += 1;
  });
  setHandler(digestOutcomeUpdate, ({ gateId, attempt, result: outcome }) => {
    if (state.phase === 'in-digest' && state.digestAttempt?.gateId === gateId && state.digestAttempt.attempt === attempt) state.digestAttempt.outcome = outcome;
  });

  await policyWithinLaw(policy);
  recordedReleaseAtMs = recordStartAttributes(deliverable, state.decision, wakeUpAt(state.decision, subject, policy, state.leadMs).getTime() > Date.now());
  setCurrentDetails(currentDetails(result(), policy.defaultTimeZone));

  /** The send's deadline: the next quiet window, or the expiry; a retry is never later. */
  const deadlineMs = (): number | undefined => sendDeadline(state.decision.releaseAt, subject, policy)?.getTime();
  /** How an attempt ended (its own, or its digest's), applied; a failure no retry can fix ends it. */
  const afterOutcome = async (outcome: AttemptOutcome): Promise<void> => {
    const deadline = deadlineMs();
    const next = attemptEnded(state, outcome, Date.now(), deadline, limits);
    if (next.next === 'failed') throw new DeliveryFailure(deliveryFailure(deliverable, next.failure, next.why));
    if (next.next === 'ended') return;
    if (next.windowClosed) await closeWindow(deadline ?? Date.now());
    else record();
  };
  /**
   * The send's window closed (the next quiet window began, or the expiry came): if every attempt in
   * it failed, one more failed window, and the end once there were too many. Then it decides again
   * from the deadline: the next morning, or expired.
   */
  const closeWindow = async (deadline: number): Promise<void> => {
    const expiryMs = subject.expiresAt === undefined ? Number.POSITIVE_INFINITY : Date.parse(subject.expiresAt);
    const failed = sendWindowClosed(state, deadline, expiryMs, limits);
    if (failed) throw new DeliveryFailure(deliveryFailure(deliverable, failed.failure, failed.why));
    redecide(Math.max(Date.now(), deadline));
  };
  /** Waits until `untilMs` or a change (a decision, a cancel, its gate locking it), whichever comes first. */
  const waitUntil = async (untilMs: number): Promise<void> => {
    const changes = state.changes;
    const changed = () => state.changes !== changes || !heldAndStill();
    if (!Number.isFinite(untilMs)) await condition(changed);
    else if (untilMs > Date.now()) await condition(changed, untilMs - Date.now());
  };

  /** The process, one step at a time, until it ends (see notificationState.ts for every path). */
  const run = async (): Promise<void> => {
    for (;;) {
      // Changes that arrived during an attempt take effect before anything else is decided.
      if (waitingForAttempt > 0) await condition(() => waitingForAttempt === 0);
      if (state.phase === 'ended') return;
      if (state.phase === 'in-digest') {
        // Its digest is being sent: it waits for that attempt's outcome, whatever else is asked meanwhile.
        await CancellationScope.nonCancellable(() => condition(() => state.digestAttempt?.outcome !== undefined));
        await afterOutcome(state.digestAttempt!.outcome!);
        continue;
      }
      if (state.cancelRequested) return ended(state, 'cancelled');
      const morning = morningOfDecision();
      if (morning?.gateId !== state.morning?.gateId) {
        await moveToMorning(morning);
        continue;
      }
      // Its morning's plan keeps it back: it ends now, unsent (the gate decided at its freeze, before the lead).
      const verdict = state.morning?.verdict;
      if (verdict?.outcome === 'capped' || verdict?.outcome === 'collapsed') return ended(state, verdict.outcome);
      const deadline = deadlineMs();
      if (verdict?.outcome === 'digested' && (deadline === undefined || Date.now() < deadline)) {
        // The gate sends the digest, locking it in; if it never does, the deadline decides again.
        await waitUntil(deadline ?? Number.POSITIVE_INFINITY);
        continue;
      }
      const wakeAtMs = state.retryAtMs ?? wakeUpAt(state.decision, subject, policy, state.leadMs).getTime();
      if (wakeAtMs > Date.now()) {
        await waitUntil(wakeAtMs);
        continue;
      }
      if (state.decision.expired) return ended(state, 'expired');
      if (deadline !== undefined && Date.now() >= deadline) {
        // The queue kept failing until the next quiet window (or the expiry): never send later than that.
        await closeWindow(deadline);
        continue;
      }
      if (state.morning && !verdict) {
        // Its verdict is on its way (the gate tells every registration); if it never comes, the deadline decides again.
        waitingForVerdict = true;
        await waitUntil(deadline ?? Number.POSITIVE_INFINITY);
        waitingForVerdict = false;
        continue;
      }
      state.phase = 'sending';
      state.status = 'sending';
      // Once an attempt has begun it runs to its end even if the workflow is cancelled, so the
      // outcome that is reported is the one that happened.
      const outcome = await CancellationScope.nonCancellable(() => attemptDelivery(sendRequest(deliverable, scheduledAt, state.decision, deadline, policy, subject, state.leadMs)));
      await afterOutcome(outcome);
    }
  };

  let failure: ApplicationFailure | undefined;
  try {
    await run();
  } catch (error) {
    // Cancellation requested through Temporal itself (Web UI, `temporal workflow cancel`).
    if (isCancellation(error)) {
      if (isOpen(state)) ended(state, 'cancelled');
    } else if (error instanceof DeliveryFailure) {
      ended(state, 'failed');
      failure = error.failure;
    } else {
      throw error;
    }
  }
  // Non-cancellable from here: after a Temporal cancellation any cancellable wait would throw.
  await CancellationScope.nonCancellable(async () => {
    if (state.morning && UNSENT_ENDS.includes(state.status)) {
      await moveMorning({ leave: { gateId: state.morning.gateId, notificationId: deliverable.notificationId, seq: state.morning.seq } });
    }
    countEnded(state.status, deliverable);
    record(true);
    // Let pending updates see the outcome before the workflow closes. Usually none is pending, and
    // then nothing is awaited: each promise a workflow makes costs its worker a stack trace.
    if (!allHandlersFinished()) await condition(allHandlersFinished);
  });
  if (failure) throw failure;
  return result();
}

/** What the workflow returns, and what a status query reports while it runs. */
function resultOf(state: NotificationState, expiresAt: string | undefined): NotificationResult {
  const { status, decision, delivery, morning, lastError } = state;
  const verdict = morning?.verdict;
  return {
    status,
    releaseAt: decision.releaseAt.toISOString(),
    releaseReason: decision.reason,
    ...(expiresAt ? { expiresAt } : {}),
    ...(delivery ? { releasedAt: delivery.releasedAt, stagedAt: delivery.stagedAt, messageId: delivery.messageId } : {}),
    ...(lastError && status !== 'delivered' && status !== 'digested' ? { lastError: lastError.message, failedAttempts: state.failedAttempts, failedWindows: state.failedWindows } : {}),
    ...(decision.narrowerThanLaw ? { narrowerThanLaw: true as const } : {}),
    ...(status === 'collapsed' && verdict?.outcome === 'collapsed' ? { replacedBy: verdict.replacedBy } : {}),
    ...(status === 'digested' && delivery?.digestId ? { digest: { notificationId: delivery.digestId, messageId: delivery.messageId } } : {}),
  };
}

/** A send that no retry can fix, or that kept failing beyond the limits; carries the workflow's failure. */
class DeliveryFailure extends Error {
  constructor(readonly failure: ApplicationFailure) {
    super(failure.message);
  }
}

function deliveryFailure(deliverable: Deliverable, cause: SendFailure, why?: string): ApplicationFailure {
  return ApplicationFailure.create({
    type: FAILURE_TYPES.deliveryFailed,
    message: `the delivery queue refused notification ${deliverable.notificationId}${why ? ` (${why})` : ''}: ${cause.message}`,
    nonRetryable: true,
    cause: ApplicationFailure.create({ message: cause.message, type: cause.type, nonRetryable: true }),
  });
}

/** The delivery request of its own send: staged before the release only when no consent change can forbid it. */
function sendRequest(
  deliverable: Deliverable,
  scheduledAt: Date,
  decision: SendDecision,
  deadlineMs: number | undefined,
  policy: QuietHoursPolicy,
  subject: ReturnType<typeof policySubjectOf>,
  leadMs: number,
) {
  // The workflow's clock (the server's) decides.
  const staged = leadMs > 0 && decision.releaseAt.getTime() > Date.now() && isStageable(decision, subject, policy);
  return {
    notification: deliverable,
    scheduledAt: scheduledAt.toISOString(),
    decidedAt: new Date(Date.now()).toISOString(),
    ...(staged ? { releaseAt: decision.releaseAt.toISOString() } : {}),
    releaseReason: decision.reason,
    // When it is due (a send that is not staged goes now): its lag is measured from this.
    dueAt: decision.releaseAt.toISOString(),
    ...(deadlineMs !== undefined ? { deadline: new Date(deadlineMs).toISOString() } : {}),
    ...(decision.narrowerThanLaw ? { narrowerThanLaw: true } : {}),
  };
}
