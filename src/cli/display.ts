/**
 * How the CLI prints notifications for a person: local times in the shop's zone (the policy's
 * default, which recipients without a zone of their own have), time until release, what will happen.
 */
import { DateTime } from 'luxon';
import type { CancelOutcome, FoundNotification } from '../client';
import { OPEN_STATUSES, type NotificationResult } from '../notification';

export interface DisplayContext {
  /** The zone times are shown in: the shop's (the policy's default zone). */
  zone: string;
  now: Date;
}

/** An instant as the shop's wall clock shows it: "2026-12-04 08:00:00 Asia/Seoul". */
export function localInstant(instant: string | undefined, context: DisplayContext): string {
  if (!instant) return '(unknown)';
  return `${DateTime.fromISO(instant, { zone: context.zone }).toFormat('yyyy-MM-dd HH:mm:ss')} ${context.zone}`;
}

/** "in 9 h 12 min", "3 min ago", "now", "in 72 years". */
export function relative(instant: string | undefined, now: Date): string {
  if (!instant) return '';
  const deltaMs = Date.parse(instant) - now.getTime();
  const minutes = Math.round(Math.abs(deltaMs) / 60_000);
  if (minutes === 0) return 'now';
  const days = Math.floor(minutes / 1440);
  // Far away (a producer's schedule years ahead), minutes are noise.
  if (days >= 730) return deltaMs > 0 ? `in ${Math.floor(days / 365.25)} years` : `${Math.floor(days / 365.25)} years ago`;
  const hours = Math.floor((minutes % 1440) / 60);
  const rest = minutes % 60;
  const span = [days ? `${days} d` : '', hours ? `${hours} h` : '', rest ? `${rest} min` : ''].filter(Boolean).join(' ');
  return deltaMs > 0 ? `in ${span}` : `${span} ago`;
}

/** Whether a held notification will expire before its release (and so never be sent). */
function expiresFirst(result: NotificationResult): boolean {
  return result.expiresAt !== undefined && Date.parse(result.expiresAt) <= Date.parse(result.releaseAt);
}

/** `status` for a person: a headline and aligned details. */
export function statusLines(notificationId: string, result: NotificationResult, context: DisplayContext): string[] {
  const rows: [string, string][] = [];
  const open = OPEN_STATUSES.includes(result.status);
  if (open) rows.push(['release', `${localInstant(result.releaseAt, context)}, ${relative(result.releaseAt, context.now)}${result.releaseReason ? ` (${result.releaseReason})` : ''}`]);
  if (result.expiresAt) {
    rows.push(['expires', `${localInstant(result.expiresAt, context)}${open && expiresFirst(result) ? ': before its release, so it will not be sent (it ends expired then)' : ''}`]);
  }
  if (result.stagedAt) rows.push(['on the queue since', localInstant(result.stagedAt, context)]);
  if (result.releasedAt) rows.push(['receivable at', `${localInstant(result.releasedAt, context)}, ${relative(result.releasedAt, context.now)}`]);
  if (result.messageId) rows.push(['message id', result.messageId]);
  if (result.lastError) rows.push(['last error', `${result.lastError} (${result.failedAttempts ?? 0} failed attempts, ${result.failedWindows ?? 0} failed windows)`]);
  if (result.failure) rows.push(['failure', result.failure]);
  if (result.replacedBy) rows.push(['replaced by', `${result.replacedBy} (the newer one with its collapse key)`]);
  if (result.digest) rows.push(['in digest', `${result.digest.notificationId}${result.digest.messageId ? `, message id ${result.digest.messageId}` : ''}`]);
  if (result.status === 'capped') rows.push(['morning cap', "beyond its recipient's morning cap at that release: it was not sent"]);
  if (!open && !result.releasedAt) rows.push(['was due', localInstant(result.releaseAt, context)]);
  if (result.narrowerThanLaw) rows.push(['note', "decided under a quiet window narrower than the law's (a test override)"]);
  const width = Math.max(...rows.map(([label]) => label.length));
  const headline = result.status === 'held' && expiresFirst(result) ? 'held (will expire before its release)' : result.status;
  return [`${notificationId}: ${headline}`, ...rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`)];
}

/** One line of `find` for a person. */
export function foundLine(found: FoundNotification, context: DisplayContext): string {
  const when = found.status === 'held' || found.status === 'retrying' ? `due ${localInstant(found.releaseAt, context)} (${relative(found.releaseAt, context.now)})` : `was due ${localInstant(found.releaseAt, context)}`;
  return `${found.notificationId}  ${found.status}  ${when}  ${found.category}${found.channel ? `/${found.channel}` : ''}  scheduled ${localInstant(found.scheduledAt, context)}`;
}

/** "on the delivery queue since X, receivable at Y (in 3 min)": where a staged or sent notification is. */
function onTheQueue(result: NotificationResult, context: DisplayContext): string {
  const since = result.stagedAt ? ` since ${localInstant(result.stagedAt, context)}` : '';
  const receivable = result.releasedAt ? `, receivable at ${localInstant(result.releasedAt, context)} (${relative(result.releasedAt, context.now)})` : '';
  return `on the delivery queue${since}${receivable}`;
}

/** Why a change came too late, for a person: where the notification is instead. */
export function tooLateLine(notificationId: string, change: string, result: NotificationResult, context: DisplayContext): string {
  const where =
    result.status === 'delivered'
      ? onTheQueue(result, context)
      : result.status === 'digested'
        ? `${onTheQueue(result, context)}, in the digest ${result.digest?.notificationId ?? ''}`
      : result.status === 'sending' || result.status === 'retrying'
        ? `it is being sent (${result.status})`
        : `it is already ${result.status}`;
  return `${notificationId}: too late to ${change}: ${where}`;
}

/** `cancel` for a person: what became of the notification. */
export function cancelLines(notificationId: string, outcome: CancelOutcome, result: NotificationResult | undefined, context: DisplayContext): string[] {
  if (outcome.cancelled) return [`${notificationId}: cancelled; it was due ${localInstant(outcome.releaseAt, context)} and will not be sent`];
  const where = result ?? (outcome as NotificationResult);
  return [tooLateLine(notificationId, 'cancel', where, context), ...(where.messageId ? [`  message id  ${where.messageId}`] : [])];
}

/** `consent` and `reschedule` for a person: the change, then where the notification stands now (as `status` shows it). */
export function changedLines(notificationId: string, change: string, result: NotificationResult, context: DisplayContext): string[] {
  const [headline, ...details] = statusLines(notificationId, result, context);
  return [`${notificationId}: ${change}; now ${headline!.slice(notificationId.length + 2)}`, ...details];
}
