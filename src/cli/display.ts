/** How `status` and `find` print notifications for a person: local times, time until release, what will happen. */
import { DateTime } from 'luxon';
import type { FoundNotification } from '../client';
import { OPEN_STATUSES, type NotificationResult } from '../notification';

export interface DisplayContext {
  /** The zone times are shown in: the shop's (the policy's default zone). */
  zone: string;
  now: Date;
}

function local(instant: string | undefined, context: DisplayContext): string {
  if (!instant) return '(unknown)';
  return `${DateTime.fromISO(instant, { zone: context.zone }).toFormat('yyyy-MM-dd HH:mm:ss')} ${context.zone}`;
}

/** "in 9 h 12 min", "3 min ago", "now". */
export function relative(instant: string | undefined, now: Date): string {
  if (!instant) return '';
  const deltaMs = Date.parse(instant) - now.getTime();
  const minutes = Math.round(Math.abs(deltaMs) / 60_000);
  if (minutes === 0) return 'now';
  const days = Math.floor(minutes / 1440);
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
  if (open) rows.push(['release', `${local(result.releaseAt, context)}, ${relative(result.releaseAt, context.now)}${result.releaseReason ? ` (${result.releaseReason})` : ''}`]);
  if (result.expiresAt) {
    rows.push(['expires', `${local(result.expiresAt, context)}${open && expiresFirst(result) ? ': before its release, so it will not be sent (it ends expired then)' : ''}`]);
  }
  if (result.stagedAt) rows.push(['on the queue since', local(result.stagedAt, context)]);
  if (result.releasedAt) rows.push(['receivable at', `${local(result.releasedAt, context)}, ${relative(result.releasedAt, context.now)}`]);
  if (result.messageId) rows.push(['message id', result.messageId]);
  if (result.lastError) rows.push(['last error', `${result.lastError} (${result.failedAttempts ?? 0} failed attempts, ${result.failedWindows ?? 0} failed windows)`]);
  if (result.failure) rows.push(['failure', result.failure]);
  if (result.replacedBy) rows.push(['replaced by', `${result.replacedBy} (the newer one with its collapse key)`]);
  if (result.digest) rows.push(['in digest', `${result.digest.notificationId}${result.digest.messageId ? `, message id ${result.digest.messageId}` : ' (sent at the release)'}`]);
  if (result.status === 'capped') rows.push(['morning cap', 'beyond its recipient\'s morning cap: it will not be sent unless a place frees before the release']);
  if (!open && !result.releasedAt) rows.push(['was due', local(result.releaseAt, context)]);
  if (result.narrowerThanLaw) rows.push(['note', "decided under a quiet window narrower than the law's (a test override)"]);
  const width = Math.max(...rows.map(([label]) => label.length));
  const headline = result.status === 'held' && expiresFirst(result) ? 'held (will expire before its release)' : result.status;
  return [`${notificationId}: ${headline}`, ...rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`)];
}

/** One line of `find` for a person. */
export function foundLine(found: FoundNotification, context: DisplayContext): string {
  const when = found.status === 'held' || found.status === 'retrying' ? `due ${local(found.releaseAt, context)} (${relative(found.releaseAt, context.now)})` : `was due ${local(found.releaseAt, context)}`;
  return `${found.notificationId}  ${found.status}  ${when}  ${found.category}${found.channel ? `/${found.channel}` : ''}  scheduled ${local(found.scheduledAt, context)}`;
}
