/**
 * What a notification workflow is started with, checked as strictly as a client checks it (anything
 * that speaks Temporal can start one): its input's shape, the notification, the policy (and the
 * law's floor under it), the staging lead; and the search attributes it is listed with.
 */
import { ApplicationFailure, proxyLocalActivities, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { FAILURE_TYPES } from '../failureTypes';
import { InvalidNotificationError, type Deliverable } from '../notification';
import { assertValidPolicy, keepsLawWindow, prestageLeadMs, type MorningRules, type QuietHoursPolicy, type SendDecision } from '../policy';
import { heldSearchAttributes, NotificationReleaseAtKey, NotificationStatusKey } from '../searchAttributes';
import type { SendRetryLimits } from './notificationState';

export interface NotificationWorkflowInput {
  /** Validated again here: a workflow can be started by anything that speaks Temporal. */
  notification: unknown;
  /** The quiet-hours policy in force when it was scheduled; recorded in history with the input. */
  policy?: QuietHoursPolicy;
  /** Send this many seconds before the release, with an SQS delay (0–900; 0 sends at the release). */
  prestageSeconds?: number;
  retryLimits?: SendRetryLimits;
  /** The morning cap in force when it was scheduled; each morning it is held for registers it under these rules. */
  morningRules?: MorningRules;
}

/** Asked only of a workflow whose policy is narrower than the law's: whether this worker allows that. */
const { narrowerQuietHoursAllowed } = proxyLocalActivities<Pick<Activities, 'narrowerQuietHoursAllowed'>>({
  startToCloseTimeout: '10 seconds',
});

/** The input's own shape: a null or a string would otherwise fail the workflow task forever with a TypeError. */
export function parsedInput(input: unknown): NotificationWorkflowInput {
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
    !(
      Number.isInteger(retryLimits?.maxFailedWindows) &&
      retryLimits.maxFailedWindows >= 1 &&
      Number.isFinite(retryLimits.misconfiguredGraceSeconds) &&
      retryLimits.misconfiguredGraceSeconds >= 0 &&
      (retryLimits.maxBackoffSeconds === undefined || (Number.isFinite(retryLimits.maxBackoffSeconds) && retryLimits.maxBackoffSeconds >= 1)) &&
      (retryLimits.minBackoffSeconds === undefined || (Number.isFinite(retryLimits.minBackoffSeconds) && retryLimits.minBackoffSeconds >= 1))
    )
  ) {
    throw ApplicationFailure.nonRetryable('invalid retryLimits: expected { maxFailedWindows ≥ 1, misconfiguredGraceSeconds ≥ 0, maxBackoffSeconds? ≥ 1, minBackoffSeconds? ≥ 1 }', FAILURE_TYPES.invalidPolicy);
  }
  return input as NotificationWorkflowInput;
}

/** Parses with a contract parser; a bad value becomes a typed, non-retryable failure naming the field. */
export function parsedOrFail<T>(raw: unknown, parse: (raw: unknown) => T): T {
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
export function validatedPolicy(policy: QuietHoursPolicy): QuietHoursPolicy {
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
export async function policyWithinLaw(policy: QuietHoursPolicy): Promise<QuietHoursPolicy> {
  if (keepsLawWindow(policy)) return policy;
  if (await narrowerQuietHoursAllowed()) return policy;
  throw ApplicationFailure.nonRetryable(
    `the quiet window ${policy.quietStart}–${policy.quietEnd} with default zone ${policy.defaultTimeZone} is narrower than the law's 21:00–08:00 (on every recipient's clock, and in Asia/Seoul for a recipient without a zone), and this worker does not allow that (NOTIFY_ALLOW_NARROWER_QUIET_HOURS)`,
    FAILURE_TYPES.invalidPolicy,
  );
}

export function validatedLead(prestageSeconds: number): number {
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
export function recordStartAttributes(deliverable: Deliverable, decision: SendDecision, willWait: boolean): number | undefined {
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
