/** The report as a document: what the JSON file holds, and what the CSV and HTML are drawn from. */
import type { Config } from '../config';
import type { ReportChanges } from './reportChanges';
import { LEGAL_QUIET_WINDOW } from '../policy';
import type { ReportFigures, Verdict } from './aggregate';
import type { ReportInterval } from './reportRange';

export interface ComplianceReport {
  kind: 'kst-notification-scheduler/compliance-report';
  range: { fromDate: string; toDate: string; from: string; to: string; zone: 'Asia/Seoul' };
  /** 1 for the first report of its range; each run for the same range writes the next, beside the others. */
  version: number;
  /** The version this one supersedes: its number and the SHA-256 of its manifest.json (what the seal binds); absent for version 1. */
  supersedes?: { version: number; manifestSha256: string; generatedAt?: string; intact: boolean };
  /** What differs from the version it supersedes; absent for version 1. */
  changes?: ReportChanges;
  generatedAt: string;
  software: { name: string; version: string };
  /**
   * The IANA time zone data: the report maker's (`madeWith`), and per KST day the versions the
   * decisions recorded, with how many each; `disagreements` lists the days on which workers used
   * more than one. `decisionsWithoutVersion` counts evidence recorded before versions were kept.
   */
  zoneData: { madeWith: string; byDay: Record<string, Record<string, number>>; disagreements: string[]; decisionsWithoutVersion: number };
  verdict: { passed: boolean; line: string };
  /** The configuration of the process that made the report, and the windows the decisions were made under. */
  policy: {
    configured: { quietStart: string; quietEnd: string; defaultTimeZone: string; heldCategories: string[]; prestageSeconds: number; allowNarrowerQuietHours: boolean; morningCap: number; morningCapOverflow: string };
    law: { quietStart: string; quietEnd: string };
    decisionWindows: Record<string, number>;
    narrowerThanLawDecisions: number;
    /** Notifications without a recorded decision (still held or retrying when it was made, or ended by an error before one): not in decisionWindows. */
    notificationsWithoutDecision: number;
  };
  counts: { notifications: number; byStatus: Record<string, number>; released: number };
  released: ReportFigures['released'];
  quietWindowAdvertisements: ReportFigures['quietWindowAdvertisements'];
  digests: ReportFigures['digests'];
  advertisementsWithoutEvidence: string[];
}

export function complianceReport(input: {
  interval: ReportInterval;
  figures: ReportFigures;
  verdict: Verdict;
  config: Config;
  generatedAt: Date;
  software: { name: string; version: string };
  /** The zone data of the process that makes the report. */
  zoneData: string;
}): ComplianceReport {
  const { interval, figures, verdict, config } = input;
  return {
    kind: 'kst-notification-scheduler/compliance-report',
    range: { fromDate: interval.fromDate, toDate: interval.toDate, from: new Date(interval.startMs).toISOString(), to: new Date(interval.endMs).toISOString(), zone: 'Asia/Seoul' },
    version: 1,
    generatedAt: input.generatedAt.toISOString(),
    software: input.software,
    zoneData: {
      madeWith: input.zoneData,
      byDay: figures.zoneData,
      disagreements: Object.entries(figures.zoneData).filter(([, versions]) => Object.keys(versions).length > 1).map(([day]) => day),
      decisionsWithoutVersion: figures.decisionsWithoutZoneData,
    },
    verdict: { passed: verdict.passed, line: verdict.line },
    policy: {
      configured: {
        quietStart: config.policy.quietStart,
        quietEnd: config.policy.quietEnd,
        defaultTimeZone: config.policy.defaultTimeZone,
        heldCategories: config.policy.heldCategories,
        prestageSeconds: config.delivery.prestageSeconds,
        allowNarrowerQuietHours: config.policy.allowNarrowerQuietHours,
        morningCap: config.morning.cap,
        morningCapOverflow: config.morning.overflow,
      },
      law: { ...LEGAL_QUIET_WINDOW },
      decisionWindows: figures.policyWindows,
      narrowerThanLawDecisions: figures.narrowerThanLawDecisions,
      notificationsWithoutDecision: figures.withoutDecision,
    },
    counts: { notifications: figures.rows, byStatus: figures.statusCounts, released: figures.released.reduce((sum, row) => sum + row.count, 0) },
    released: figures.released,
    quietWindowAdvertisements: figures.quietWindowAdvertisements,
    digests: figures.digests,
    advertisementsWithoutEvidence: figures.advertisementsWithoutEvidence,
  };
}
