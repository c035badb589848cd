/**
 * The quiet-hours policy: its settings, their defaults and their validation.
 * A policy is plain JSON (strings, numbers, an array) so that a workflow can carry it in its input.
 */
import type { Category } from '../notification';
import { isSupportedTimeZone } from './zone';
import { spreadWindowMs } from './spread';
import { defaultZoneKeepsLawWindow, LAW_TIME_ZONE } from './lawZone';
import { coversLegalWindow, LEGAL_QUIET_WINDOW, parseTimeOfDay } from './quietWindow';

export interface QuietHoursPolicy {
  /** "HH:mm" local wall time at which the quiet window starts (inclusive). Default "21:00". */
  quietStart: string;
  /**
   * "HH:mm" local wall time at which it ends (exclusive). Default "08:00". The window is
   * [quietStart, quietEnd); if quietStart > quietEnd it wraps midnight; if they are equal there is
   * no window at all.
   */
  quietEnd: string;
  /** IANA zone used for recipients without one. Default "Asia/Seoul". */
  defaultTimeZone: string;
  /**
   * Categories held in the window for recipients without night consent. 'advertising' is held
   * without consent whatever this says (the law); the others follow this list.
   */
  heldCategories: readonly Category[];
  /** Release held messages over [windowEnd, windowEnd + this many seconds); 0 = all at the window's end. */
  morningSpreadSeconds: number;
}

/**
 * Every category of src/notification.ts, duplicated because this folder imports nothing at run time
 * but luxon. The two type checks below fail to compile if the lists drift apart.
 */
export const POLICY_CATEGORIES = ['advertising', 'order', 'delivery', 'refund'] as const satisfies readonly Category[];
type Missing = Exclude<Category, (typeof POLICY_CATEGORIES)[number]>;
const everyCategoryListed: [Missing] extends [never] ? true : Missing = true;
void everyCategoryListed;

/** Advertising is held in the window without night consent, whatever the policy says. */
export const ALWAYS_HELD_CATEGORY: Category = 'advertising';

/** The shop's rule today: 21:00–08:00 Asia/Seoul, every category held without consent, no spread. */
export const DEFAULT_POLICY: QuietHoursPolicy = Object.freeze({
  quietStart: '21:00',
  quietEnd: '08:00',
  defaultTimeZone: 'Asia/Seoul',
  heldCategories: Object.freeze([...POLICY_CATEGORIES]) as readonly Category[],
  morningSpreadSeconds: 0,
});

function isCategory(value: unknown): value is Category {
  return (POLICY_CATEGORIES as readonly unknown[]).includes(value);
}

/** Throws an Error naming the first bad setting of a policy; returns it unchanged otherwise. */
export function assertValidPolicy(policy: QuietHoursPolicy): QuietHoursPolicy {
  parseTimeOfDay(policy.quietStart, 'quietStart');
  parseTimeOfDay(policy.quietEnd, 'quietEnd');
  if (!isSupportedTimeZone(policy.defaultTimeZone)) {
    throw new Error(
      `invalid defaultTimeZone ${JSON.stringify(policy.defaultTimeZone)}: expected an IANA zone name such as Asia/Seoul`,
    );
  }
  if (!Array.isArray(policy.heldCategories)) {
    throw new Error('invalid heldCategories: expected a list of categories');
  }
  for (const category of policy.heldCategories) {
    if (!isCategory(category)) {
      throw new Error(
        `invalid held category ${JSON.stringify(category)}: expected one of ${POLICY_CATEGORIES.join(', ')}`,
      );
    }
  }
  try {
    spreadWindowMs(policy.morningSpreadSeconds);
  } catch (error) {
    throw new Error(`invalid ${(error as Error).message}`);
  }
  return policy;
}

/** A configured window that does not keep the law's 21:00–08:00 quiet, without the override that allows it. */
export class NarrowerThanLawError extends Error {
  override readonly name = 'NarrowerThanLawError';
}

/**
 * The policy from src/config.ts's `config.policy` (or anything of that shape), validated: throws
 * an Error naming a bad time, zone, category or spread. Categories are de-duplicated. A policy that
 * does not keep the law's window is refused (NarrowerThanLawError): a window narrower than
 * 21:00–08:00, or a default zone on whose clock the window does not keep 21:00–08:00 Asia/Seoul
 * quiet for recipients without a zone (src/policy/lawZone.ts); unless `allowNarrowerQuietHours` is
 * set (NOTIFY_ALLOW_NARROWER_QUIET_HOURS, for tests and benchmarks).
 */
export function policyFromConfig(policy: {
  quietStart: string;
  quietEnd: string;
  defaultTimeZone: string;
  heldCategories: string[];
  morningSpreadSeconds: number;
  allowNarrowerQuietHours?: boolean;
}): QuietHoursPolicy {
  const heldCategories = [...new Set(policy.heldCategories.map((category) => category.trim()))];
  const candidate: QuietHoursPolicy = {
    quietStart: policy.quietStart,
    quietEnd: policy.quietEnd,
    defaultTimeZone: policy.defaultTimeZone,
    heldCategories: heldCategories as Category[],
    morningSpreadSeconds: policy.morningSpreadSeconds,
  };
  assertValidPolicy(candidate);
  const problem = policy.allowNarrowerQuietHours ? undefined : narrowerThanLawReason(candidate);
  if (problem) throw new NarrowerThanLawError(`${problem} (NOTIFY_ALLOW_NARROWER_QUIET_HOURS=true allows it for tests and benchmarks only)`);
  return Object.freeze({ ...candidate, heldCategories: Object.freeze(heldCategories as Category[]) });
}

/**
 * Why a valid policy does not keep the law's window, naming the setting at fault (the variable
 * that sets it); undefined when it keeps it.
 */
export function narrowerThanLawReason(policy: { quietStart: string; quietEnd: string; defaultTimeZone: string }): string | undefined {
  const law = `${LEGAL_QUIET_WINDOW.quietStart}–${LEGAL_QUIET_WINDOW.quietEnd}`;
  if (!coversLegalWindow(policy)) {
    return `NOTIFY_QUIET_START, NOTIFY_QUIET_END: the quiet window ${policy.quietStart}–${policy.quietEnd} is narrower than the law's ${law} (art. 50): it may be wider, never narrower`;
  }
  if (!defaultZoneKeepsLawWindow(policy)) {
    return (
      `NOTIFY_DEFAULT_TIME_ZONE: ${policy.defaultTimeZone} would let a recipient without a zone receive advertising between ${LEGAL_QUIET_WINDOW.quietStart} and ${LEGAL_QUIET_WINDOW.quietEnd} in Korea ` +
      `(${LAW_TIME_ZONE}): read on its clock, the window ${policy.quietStart}–${policy.quietEnd} does not keep the law's hours quiet there. ` +
      `Leave it at ${LAW_TIME_ZONE} and give recipients elsewhere their own timeZone`
    );
  }
  return undefined;
}

/** Whether a category is held in the window for a recipient without night consent. */
export function isHeldCategory(category: Category, policy: QuietHoursPolicy): boolean {
  return category === ALWAYS_HELD_CATEGORY || policy.heldCategories.includes(category);
}
