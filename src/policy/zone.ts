/**
 * Time-zone arithmetic over luxon's IANAZone: the UTC offset at an instant, the local wall time of
 * day, and the next instant at which a zone's offset changes (a DST or rule transition).
 *
 * Everything works on epoch milliseconds and asks the zone for its offset at an instant; nothing
 * reads the process's own time zone (TZ), so results are the same on every machine.
 */
import { IANAZone } from 'luxon';

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/**
 * Zone names found valid. Only valid names are kept, so the set is bounded by the runtime's zone
 * list whatever the input. A pure function's memo: in a worker that shares this module between
 * workflows (src/workers/workflowCode.ts preloads it), every workflow still gets the same answers.
 */
const knownZones = new Set<string>();

/**
 * True for IANA region names the runtime knows ("Asia/Seoul", "America/New_York") and "UTC".
 * Abbreviations and fixed offsets ("KST", "EST", "+09:00") are refused, as src/notification.ts
 * does: a quiet window follows the recipient's civil time, DST included, which only a region
 * name describes. (Duplicated here because this folder may import nothing but luxon.)
 */
export function isSupportedTimeZone(zone: unknown): zone is string {
  if (typeof zone !== 'string' || zone === '') return false;
  if (!zone.includes('/') && zone !== 'UTC') return false;
  if (knownZones.has(zone)) return true;
  // luxon builds an Intl.DateTimeFormat to answer, about a millisecond: each valid name is asked once.
  if (!IANAZone.isValidZone(zone)) return false;
  knownZones.add(zone);
  return true;
}

/** The zone for a name; throws a RangeError naming it if it is not a supported IANA zone. */
export function zoneNamed(name: string): IANAZone {
  if (!isSupportedTimeZone(name)) {
    throw new RangeError(`unknown time zone ${JSON.stringify(name)}: expected an IANA zone name such as Asia/Seoul`);
  }
  return IANAZone.create(name);
}

/** The zone's UTC offset at an instant, in milliseconds (local wall time = instant + offset). */
export function offsetMsAt(zone: IANAZone, instantMs: number): number {
  const minutes = zone.offset(instantMs);
  if (!Number.isFinite(minutes)) {
    throw new RangeError(`cannot compute the UTC offset of ${zone.name} at ${instantMs}`);
  }
  // luxon reports minutes, which are fractional for historical offsets with seconds (LMT).
  return Math.round(minutes * MINUTE_MS);
}

/** The local wall-clock time of day at an instant, in milliseconds since local midnight: [0, DAY_MS). */
export function wallTimeOfDayMs(zone: IANAZone, instantMs: number): number {
  const local = instantMs + offsetMsAt(zone, instantMs);
  return ((local % DAY_MS) + DAY_MS) % DAY_MS;
}

/**
 * Sampling step when looking for an offset change. A zone would have to change its offset and
 * change it back within this step for a transition to be missed; no zone in the tz database does.
 */
const TRANSITION_PROBE_MS = HOUR_MS;

/**
 * The first instant in (fromMs, toMs] at which the zone's offset differs from its offset at
 * fromMs: the instant of a DST (or other) transition. Undefined if there is none in that span.
 */
export function nextOffsetChange(zone: IANAZone, fromMs: number, toMs: number): number | undefined {
  const offset = offsetMsAt(zone, fromMs);
  let low = fromMs;
  while (low < toMs) {
    const high = Math.min(low + TRANSITION_PROBE_MS, toMs);
    if (offsetMsAt(zone, high) !== offset) {
      // Invariant: the offset at a is the old one, at b a new one; b - a shrinks to 1 ms.
      let a = low;
      let b = high;
      while (b - a > 1) {
        const middle = a + Math.floor((b - a) / 2);
        if (offsetMsAt(zone, middle) === offset) a = middle;
        else b = middle;
      }
      return b;
    }
    low = high;
  }
  return undefined;
}
