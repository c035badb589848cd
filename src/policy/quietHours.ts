/**
 * When may a notification be sent? The quiet window, read on the recipient's own wall clock.
 *
 * The rule: an instant is inside the window when the recipient's local wall-clock time of day w
 * satisfies start <= w < end (or, when the window wraps midnight, w >= start || w < end). A held
 * notification is released at the first instant at or after max(at, notBefore) that is outside
 * the window, plus its morning-spread offset.
 *
 * Daylight saving time is handled on the wall clock, not on luxon's "shift a missing time
 * forward" rule: if the window's end falls into a spring-forward gap (e.g. 02:30 on a day when the
 * clock jumps from 02:00 to 03:00) the release is the transition instant itself, the first instant
 * whose wall time is past the end; in a fall-back overlap the first occurrence of the end time
 * counts, and an instant in the repeated hour is judged by what the clock shows then.
 */
import type { IANAZone } from 'luxon';
import type { Category, Notification } from '../notification';
import { assertValidPolicy, DEFAULT_POLICY, isHeldCategory, type QuietHoursPolicy } from './policy';
import { keepsLawWindow } from './lawZone';
import { wallTimeIsQuiet, windowOf, type Window } from './quietWindow';
import { morningSpreadOffsetMs, spreadWindowMs } from './spread';
import { DAY_MS, nextOffsetChange, wallTimeOfDayMs, zoneNamed } from './zone';

export type PolicySubject = Pick<Notification, 'notificationId' | 'category' | 'notBefore' | 'expiresAt'> & {
  recipient: { timeZone?: string; nightConsent: boolean };
};

export interface SendDecision {
  /** When it may be sent: never before `at`. */
  releaseAt: Date;
  /** Why releaseAt is what it is: held-quiet-hours whenever the window pushed it. */
  reason: 'immediate' | 'held-quiet-hours' | 'not-before';
  /** The end of the quiet window that held it, before the morning spread. */
  windowEndsAt?: Date;
  /**
   * True if it has an expiry and would be released at or after it (or `at` is already at or past
   * it). A release at the expiry itself counts: a message cannot be receivable at the very instant
   * it was decided for, so it would arrive after its expiry.
   */
  expired: boolean;
  /**
   * Present when the policy does not keep the law's window (art. 50: 21:00–08:00; for a recipient
   * without a zone, in Asia/Seoul: src/policy/lawZone.ts), which only a test or benchmark may
   * configure (NOTIFY_ALLOW_NARROWER_QUIET_HOURS): every decision made under such a policy says so,
   * for the compliance report and the delivery message.
   */
  narrowerThanLaw?: true;
}

function quietAt(zone: IANAZone, window: Window, instantMs: number): boolean {
  return wallTimeIsQuiet(wallTimeOfDayMs(zone, instantMs), window);
}

/** A generous bound: a window is left within a day plus a few transitions in every real zone. */
const MAX_SEARCH_MS = 8 * DAY_MS;

/**
 * The first instant after fromMs at which being inside the window changes (leaving it if fromMs is
 * inside, entering it otherwise), or undefined if that does not happen by limitMs.
 *
 * Between two offset transitions the wall clock runs with the UTC clock, so the change happens
 * exactly when the wall time reaches the window's end (or start). A transition can also change it
 * (a gap jumps over the end, a fall-back jumps back out of the start): each transition on the way
 * is examined in turn.
 */
function nextWindowChange(zone: IANAZone, window: Window, fromMs: number, limitMs: number): number | undefined {
  const wasQuiet = quietAt(zone, window, fromMs);
  const target = wasQuiet ? window.end : window.start;
  let at = fromMs;
  while (at < limitMs) {
    const wall = wallTimeOfDayMs(zone, at);
    // > 0: the wall time at `at` is on the same side as at fromMs, so it is not the target.
    const untilTarget = (((target - wall) % DAY_MS) + DAY_MS) % DAY_MS;
    const reached = at + untilTarget;
    const transition = nextOffsetChange(zone, at, Math.min(reached, limitMs));
    if (transition === undefined) return reached <= limitMs ? reached : undefined;
    at = transition;
    if (quietAt(zone, window, at) !== wasQuiet) return at;
  }
  return undefined;
}

