/**
 * The one-line summary a notification's workflow carries for the Web UI (Temporal's user metadata),
 * so that an operator can read a list of notifications without opening each one. It holds no
 * personal data: category, channel and when it goes out, read in the policy's default zone (the
 * shop's), never the recipient's id, zone or message. It is encrypted like every payload, so the
 * Web UI shows it only through the codec server.
 */
import { DateTime } from 'luxon';
import { isLegacyForward, type Deliverable } from '../notification';
import type { QuietHoursPolicy, SendDecision } from '../policy';

export function notificationSummary(deliverable: Deliverable, decision: SendDecision, policy: QuietHoursPolicy): string {
  const at = DateTime.fromJSDate(decision.releaseAt, { zone: policy.defaultTimeZone }).toFormat('yyyy-MM-dd HH:mm');
  const when = decision.expired
    ? 'expires before it may be sent'
    : decision.reason === 'held-quiet-hours'
      ? `held until ${at} ${policy.defaultTimeZone}`
      : decision.reason === 'not-before'
        ? `not before ${at} ${policy.defaultTimeZone}`
        : 'sent at once';
  const what = isLegacyForward(deliverable) ? 'legacy forward' : `${deliverable.category} · ${deliverable.channel}`;
  return `${what} · ${when}`;
}
