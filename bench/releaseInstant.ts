/**
 * Where a measured release happens: a quiet window that is in force now and ends at an instant T
 * the caller picks (a whole minute, as the policy's HH:mm allows), so that every notification
 * scheduled before T is held until T. Shared by the benchmarks and the cluster tests.
 */
import { DateTime } from 'luxon';
import type { Config } from '../src/config';
import { policyFromConfig, type QuietHoursPolicy } from '../src/policy';

export const RELEASE_ZONE = 'Asia/Seoul';

/** The policy whose quiet window is in force now and ends at T (a whole minute in Asia/Seoul). */
export function policyEndingAt(releaseAtMs: number, morningSpreadSeconds: number, base: Config['policy']): QuietHoursPolicy {
  const end = DateTime.fromMillis(releaseAtMs, { zone: RELEASE_ZONE });
  return policyFromConfig({
    ...base,
    defaultTimeZone: RELEASE_ZONE,
    quietEnd: end.toFormat('HH:mm'),
    quietStart: end.minus({ hours: 12 }).toFormat('HH:mm'),
    morningSpreadSeconds,
  });
}

/** The first whole minute at least `leadMs` from now. */
export function nextWholeMinute(leadMs: number): number {
  const earliest = Date.now() + leadMs;
  return Math.ceil(earliest / 60_000) * 60_000;
}
