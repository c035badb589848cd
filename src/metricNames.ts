/**
 * The names of the project's own Prometheus metrics, in one place: the activities and the workflows
 * record them (src/activities/metrics.ts, src/workflows/metrics.ts), the worker's runtime sets the
 * buckets of its histograms (src/workers/telemetry.ts), deploy/prometheus/alerts.yml and the bench's
 * picture of the morning read them, and a test reads them from a live worker.
 *
 * Names as the SDK's Prometheus exporter gives them to the SDK: counters are created without
 * `_total`, which the exporter adds (`countersTotalSuffix`, so that the SDK's own counters follow the
 * convention too); `exposed()` is the name Prometheus sees. Durations are seconds. Pure constants:
 * the workflow bundle imports this file.
 */

/** Counters, as created (the exporter adds `_total`). Each carries a `category` label. */
export const COUNTERS = {
  /** Notification workflows that began (their first workflow task: for a held one, at its wake-up). */
  scheduled: 'notify_notifications_scheduled',
  /** Messages put on the delivery queue before their release instant, with an SQS delay. */
  staged: 'notify_notifications_staged',
  /** Messages put on the delivery queue at or after their release instant (not staged). */
  sent: 'notify_notifications_sent',
  /**
   * Messages that have become receivable on the delivery queue, by this worker's reckoning: a sent
   * one at once, a staged one when its SQS delay ends (counted then, if the worker still runs).
   */
  released: 'notify_notifications_released',
  /** Send attempts that failed, by `category` and `reason` (the failure type). A retry that succeeds later still counted. */
  sendFailures: 'notify_send_failures',
  /**
   * Sends whose message became receivable inside the recipient's quiet window although its decision
   * did not allow that: before the release instant of a notification the window held, or at or
   * after the start of its next quiet window. Always 0; anything else is the alarm.
   */
  insideQuietWindow: 'notify_sends_inside_quiet_window',
  /** Notifications that ended `failed` (the workflow's outcome, after its retries). */
  failed: 'notify_notifications_failed',
  /** Notifications the morning cap kept back (`capped`). */
  capped: 'notify_notifications_capped',
  /** Notifications a newer one with the same collapse key replaced (`collapsed`). */
  collapsed: 'notify_notifications_collapsed',
  /** Notifications merged into their morning's digest (`digested`). */
  digested: 'notify_notifications_digested',
} as const;

/** Histograms, in seconds. */
export const HISTOGRAMS = {
  /** How far ahead of its release instant each staged message was handed to SQS. */
  stagedAhead: 'notify_staged_ahead_of_release_seconds',
  /** How long after its release instant each message became receivable (staged: the alignment; sent: the lateness). */
  releaseLag: 'notify_release_lag_seconds',
} as const;

/** Gauges, recorded by the worker process (src/workers/stagingProbe.ts). */
export const GAUGES = {
  /**
   * Notifications still `held` whose release instant is at most STAGING_CHECK_SECONDS away (or
   * past): with a staging lead longer than that, each should have been on the queue already.
   */
  heldDueSoon: 'notify_held_due_within_check_window',
} as const;

/** The window of GAUGES.heldDueSoon: the alert's "T − 5 min". */
export const STAGING_CHECK_SECONDS = 300;

/**
 * Bucket bounds (seconds). Staging: the lead is at most 900 s. Lag: a staged message turns
 * receivable within the alignment margin and the batch window (≈ 0.01–0.1 s); an unstaged one within
 * seconds of its release; a retried one minutes or hours later.
 */
export const HISTOGRAM_BUCKETS: Record<(typeof HISTOGRAMS)[keyof typeof HISTOGRAMS], number[]> = {
  [HISTOGRAMS.stagedAhead]: [1, 5, 15, 30, 60, 120, 300, 600, 900],
  [HISTOGRAMS.releaseLag]: [0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
};

/** The name Prometheus sees for a counter created as `name`. */
export function exposedCounter(name: (typeof COUNTERS)[keyof typeof COUNTERS]): string {
  return `${name}_total`;
}

/** The category label of a deliverable: its category, `legacy` for a legacy body forwarded as it was, `digest` for a morning's digest. */
export function categoryLabel(deliverable: { kind?: string; category?: string }): string {
  if (deliverable.kind === 'digest') return 'digest';
  if (deliverable.kind === 'legacy-forward') return 'legacy';
  return deliverable.category ?? 'unknown';
}

/**
 * The Temporal SDK's own metrics that the alerts and the bench's picture read, as its exporter names
 * them with the options of src/workers/telemetry.ts (a test reads each from a live worker).
 */
export const SDK_METRICS = {
  /** Histogram: how long workflow tasks waited for a worker (`task_queue` label). */
  workflowTaskScheduleToStart: 'temporal_workflow_task_schedule_to_start_latency_seconds',
  /** Histogram: the same for activity tasks (local activities, the sends, have none). */
  activityScheduleToStart: 'temporal_activity_schedule_to_start_latency_seconds',
  /** Gauge: pollers by `poller_type` (workflow_task, sticky_workflow_task, activity_task). */
  pollers: 'temporal_num_pollers',
  /** Gauges: task slots free and in use, by `worker_type` (WorkflowWorker, ActivityWorker, LocalActivityWorker). */
  taskSlotsAvailable: 'temporal_worker_task_slots_available',
  taskSlotsUsed: 'temporal_worker_task_slots_used',
  /** Gauge: workflows in the worker's cache. */
  stickyCacheSize: 'temporal_sticky_cache_size',
} as const;

/** Every name a worker's /metrics serves that something of this project reads (histograms by their base name). */
export function knownMetricNames(): Set<string> {
  const names = new Set<string>();
  for (const counter of Object.values(COUNTERS)) names.add(exposedCounter(counter));
  for (const base of [...Object.values(HISTOGRAMS), SDK_METRICS.workflowTaskScheduleToStart, SDK_METRICS.activityScheduleToStart]) {
    for (const suffix of ['_bucket', '_count', '_sum']) names.add(`${base}${suffix}`);
  }
  for (const gauge of [...Object.values(GAUGES), SDK_METRICS.pollers, SDK_METRICS.taskSlotsAvailable, SDK_METRICS.taskSlotsUsed, SDK_METRICS.stickyCacheSize]) names.add(gauge);
  return names;
}

/**
 * What a live worker serves after one staged and one immediate send, as test/cli.stack.e2e.test.ts
 * reads it from `npm start`'s worker: every name here must be there. The Grafana dashboard
 * (deploy/grafana) reads only these (test/alerts.rules.test.ts checks).
 */
export const LIVE_WORKER_METRICS: readonly string[] = [
  exposedCounter(COUNTERS.staged),
  exposedCounter(COUNTERS.sent),
  exposedCounter(COUNTERS.released),
  exposedCounter(COUNTERS.insideQuietWindow),
  ...Object.values(HISTOGRAMS).flatMap((base) => [`${base}_bucket`, `${base}_count`, `${base}_sum`]),
  GAUGES.heldDueSoon,
  ...['_bucket', '_count', '_sum'].map((suffix) => `${SDK_METRICS.workflowTaskScheduleToStart}${suffix}`),
  SDK_METRICS.pollers,
  SDK_METRICS.taskSlotsAvailable,
  SDK_METRICS.taskSlotsUsed,
  SDK_METRICS.stickyCacheSize,
];
