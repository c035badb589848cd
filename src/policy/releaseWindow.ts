/**
 * A rehearsal of the morning release at any instant: a quiet-hours policy whose window is in force
 * now and ends at a given instant T, so every held notification scheduled under it is released at
 * T. Benchmarks and fault tests use it to stage "08:00" a minute from now; an operator could use it
 * to rehearse a release.
 *
 * The policy keeps the law's window: its default zone is a fixed-offset zone in which T falls in
 * the late afternoon, and its window runs from 21:00 there to T (across midnight). So it needs no
 * NOTIFY_ALLOW_NARROWER_QUIET_HOURS, and recipients without a zone of their own, as rehearsals
 * use, are held exactly as the law asks of that zone.
 */
import { DateTime } from 'luxon';
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

/** The policy's window runs from 21:00 to `releaseAtMs` (a whole minute) in a zone where that is about 18:00. */
export function policyEndingAt(releaseAtMs: number, base: { heldCategories: string[]; morningSpreadSeconds?: number }): QuietHoursPolicy {
  const zone = zoneWhereAfternoon(releaseAtMs);
  const end = DateTime.fromMillis(releaseAtMs, { zone });
  if (end.second !== 0 || end.millisecond !== 0) throw new RangeError(`a quiet window ends on a whole minute; ${end.toISO()} is not one`);
  return policyFromConfig({
    heldCategories: base.heldCategories,
    morningSpreadSeconds: base.morningSpreadSeconds ?? 0,
    defaultTimeZone: zone,
    quietStart: '21:00',
    quietEnd: end.toFormat('HH:mm'),
  });
}

/** The first whole minute at least `leadMs` after `nowMs`. */
export function nextWholeMinute(leadMs: number, nowMs: number): number {
  return Math.ceil((nowMs + leadMs) / 60_000) * 60_000;
}
