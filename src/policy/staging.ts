/**
 * Staging: a held notification is sent a little before its release instant, with an SQS delay
 * that makes it receivable at the release instant and not before. The work of the release then
 * happens in the minutes before 08:00 instead of in a burst at 08:00 itself.
 *
 * Only a release that no consent change can forbid is staged: one outside the quiet window for
 * the notification's category. A release inside the window rests on night-time consent, and a
 * withdrawal before that instant must still hold it, so it is sent at its instant instead.
 */
import { isHeldCategory, type QuietHoursPolicy } from './policy';
import { instantMs, isInQuietWindow, type PolicySubject, type SendDecision } from './quietHours';

/** SQS's largest per-message delay (DelaySeconds), so the longest possible lead. */
export const MAX_PRESTAGE_SECONDS = 900;

/** A staging lead in milliseconds; throws a RangeError naming the value outside 0–900 s. */
export function prestageLeadMs(prestageSeconds: number): number {
  if (!Number.isInteger(prestageSeconds) || prestageSeconds < 0 || prestageSeconds > MAX_PRESTAGE_SECONDS) {
    throw new RangeError(`prestageSeconds must be a whole number of seconds from 0 to ${MAX_PRESTAGE_SECONDS}, got ${String(prestageSeconds)}`);
  }
  return prestageSeconds * 1000;
}

/** Whether a release may be staged: no consent change can forbid it (it is outside the category's quiet window). */
export function isStageable(decision: SendDecision, subject: PolicySubject, policy: QuietHoursPolicy): boolean {
  if (!isHeldCategory(subject.category, policy)) return true;
  return !isInQuietWindow(decision.releaseAt, subject.recipient.timeZone || policy.defaultTimeZone, policy);
}

/**
 * When a notification's workflow next has something to do: at its expiry when it would only be
 * released at or after it (so that it ends `expired` then, never staged); `leadMs` before a release
 * that may be staged, when it is sent with the delay that remains; at the release itself otherwise.
 */
export function wakeUpAt(decision: SendDecision, subject: PolicySubject, policy: QuietHoursPolicy, leadMs: number): Date {
  if (decision.expired && subject.expiresAt !== undefined) return new Date(instantMs(subject.expiresAt, 'expiresAt'));
  const lead = isStageable(decision, subject, policy) ? leadMs : 0;
  return new Date(decision.releaseAt.getTime() - lead);
}
