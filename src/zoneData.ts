/**
 * The time zone data this process decides with: the IANA release inside Node's ICU
 * (`process.versions.tz`), or the one ICU loaded from ICU_TIMEZONE_FILES_DIR when that is set
 * (ICU then reports the loaded files' version there too). Every decision records it (the evidence,
 * the delivery message's `zoneData` attribute), workers and `npm start` print it, and a worker on
 * data older than the newest the project was tested with warns (docs/operations.md).
 *
 * Not for workflow code: it reads `process`. A workflow learns the version from its delivery's result.
 */

/**
 * The newest IANA release the project's tests ran on (Node 24.22.3 and 22.23.5 carry it). Kept here
 * and nowhere else: raise it when CI runs on newer data.
 */
export const NEWEST_TESTED_ZONE_DATA = '2026e';

/** What a process without ICU's time zone data reports. */
export const UNKNOWN_ZONE_DATA = 'unknown';

/** The IANA release this process's ICU uses, e.g. "2026e". */
export function zoneDataVersion(): string {
  const version = process.versions.tz;
  return typeof version === 'string' && version !== '' ? version : UNKNOWN_ZONE_DATA;
}

const RELEASE = /^(\d{4})([a-z]+)$/;

/**
 * Orders two IANA release names ("2026e" < "2026f" < "2027a"; "2026z" < "2026za"); undefined when
 * either is not one.
 */
export function compareZoneData(a: string, b: string): number | undefined {
  const [left, right] = [RELEASE.exec(a), RELEASE.exec(b)];
  if (!left || !right) return undefined;
  return Number(left[1]) - Number(right[1]) || left[2]!.length - right[2]!.length || left[2]!.localeCompare(right[2]!);
}

/**
 * The line a worker and `npm start` print at start, and a warning when the data is older than the
 * newest the project was tested with (or cannot be told).
 */
export function zoneDataBanner(version = zoneDataVersion(), env: NodeJS.ProcessEnv = process.env): { line: string; warning?: string } {
  const source = env.ICU_TIMEZONE_FILES_DIR ? `ICU_TIMEZONE_FILES_DIR=${env.ICU_TIMEZONE_FILES_DIR}` : `Node ${process.version}'s built-in ICU`;
  const line = `zone data   IANA ${version} (${source})`;
  const order = compareZoneData(version, NEWEST_TESTED_ZONE_DATA);
  if (order !== undefined && order >= 0) return { line };
  return {
    line,
    warning:
      `WARNING: this process decides with IANA time zone data ${version}, older than ${NEWEST_TESTED_ZONE_DATA}, the newest this project was tested with: ` +
      'a recipient in a zone whose rules changed since may be released at the wrong hour. Update Node.js, or see docs/operations.md ("Keeping the zone data current").',
  };
}
