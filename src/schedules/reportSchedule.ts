/**
 * The Temporal Schedule that writes the compliance report every morning for the KST day before
 * (NOTIFY_REPORT_CRON, default 06:00 Asia/Seoul). Ensured by every worker at start, like the legacy
 * reconciler's; a missed morning (no worker up) is caught up within a day.
 */
import { ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';
import type { Config } from '../config';
import type { complianceReportWorkflow } from '../workflows/complianceReport';
import { ensureSchedule } from './ensureSchedule';
import { SCHEDULE_TIME_ZONE } from './reconcileSchedule';

export const REPORT_SCHEDULE_ID = 'compliance-report-daily';

export function reportScheduleOptions(config: Config): ScheduleOptions {
  return {
    scheduleId: REPORT_SCHEDULE_ID,
    spec: { cronExpressions: [config.report.cron], timezone: SCHEDULE_TIME_ZONE },
    action: {
      type: 'startWorkflow',
      workflowType: 'complianceReportWorkflow' satisfies (typeof complianceReportWorkflow)['name'],
      workflowId: 'compliance-report-daily-run',
      taskQueue: config.temporal.taskQueue,
      args: [{}],
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 day' },
  };
}

export function ensureReportSchedule(client: Client, config: Config): Promise<'created' | 'updated'> {
  return ensureSchedule(client, reportScheduleOptions(config));
}
