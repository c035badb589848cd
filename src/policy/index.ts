/**
 * The quiet-hours policy: pure, deterministic functions over luxon, bundled into workflow code.
 * No Node APIs, no clock, no environment, no dependence on the process's time zone.
 */
export {
  ALWAYS_HELD_CATEGORY,
  DEFAULT_POLICY,
  NarrowerThanLawError,
  POLICY_CATEGORIES,
  assertValidPolicy,
  isHeldCategory,
  narrowerThanLawReason,
  policyFromConfig,
  type QuietHoursPolicy,
} from './policy';
export {
  isInQuietWindow,
  isRealOffset,
  isSubjectToWindow,
  nextAllowedSendTime,
  quietWindowEnd,
  quietWindowStart,
  sendDeadline,
  type PolicySubject,
  type SendDecision,
} from './quietHours';
export { LEGAL_QUIET_WINDOW, coversLegalWindow, windowCovers } from './quietWindow';
export { morningSpreadOffsetMs } from './spread';
export { MAX_PRESTAGE_SECONDS, isStageable, prestageLeadMs, wakeUpAt } from './staging';
export { inRehearsalZone, nextWholeMinute, rehearsalEndingAt, zoneWhereAfternoon, type Rehearsal } from './releaseWindow';
export { LAW_TIME_ZONE, defaultZoneKeepsLawWindow, keepsLawWindow } from './lawZone';
export { isSupportedTimeZone } from './zone';
export {
  admitLate,
  assertValidRules,
  freezeMorning,
  morningOf,
  NO_MORNING_CAP,
  planMorning,
  type FrozenMorning,
  type MorningEntry,
  type MorningOutcome,
  type MorningOverflow,
  type MorningPlan,
  type MorningRules,
  type MorningVerdict,
} from './morning';
