/**
 * The law's window for a recipient without a zone of their own: 21:00–08:00 in Korea, whatever
 * zone the configuration reads their window in. A default zone other than Asia/Seoul keeps the
 * law only if the configured window, read on that zone's clock, keeps 21:00–08:00 Asia/Seoul quiet
 * at every offset the two zones have to each other (UTC with a window of 12:00–23:00 does; UTC or
 * America/Los_Angeles with 21:00–08:00 does not). Such a default zone is refused like a narrower
 * window: by the configuration at start, and by the workflow, unless NOTIFY_ALLOW_NARROWER_QUIET_HOURS
 * allows it, and then every decision made under it says so (`narrowerThanLaw`).
 * Pure (luxon only).
 */
import { coversLegalWindow, LEGAL_QUIET_WINDOW, windowCoversWindow, windowOf, type WindowSettings } from './quietWindow';
import { DAY_MS, offsetMsAt, zoneNamed } from './zone';

/** The zone the law's 21:00–08:00 is read in for a recipient whose zone is not known. */
export const LAW_TIME_ZONE = 'Asia/Seoul';

/**
 * The span over which two zones' offsets are compared, a day apart: every rule in force from 2024
 * and what the zone data foresees to 2040. A state shorter than a day (none exists) could be missed.
 */
const COMPARED_FROM_MS = Date.UTC(2024, 0, 1);
const COMPARED_TO_MS = Date.UTC(2040, 0, 1);

/** The offsets (ms) of `zone` relative to Asia/Seoul over the compared span. */
function offsetsFromLawZone(zoneName: string): number[] {
  const zone = zoneNamed(zoneName);
  const law = zoneNamed(LAW_TIME_ZONE);
  const differences = new Set<number>();
  for (let at = COMPARED_FROM_MS; at < COMPARED_TO_MS; at += DAY_MS) differences.add(offsetMsAt(zone, at) - offsetMsAt(law, at));
  return [...differences];
}

/**
 * Answers found, by zone and window. A pure function's memo, bounded by the zones the runtime knows
 * times the windows in use: every caller gets the same answers.
 */
const keeps = new Map<string, boolean>();

/**
 * Whether a window read on `defaultTimeZone`'s clock keeps the law's 21:00–08:00 Asia/Seoul quiet,
 * at every offset the zone has to Asia/Seoul. Throws a RangeError for an unknown zone.
 */
export function defaultZoneKeepsLawWindow(policy: WindowSettings & { defaultTimeZone: string }): boolean {
  if (policy.defaultTimeZone === LAW_TIME_ZONE) return coversLegalWindow(policy);
  const key = `${policy.defaultTimeZone}|${policy.quietStart}|${policy.quietEnd}`;
  const known = keeps.get(key);
  if (known !== undefined) return known;
  const configured = windowOf(policy);
  const law = windowOf(LEGAL_QUIET_WINDOW)!;
  // The law's window, moved onto the default zone's clock: 21:00 in Seoul is 21:00 + difference there.
  const answer = offsetsFromLawZone(policy.defaultTimeZone).every((difference) => {
    const moved = { start: (((law.start + difference) % DAY_MS) + DAY_MS) % DAY_MS, end: (((law.end + difference) % DAY_MS) + DAY_MS) % DAY_MS };
    return windowCoversWindow(configured, moved);
  });
  keeps.set(key, answer);
  return answer;
}

/**
 * Whether a policy keeps the law: its window covers 21:00–08:00 on every recipient's clock, and
 * for a recipient without a zone, 21:00–08:00 Asia/Seoul. What NOTIFY_ALLOW_NARROWER_QUIET_HOURS
 * must allow otherwise.
 */
export function keepsLawWindow(policy: WindowSettings & { defaultTimeZone: string }): boolean {
  return coversLegalWindow(policy) && defaultZoneKeepsLawWindow(policy);
}
