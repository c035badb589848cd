/**
 * The Temporal Schedule that runs reconcileLegacyQueueWorkflow: every minute by default, in
 * Asia/Seoul, one run at a time (overlap: skip). Created or updated idempotently at start-up and
 * by `npm run cli -- schedule-legacy ensure`; operators can pause, resume and trigger it from the
 * CLI or from the Web UI's Schedules page.
 */
import { ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';
import type { Config } from '../config';
import type { reconcileLegacyQueueWorkflow } from '../workflows/reconcileLegacyQueue';
import { ensureSchedule } from './ensureSchedule';

export const RECONCILE_SCHEDULE_ID = 'reconcile-legacy-wait-queue';
export const SCHEDULE_TIME_ZONE = 'Asia/Seoul';

export interface ReconcileScheduleSettings {
  taskQueue: string;
  cron: string;
  maxRunSeconds: number;
}

export function reconcileScheduleSettings(config: Config): ReconcileScheduleSettings {
  return { taskQueue: config.temporal.taskQueue, cron: config.reconcile.cron, maxRunSeconds: config.reconcile.maxSecondsPerRun };
}

function scheduleOptions(settings: ReconcileScheduleSettings): ScheduleOptions {
  return {
    scheduleId: RECONCILE_SCHEDULE_ID,
    spec: { cronExpressions: [settings.cron], timezone: SCHEDULE_TIME_ZONE },
    action: {
      type: 'startWorkflow',
      workflowType: 'reconcileLegacyQueueWorkflow' satisfies (typeof reconcileLegacyQueueWorkflow)['name'],
      workflowId: 'reconcile-legacy-wait-queue-run',
      taskQueue: settings.taskQueue,
      args: [{ maxRunSeconds: settings.maxRunSeconds }],
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute' },
  };
}

/** Creates the schedule, or brings an existing one to these settings; says which it did. */
export function ensureReconcileSchedule(client: Client, settings: ReconcileScheduleSettings): Promise<'created' | 'updated'> {
  return ensureSchedule(client, scheduleOptions(settings));
}

export function reconcileScheduleHandle(client: Client) {
  return client.schedule.getHandle(RECONCILE_SCHEDULE_ID);
}
