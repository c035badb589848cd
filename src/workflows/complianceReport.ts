/**
 * The daily compliance report: the Schedule starts this every morning, and it has the report of the
 * KST day before written (by default; a range may be given, e.g. to redo a day).
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { dayBefore, type ReportRange } from '../report/reportRange';

const { writeComplianceReportFiles } = proxyActivities<Pick<Activities, 'writeComplianceReportFiles'>>({
  // Minutes at two million notifications a day (bench/README.md); the bound leaves room.
  startToCloseTimeout: '1 hour',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 5 },
});

/**
 * Set by the server on every run a Schedule starts: the instant the Schedule meant it for. A run
 * caught up after an outage, or backfilled, starts late; its start time would name the wrong day.
 */
const ScheduledStartTimeKey = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

export interface ComplianceReportInput {
  range?: ReportRange;
}

export async function complianceReportWorkflow(input: ComplianceReportInput = {}): Promise<{ dir: string; passed: boolean; verdict: string }> {
  // The day before the instant the Schedule meant to run it; started by hand, the day before the start.
  const info = workflowInfo();
  const scheduledAt = (info.typedSearchAttributes.get(ScheduledStartTimeKey) ?? info.startTime).getTime();
  const day = dayBefore(scheduledAt);
  const written = await writeComplianceReportFiles(input.range ?? { fromDate: day, toDate: day });
  return { dir: written.dir, passed: written.passed, verdict: written.verdict };
}
