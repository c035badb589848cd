/**
 * Writes one compliance report: reads the range from visibility, aggregates as it reads, and writes
 * report.json, released.csv, quiet-window.csv and report.html into outDir/<range>, sealed. The CLI
 * (`report`) and the daily Schedule's activity both call this.
 */
import type { Client } from '@temporalio/client';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, type Config } from '../config';
import { ReportAccumulator, verdictOf } from './aggregate';
import { complianceReport, type ComplianceReport } from './complianceReport';
import { sealReport } from './manifest';
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
  dir: string;
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
  return complianceReport({ interval, figures, verdict: verdictOf(figures), config: deps.config, generatedAt: (deps.now ?? (() => new Date()))(), software: softwareVersion() });
}

/** Writes a report's files into outDir/<range>, sealed with the key; a report already there is replaced. */
export async function writeReportFiles(report: ComplianceReport, outDir: string, key: Buffer): Promise<WrittenReport> {
  const dir = join(outDir, reportName(report.range));
  // Written beside and renamed into place: a reader never sees half a report.
  const partial = `${dir}.partial-${process.pid}`;
  await rm(partial, { recursive: true, force: true });
  await mkdir(partial, { recursive: true });
  await writeFile(join(partial, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(join(partial, 'released.csv'), releasedCsv(report));
  await writeFile(join(partial, 'quiet-window.csv'), quietWindowCsv(report));
  await writeFile(join(partial, 'report.html'), await reportHtml(report));
  const files = await sealReport(partial, key);
  await rm(dir, { recursive: true, force: true });
  await rename(partial, dir);
  return { dir, files, passed: report.verdict.passed, verdict: report.verdict.line, notifications: report.counts.notifications };
}

/** Writes the report for KST days [fromDate, toDate] into outDir/<name>, signed. */
export async function writeComplianceReport(deps: ReportDeps, range: ReportRange, outDir: string): Promise<WrittenReport> {
  const key = reportSigningKey(deps.config);
  return writeReportFiles(await buildComplianceReport(deps, range), outDir, key);
}
