/**
 * A rehearsal of the morning release at any instant: a quiet-hours policy, and a zone for the
 * rehearsal's recipients, such that every held notification scheduled under it is released at a
 * given instant T. Benchmarks and fault tests use it to stage "08:00" a minute from now; an
 * operator could use it to rehearse a release.
 *
 * It keeps the law, at any hour, without NOTIFY_ALLOW_NARROWER_QUIET_HOURS. The recipients live in
 * a fixed-offset zone in which T falls in the late afternoon, and the window runs from 21:00 to T
 * on their clock (across midnight): wider than the law's 21:00–08:00. The default zone stays
 * Asia/Seoul, so a recipient without a zone of their own is held as the law asks of Korea (the same
 * window, read there, still covers 21:00–08:00): a rehearsal's recipients must carry its zone.
 */
import { DateTime } from 'luxon';
import { LAW_TIME_ZONE } from './lawZone';
import { policyFromConfig, type QuietHoursPolicy } from './policy';
import { HOUR_MS } from './zone';

/** Where T falls on the rehearsal zone's clock: late enough that hours of lead still start after midnight there. */
const TARGET_LOCAL_HOUR = 18;

/** The fixed-offset IANA zone (Etc/GMT-N is UTC+N) in which an instant is about 18:00. */
export function zoneWhereAfternoon(instantMs: number): string {
  const utcHour = (instantMs % (24 * HOUR_MS)) / HOUR_MS;
  // Offsets from UTC-12 to UTC+14 exist; any hour of the day lands within [17.5, 18.5) for one of them.
  let offset = Math.round(TARGET_LOCAL_HOUR - utcHour);
  if (offset > 14) offset -= 24;
  if (offset < -12) offset += 24;
  if (offset === 0) return 'Etc/UTC';
  return `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`;
}

export interface Rehearsal {
  /** The window runs from 21:00 to T (a whole minute) on the recipients' clock; the default zone is Asia/Seoul. */
  policy: QuietHoursPolicy;
  /** The zone to give every recipient of the rehearsal (`recipient.timeZone`): T is about 18:00 there. */
  timeZone: string;
}

/** A rehearsal whose held notifications are released at `releaseAtMs` (a whole minute), for recipients in its `timeZone`. */
export function rehearsalEndingAt(releaseAtMs: number, base: { heldCategories: string[]; morningSpreadSeconds?: number }): Rehearsal {
  const timeZone = zoneWhereAfternoon(releaseAtMs);
  const end = DateTime.fromMillis(releaseAtMs, { zone: timeZone });
  if (end.second !== 0 || end.millisecond !== 0) throw new RangeError(`a quiet window ends on a whole minute; ${end.toISO()} is not one`);
  const policy = policyFromConfig({
    heldCategories: base.heldCategories,
    morningSpreadSeconds: base.morningSpreadSeconds ?? 0,
    defaultTimeZone: LAW_TIME_ZONE,
    quietStart: '21:00',
    quietEnd: end.toFormat('HH:mm'),
  });
  return { policy, timeZone };
}

/** Notifications with every recipient in the rehearsal's zone, which its window is read in. */
export function inRehearsalZone<T extends { recipient: object }>(inputs: readonly T[], rehearsal: Pick<Rehearsal, 'timeZone'>): T[] {
  return inputs.map((input) => ({ ...input, recipient: { ...input.recipient, timeZone: rehearsal.timeZone } }));
}

/** The first whole minute at least `leadMs` after `nowMs`. */
export function nextWholeMinute(leadMs: number, nowMs: number): number {
  return Math.ceil((nowMs + leadMs) / 60_000) * 60_000;
}
