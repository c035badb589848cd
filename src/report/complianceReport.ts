/** The report as a document: what the JSON file holds, and what the CSV and HTML are drawn from. */
import type { Config } from '../config';
import { LEGAL_QUIET_WINDOW } from '../policy';
import type { ReportFigures, Verdict } from './aggregate';
import type { ReportInterval } from './reportRange';

export interface ComplianceReport {
  kind: 'kst-notification-scheduler/compliance-report';
  range: { fromDate: string; toDate: string; from: string; to: string; zone: 'Asia/Seoul' };
  generatedAt: string;
  software: { name: string; version: string };
  verdict: { passed: boolean; line: string };
  /** The configuration of the process that made the report, and the windows the decisions were made under. */
  policy: {
    configured: { quietStart: string; quietEnd: string; defaultTimeZone: string; heldCategories: string[]; prestageSeconds: number; allowNarrowerQuietHours: boolean; morningCap: number; morningCapOverflow: string };
    law: { quietStart: string; quietEnd: string };
    decisionWindows: Record<string, number>;
    narrowerThanLawDecisions: number;
  };
  counts: { notifications: number; byStatus: Record<string, number>; released: number };
  released: ReportFigures['released'];
  quietWindowAdvertisements: ReportFigures['quietWindowAdvertisements'];
  advertisementsWithoutEvidence: string[];
}

export function complianceReport(input: { interval: ReportInterval; figures: ReportFigures; verdict: Verdict; config: Config; generatedAt: Date; software: { name: string; version: string } }): ComplianceReport {
  const { interval, figures, verdict, config } = input;
  return {
    kind: 'kst-notification-scheduler/compliance-report',
    range: { fromDate: interval.fromDate, toDate: interval.toDate, from: new Date(interval.startMs).toISOString(), to: new Date(interval.endMs).toISOString(), zone: 'Asia/Seoul' },
    generatedAt: input.generatedAt.toISOString(),
    software: input.software,
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
    },
    counts: { notifications: figures.rows, byStatus: figures.statusCounts, released: figures.released.reduce((sum, row) => sum + row.count, 0) },
    released: figures.released,
    quietWindowAdvertisements: figures.quietWindowAdvertisements,
    advertisementsWithoutEvidence: figures.advertisementsWithoutEvidence,
  };
}
