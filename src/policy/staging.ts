/**
 * Staging: a held notification is sent a little before its release instant, with an SQS delay
 * that makes it receivable at the release instant and not before. The work of the release then
 * happens in the minutes before 08:00 instead of in a burst at 08:00 itself.
 */
import { instantMs, type SendDecision } from './quietHours';

/** SQS's largest per-message delay (DelaySeconds), so the longest possible lead. */
export const MAX_PRESTAGE_SECONDS = 900;

/** A staging lead in milliseconds; throws a RangeError naming the value outside 0–900 s. */
export function prestageLeadMs(prestageSeconds: number): number {
  if (!Number.isInteger(prestageSeconds) || prestageSeconds < 0 || prestageSeconds > MAX_PRESTAGE_SECONDS) {
    throw new RangeError(`prestageSeconds must be a whole number of seconds from 0 to ${MAX_PRESTAGE_SECONDS}, got ${String(prestageSeconds)}`);
  }
  return prestageSeconds * 1000;
}

/**
 * When a notification's workflow next has something to do: at its expiry when it would only be
 * released after it (so that it ends `expired` then, never staged), otherwise `leadMs` before its
 * release, when it is sent with the delay that remains.
 */
export function wakeUpAt(decision: SendDecision, expiresAt: string | undefined, leadMs: number): Date {
  if (decision.expired && expiresAt !== undefined) return new Date(instantMs(expiresAt, 'expiresAt'));
  return new Date(decision.releaseAt.getTime() - leadMs);
}
