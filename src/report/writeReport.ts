/**
 * Writes one compliance report: reads the range from visibility, aggregates as it reads, and writes
 * report.json, released.csv, quiet-window.csv and report.html into outDir/<range>/v<N>, sealed,
 * beside the versions already there. The CLI (`report`) and the daily Schedule's activity both call this.
 */
import type { Client } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, type Config } from '../config';
import { ReportAccumulator, verdictOf } from './aggregate';
import { complianceReport, type ComplianceReport } from './complianceReport';
import { manifestDigest, sealReport, verifyReport } from './manifest';
import { reportChanges } from './reportChanges';
import { listReportVersions, versionDirName, type ReportVersionPlace } from './reportVersions';
import { zoneDataVersion } from '../zoneData';
import { reportInterval, reportName, type ReportRange } from './reportRange';
import { quietWindowCsv, releasedCsv, reportHtml } from './renderReport';
import type { ReportRow } from './reportRow';
import { visibilityRows } from './visibilityRows';
import { softwareVersion } from './softwareVersion';

export interface ReportDeps {
  client: Client;
  config: Config;
  /** The clock for "made at"; the system clock when absent. */
  now?: () => Date;
}

export interface WrittenReport {
  /** The version's directory: outDir/<range>/v<N>. */
  dir: string;
  /** Its version: 1, or one more than the newest already there. */
  version: number;
  /** The version it supersedes (absent for version 1). */
  supersedes?: number;
  files: string[];
  passed: boolean;
  verdict: string;
  notifications: number;
}

/** NOTIFY_REPORT_SIGNING_KEY, or a ConfigError naming it: an unsigned report proves nothing. */
export function reportSigningKey(config: Config): Buffer {
  if (!config.report.signingKey) {
    throw new ConfigError('NOTIFY_REPORT_SIGNING_KEY is not set: set it (32 random bytes in base64), or, for the local stack, run `npm start` once and leave TEMPORAL_ADDRESS unset');
  }
  return config.report.signingKey;
}

/**
 * Builds the report of a range from its notifications: by default the visibility list of the
 * range; a test on a server without list queries (the time-skipping one) passes the rows itself.
 */
export async function buildComplianceReport(deps: ReportDeps, range: ReportRange, rows?: AsyncIterable<ReportRow> | Iterable<ReportRow>): Promise<ComplianceReport> {
  const interval = reportInterval(range);
  const accumulator = new ReportAccumulator(interval);
  for await (const row of rows ?? visibilityRows(deps.client, interval)) accumulator.add(row);
  const figures = accumulator.figures();
  return complianceReport({ interval, figures, verdict: verdictOf(figures), config: deps.config, generatedAt: (deps.now ?? (() => new Date()))(), software: softwareVersion(), zoneData: zoneDataVersion() });
}

/**
 * Writes a report's files as the next version of its range, `outDir/<range>/v<N>/`, sealed with
 * the key; a version already there is never touched. Version N names version N − 1 (and the
 * SHA-256 of its manifest) as the one it supersedes, and says what changed against it.
 */
export async function writeReportFiles(report: ComplianceReport, outDir: string, key: Buffer): Promise<WrittenReport> {
  const name = reportName(report.range);
  const rangeDir = join(outDir, name);
  await mkdir(rangeDir, { recursive: true });
  // Another writer (the Schedule, a CLI run) may take the same version first: then the next one.
  for (let attempt = 0; ; attempt += 1) {
    const previous = (await listReportVersions(rangeDir)).at(-1);
    const versioned = previous ? await supersede(report, previous, key) : { ...report, version: 1 };
    const dir = join(rangeDir, versionDirName(versioned.version));
    // Written beside and renamed into place: a reader never sees half a report.
    const partial = join(outDir, `.${name}.${versionDirName(versioned.version)}.partial-${process.pid}-${randomUUID()}`);
    await mkdir(partial, { recursive: true });
    try {
      await writeFile(join(partial, 'report.json'), `${JSON.stringify(versioned, null, 2)}\n`);
      await writeFile(join(partial, 'released.csv'), releasedCsv(versioned));
      await writeFile(join(partial, 'quiet-window.csv'), quietWindowCsv(versioned));
      await writeFile(join(partial, 'report.html'), await reportHtml(versioned));
      const files = await sealReport(partial, key, {
        range: { fromDate: versioned.range.fromDate, toDate: versioned.range.toDate },
        version: versioned.version,
        generatedAt: versioned.generatedAt,
        software: versioned.software,
        zoneData: { madeWith: versioned.zoneData.madeWith, decisions: [...new Set(Object.values(versioned.zoneData.byDay).flatMap((versions) => Object.keys(versions)))].sort() },
        supersedes: versioned.supersedes ? { version: versioned.supersedes.version, manifestSha256: versioned.supersedes.manifestSha256 } : null,
      });
      // rename() does not replace a directory that holds anything: a version sealed meanwhile stays.
      await rename(partial, dir);
      return {
        dir,
        files,
        passed: versioned.verdict.passed,
        verdict: versioned.verdict.line,
        notifications: versioned.counts.notifications,
        version: versioned.version,
        ...(versioned.supersedes ? { supersedes: versioned.supersedes.version } : {}),
      };
    } catch (error) {
      await rm(partial, { recursive: true, force: true });
      const taken = ['ENOTEMPTY', 'EEXIST'].includes((error as NodeJS.ErrnoException).code ?? '');
      if (!taken || attempt >= 20) throw error;
    }
  }
}

/** The report as the version after `previous`: its number, the seal it supersedes, and what changed. */
async function supersede(report: ComplianceReport, previous: ReportVersionPlace, key: Buffer): Promise<ComplianceReport> {
  const version = previous.version + 1;
  const verified = await verifyReport(previous.dir, key);
  let before: Partial<ComplianceReport> | undefined;
  try {
    before = JSON.parse(await readFile(join(previous.dir, 'report.json'), 'utf8')) as Partial<ComplianceReport>;
  } catch {
    before = undefined;
  }
  const intact = verified.ok;
  const changes = before
    ? reportChanges(before, report, previous.version)
    : { fromVersion: previous.version, counts: [] };
  return {
    ...report,
    version,
    supersedes: { version: previous.version, manifestSha256: await manifestDigest(previous.dir), ...(before?.generatedAt ? { generatedAt: before.generatedAt } : {}), intact },
    changes: {
      ...changes,
      ...(intact && before ? {} : { previousUnreadable: before ? `v${previous.version} did not verify: ${verified.problems.join('; ')}` : `v${previous.version}'s report.json could not be read` }),
    },
  };
}

/** Writes the report for KST days [fromDate, toDate] into outDir/<name>, signed. */
export async function writeComplianceReport(deps: ReportDeps, range: ReportRange, outDir: string): Promise<WrittenReport> {
  const key = reportSigningKey(deps.config);
  return writeReportFiles(await buildComplianceReport(deps, range), outDir, key);
}
