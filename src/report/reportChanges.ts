/**
 * What a new version of a report changes against the version it supersedes: the verdict, and every
 * count that differs (notifications, by status, released by grounds, advertisements inside the
 * law's window, decisions under a narrower window, the zone data seen). A reviewer reads it at the
 * top of the newest version's page, so that a day that failed and passes on a re-run says so.
 * Pure.
 */
import type { ComplianceReport } from './complianceReport';

export interface CountChange {
  /** What is counted, in words: "delivered", "released, held-quiet-hours", … */
  what: string;
  before: number;
  after: number;
}

export interface ReportChanges {
  /** The version compared with. */
  fromVersion: number;
  /** When it was made, ISO-8601 (absent when it could not be read). */
  previousGeneratedAt?: string;
  /** Present when the verdict changed. */
  verdict?: { before: { passed: boolean; line: string }; after: { passed: boolean; line: string } };
  /** Every count that differs. */
  counts: CountChange[];
  /** The previous version's report.json could not be read or did not verify: what can be said of it. */
  previousUnreadable?: string;
}

/** The counts a report is compared by, named. */
function countsOf(report: Partial<ComplianceReport>): Map<string, number> {
  const counts = new Map<string, number>();
  counts.set('notifications', report.counts?.notifications ?? 0);
  for (const [status, count] of Object.entries(report.counts?.byStatus ?? {})) counts.set(status, count);
  counts.set('released', report.counts?.released ?? 0);
  for (const row of report.released ?? []) counts.set(`released, ${row.grounds}`, (counts.get(`released, ${row.grounds}`) ?? 0) + row.count);
  counts.set('advertisements receivable inside the quiet window', report.quietWindowAdvertisements?.length ?? 0);
  counts.set('delivered without recorded grounds', report.advertisementsWithoutEvidence?.length ?? 0);
  counts.set('decisions under a window narrower than the law', report.policy?.narrowerThanLawDecisions ?? 0);
  for (const versions of Object.values(report.zoneData?.byDay ?? {})) {
    for (const [version, count] of Object.entries(versions)) counts.set(`decisions on zone data ${version}`, (counts.get(`decisions on zone data ${version}`) ?? 0) + count);
  }
  return counts;
}

/** What `after` changes against `before` (a previous version's report.json, parsed). */
export function reportChanges(before: Partial<ComplianceReport>, after: ComplianceReport, fromVersion: number): ReportChanges {
  const [old, now] = [countsOf(before), countsOf(after)];
  const counts: CountChange[] = [];
  for (const what of new Set([...old.keys(), ...now.keys()])) {
    const [was, is] = [old.get(what) ?? 0, now.get(what) ?? 0];
    if (was !== is) counts.push({ what, before: was, after: is });
  }
  const verdictChanged = before.verdict && (before.verdict.passed !== after.verdict.passed || before.verdict.line !== after.verdict.line);
  return {
    fromVersion,
    ...(before.generatedAt ? { previousGeneratedAt: before.generatedAt } : {}),
    ...(verdictChanged ? { verdict: { before: before.verdict!, after: after.verdict } } : {}),
    counts,
  };
}
