/**
 * A quiet-hours policy whose window is in force now and ends at a given instant: every held
 * notification scheduled under it is released at that instant. Benchmarks and fault tests use it
 * to stage "08:00" a minute from now; an operator could use it to rehearse a release.
 */
import { DateTime } from 'luxon';
import { policyFromConfig, type QuietHoursPolicy } from './policy';

/** The policy's window runs for 12 hours up to `releaseAtMs`, which must fall on a whole minute (HH:mm). */
export function policyEndingAt(
  releaseAtMs: number,
  base: { heldCategories: string[]; morningSpreadSeconds?: number },
  zone = 'Asia/Seoul',
): QuietHoursPolicy {
  const end = DateTime.fromMillis(releaseAtMs, { zone });
  if (end.second !== 0 || end.millisecond !== 0) throw new RangeError(`a quiet window ends on a whole minute; ${end.toISO()} is not one`);
  return policyFromConfig({
    heldCategories: base.heldCategories,
    morningSpreadSeconds: base.morningSpreadSeconds ?? 0,
    defaultTimeZone: zone,
    quietEnd: end.toFormat('HH:mm'),
    quietStart: end.minus({ hours: 12 }).toFormat('HH:mm'),
  });
}

/** The first whole minute at least `leadMs` after `nowMs`. */
export function nextWholeMinute(leadMs: number, nowMs: number): number {
  return Math.ceil((nowMs + leadMs) / 60_000) * 60_000;
}
