/**
 * Where the versions of a report live. A sealed report is never replaced: a new run for the same
 * days writes the next version beside it, `<out>/<range>/v1/`, `v2/`, … A report sealed before
 * versions existed has its files in `<out>/<range>/` itself; it counts as version 1, and later
 * versions go beside its files.
 *
 * Why directories per version, and not a suffix on the range's name (`2026-12-02.v2`): the place
 * of every version of a day is one directory, which a reviewer lists, copies, or verifies as a whole
 * (`report verify <out>/<range>`), and its name stays the range's own, which the seal binds to.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';

const VERSION_DIR = /^v([1-9]\d{0,5})$/;

export function isVersionDirName(name: string): boolean {
  return VERSION_DIR.test(name);
}

export function versionDirName(version: number): string {
  return `v${version}`;
}

/** One version of a report, where it lies. */
export interface ReportVersionPlace {
  version: number;
  dir: string;
  /** The name of the range's directory it lies in (what its manifest must name). */
  rangeName: string;
  /** Sealed before versions existed: its files are in the range's directory itself (version 1). */
  legacy: boolean;
}

/** The versions in a range's directory, oldest first; none when it does not exist. */
export async function listReportVersions(rangeDir: string): Promise<ReportVersionPlace[]> {
  let names: string[];
  try {
    names = await readdir(rangeDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const rangeName = basename(rangeDir);
  const places: ReportVersionPlace[] = [];
  if (names.includes('manifest.json')) places.push({ version: 1, dir: rangeDir, rangeName, legacy: true });
  for (const name of names) {
    const match = VERSION_DIR.exec(name);
    if (!match || !(await stat(join(rangeDir, name))).isDirectory()) continue;
    places.push({ version: Number(match[1]), dir: join(rangeDir, name), rangeName, legacy: false });
  }
  return places.sort((a, b) => a.version - b.version || Number(b.legacy) - Number(a.legacy));
}