/** Epoch ms of a Date or an ISO-8601 instant with an explicit offset; throws a RangeError naming the field. */
export function instantMs(value: Date | string, field: string): number {
  const ms = value instanceof Date ? value.getTime() : parseIsoInstant(value);
  if (!Number.isFinite(ms)) throw new RangeError(`invalid ${field} ${JSON.stringify(value)}: expected an ISO-8601 instant`);
  return ms;
}

const ISO_INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}(?::?\d{2})?)$/i;

/** An ISO-8601 instant with an explicit offset ("Z" or "+09:00") to epoch ms; NaN if it is not one. */
function parseIsoInstant(text: string): number {
  const match = ISO_INSTANT.exec(text);
  if (!match) return NaN;
  const [, y, mo, d, h, mi, s = '0', fraction = '', zone = 'Z'] = match;
  const fields = [y, mo, d, h, mi, s].map(Number) as [number, number, number, number, number, number];
  const [year, month, day, hour, minute, second] = fields;
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return NaN;
  if (!isRealOffset(zone)) return NaN;
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day); // not Date.UTC, which reads years 0–99 as 1900–1999
  date.setUTCHours(hour, minute, second, Number(fraction.padEnd(3, '0').slice(0, 3)));
  if (date.getUTCDate() !== day) return NaN; // 2026-02-30 and the like
  const local = date.getTime();
  let offsetMinutes = 0;
  if (zone.toUpperCase() !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    offsetMinutes = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || '0'));
  }
  return local - offsetMinutes * 60_000;
}

/**
 * Whether an offset ("Z", "+09:00", "-0330", "+05") is one a clock can show: at most 14 hours
 * (the widest in use, Kiribati's +14:00) and fewer than 60 minutes. "+99:99" would move an
 * instant by four days. (src/notification.ts refuses the same in the contract.)
 */
export function isRealOffset(offset: string): boolean {
  if (offset.toUpperCase() === 'Z') return true;
  const digits = offset.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = Number(digits.slice(2, 4) || '0');
  return minutes < 60 && hours * 60 + minutes <= 14 * 60;
}

/**
 * Whether an instant is inside the policy's quiet window on the wall clock of a zone.
 * Throws a RangeError for an unknown zone.
 */
export function isInQuietWindow(at: Date, timeZone: string, policy: QuietHoursPolicy = DEFAULT_POLICY): boolean {
  const window = windowOf(policy);
  if (!window) return false;
  return quietAt(zoneNamed(timeZone), window, instantMs(at, 'at'));
}

/**
 * The end of the quiet window holding an instant: the first instant at or after it that is outside
 * the window. The instant itself when it is not inside.
 */
export function quietWindowEnd(at: Date, timeZone: string, policy: QuietHoursPolicy = DEFAULT_POLICY): Date {
  const window = windowOf(policy);
  const fromMs = instantMs(at, 'at');
  if (!window) return new Date(fromMs);
  const zone = zoneNamed(timeZone);
  if (!quietAt(zone, window, fromMs)) return new Date(fromMs);
  return new Date(leaveWindow(zone, window, fromMs));
}

/**
 * The start of the next quiet window: the first instant at or after `at` that is inside the window
 * on the zone's wall clock (`at` itself when it is inside). Undefined when the policy has no window.
 */
export function quietWindowStart(at: Date, timeZone: string, policy: QuietHoursPolicy = DEFAULT_POLICY): Date | undefined {
  const window = windowOf(policy);
  if (!window) return undefined;
  const fromMs = instantMs(at, 'at');
  const zone = zoneNamed(timeZone);
  if (quietAt(zone, window, fromMs)) return new Date(fromMs);
  const start = nextWindowChange(zone, window, fromMs, fromMs + MAX_SEARCH_MS);
  return start === undefined ? undefined : new Date(start);
}

/** Whether the quiet window applies to this notification at all: a held category without night consent. */
export function isSubjectToWindow(notification: PolicySubject, policy: QuietHoursPolicy = DEFAULT_POLICY): boolean {
  return isHeldCategory(notification.category as Category, policy) && !notification.recipient.nightConsent;
}

/**
 * The instant by which a notification released at `releaseAt` must have gone out (the first
 * instant at which a send is no longer allowed): its expiry, or the start of the next quiet window
 * if the window applies to it, whichever comes first.
 * Undefined when neither bounds it. A send still failing then must stop and decide again: a
 * message that only gets through at 21:30 would be an advertisement at night.
 */
