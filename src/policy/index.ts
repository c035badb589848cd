/**
 * The quiet-hours policy: pure, deterministic functions over luxon, bundled into workflow code.
 * No Node APIs, no clock, no environment, no dependence on the process's time zone.
 */
export {
  ALWAYS_HELD_CATEGORY,
  DEFAULT_POLICY,
  POLICY_CATEGORIES,
  assertValidPolicy,
  isHeldCategory,
  policyFromConfig,
  type QuietHoursPolicy,
} from './policy';
export {
  isInQuietWindow,
  isSubjectToWindow,
  nextAllowedSendTime,
  quietWindowEnd,
  quietWindowStart,
  sendDeadline,
  type PolicySubject,
  type SendDecision,
} from './quietHours';
export { morningSpreadOffsetMs } from './spread';
export { MAX_PRESTAGE_SECONDS, prestageLeadMs, wakeUpAt } from './staging';
export { nextWholeMinute, policyEndingAt } from './releaseWindow';
export { isSupportedTimeZone } from './zone';
