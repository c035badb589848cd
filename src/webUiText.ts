/**
 * What a notification's workflow shows in the Web UI besides its search attributes (Temporal's
 * user metadata), on its "User Metadata" tab: a one-line summary that never changes, and current
 * details that the workflow keeps true while it runs. Neither holds personal data: category,
 * channel and times, read in the policy's default zone (the shop's), never the recipient's id,
 * zone or message. Both are encrypted like every payload, so the Web UI shows them only to an
 * operator signed in to the codec server. Pure (luxon only): the workflow bundle imports it.
 */
import { DateTime } from 'luxon';
import { isLegacyForward, type Deliverable, type NotificationResult } from './notification';

function local(instant: Date | string, zone: string): string {
  return DateTime.fromJSDate(typeof instant === 'string' ? new Date(instant) : instant, { zone }).toFormat('yyyy-MM-dd HH:mm:ss');
}

/**
 * The static summary, set when the workflow starts. Only what cannot change: what it is and when it
 * was scheduled (a release instant would go stale after a reschedule or a consent change; the
 * NotificationReleaseAt column and the current details say that).
 */
export function notificationSummary(deliverable: Deliverable, scheduledAt: Date, zone: string): string {
  const what = isLegacyForward(deliverable) ? 'legacy forward' : `${deliverable.category} · ${deliverable.channel}`;
  return `${what} · scheduled ${local(scheduledAt, zone)} ${zone}`;
}

/** The current details: where the notification stands now, with its release in the shop's zone. */
export function currentDetails(result: NotificationResult, zone: string): string {
  const release = `${local(result.releaseAt, zone)} ${zone}`;
  switch (result.status) {
    case 'held':
      return `held until ${release} (${result.releaseReason ?? 'decided'})`;
    case 'sending':
      return `sending, due ${release}`;
    case 'retrying':
      return `retrying after ${result.failedAttempts ?? 0} failed attempts, due ${release}; last error: ${result.lastError ?? 'unknown'}`;
    case 'delivered':
      return `delivered: on the queue since ${local(result.stagedAt ?? result.releaseAt, zone)}, receivable at ${local(result.releasedAt ?? result.releaseAt, zone)} ${zone}`;
    default:
      return `${result.status} (was due ${release})`;
  }
}