export function sendDeadline(releaseAt: Date, notification: PolicySubject, policy: QuietHoursPolicy = DEFAULT_POLICY): Date | undefined {
  const releaseMs = instantMs(releaseAt, 'releaseAt');
  let deadlineMs = notification.expiresAt === undefined ? Number.POSITIVE_INFINITY : instantMs(notification.expiresAt, 'expiresAt');
  if (isSubjectToWindow(notification, policy)) {
    const zoneName = notification.recipient.timeZone || policy.defaultTimeZone;
    const windowStart = quietWindowStart(new Date(releaseMs), zoneName, policy);
    if (windowStart !== undefined) deadlineMs = Math.min(deadlineMs, windowStart.getTime());
  }
  return Number.isFinite(deadlineMs) ? new Date(deadlineMs) : undefined;
}

function leaveWindow(zone: IANAZone, window: Window, fromMs: number): number {
  const end = nextWindowChange(zone, window, fromMs, fromMs + MAX_SEARCH_MS);
  if (end === undefined) {
    throw new Error(`the quiet window in ${zone.name} does not end within 8 days of ${new Date(fromMs).toISOString()}`);
  }
  return end;
}

/**
 * The offset of a held notification after its window's end: its morning-spread offset, squeezed
 * proportionally into the allowed stretch if the window would start again before the spread is
 * over (a spread longer than the day, or a fall-back re-entering the window), so that the release
 * is never inside the window and stays in [windowEnd, windowEnd + spread).
 */
function spreadAfter(zone: IANAZone, window: Window, windowEndMs: number, id: string, spreadSeconds: number): number {
  const offset = morningSpreadOffsetMs(id, spreadSeconds);
  if (offset === 0) return 0;
  const spreadMs = spreadWindowMs(spreadSeconds);
  const reentry = nextWindowChange(zone, window, windowEndMs, windowEndMs + spreadMs - 1);
  if (reentry === undefined) return offset;
  const allowedMs = reentry - windowEndMs;
  return Math.min(allowedMs - 1, Math.floor((offset / spreadMs) * allowedMs));
}

/**
 * When a notification may be sent, decided at `at` (the workflow's clock).
 *
 * From max(at, notBefore): if its category is held (advertising always, others per the policy),
 * its recipient has no night consent and that instant is inside the quiet window on the
 * recipient's wall clock (policy.defaultTimeZone if the recipient has no zone), it is released at
 * the window's end plus its morning-spread offset; otherwise at that instant. Pure and
 * deterministic: safe in workflow code.
 */
export function nextAllowedSendTime(
  at: Date,
  notification: PolicySubject,
  policy: QuietHoursPolicy = DEFAULT_POLICY,
): SendDecision {
  assertValidPolicy(policy);
  const atMs = instantMs(at, 'at');
  const notBeforeMs = notification.notBefore === undefined ? undefined : instantMs(notification.notBefore, 'notBefore');
  const expiresAtMs = notification.expiresAt === undefined ? undefined : instantMs(notification.expiresAt, 'expiresAt');

  const fromMs = notBeforeMs !== undefined && notBeforeMs > atMs ? notBeforeMs : atMs;
  let releaseMs = fromMs;
  let reason: SendDecision['reason'] = fromMs > atMs ? 'not-before' : 'immediate';
  let windowEndsMs: number | undefined;

  const zoneName = notification.recipient.timeZone || policy.defaultTimeZone;
  const zone = zoneNamed(zoneName);
  const window = windowOf(policy);
  const held = isSubjectToWindow(notification, policy);
  if (held && window && quietAt(zone, window, fromMs)) {
    windowEndsMs = leaveWindow(zone, window, fromMs);
    releaseMs =
      windowEndsMs + spreadAfter(zone, window, windowEndsMs, notification.notificationId, policy.morningSpreadSeconds);
    reason = 'held-quiet-hours';
  }

  const expired = expiresAtMs !== undefined && (releaseMs >= expiresAtMs || atMs >= expiresAtMs);
  return {
    releaseAt: new Date(releaseMs),
    reason,
    ...(windowEndsMs !== undefined ? { windowEndsAt: new Date(windowEndsMs) } : {}),
    expired,
    ...(keepsLawWindow(policy) ? {} : { narrowerThanLaw: true as const }),
  };
}
