/**
 * The workflows' own metrics (names in src/metricNames.ts), on the SDK's workflow metric meter,
 * which leaves out everything recorded while a workflow replays its history: a workflow evicted from
 * a worker's cache and replayed elsewhere does not count again. Deterministic-safe: nothing here
 * reads a clock, does I/O or changes what the workflow does (a metric is not a command).
 *
 * The SDK adds the labels `namespace`, `taskQueue` and `workflowType`; these functions add
 * `category` (src/metricNames.ts, categoryLabel).
 *
 * Counted at least once: a first workflow task that fails (a worker killed in it) and runs again is
 * not a replay, so its counts are recorded again.
 */
import { metricMeter } from '@temporalio/workflow';
import { categoryLabel, COUNTERS } from '../metricNames';

type Categorised = { kind?: string; category?: string };

/**
 * A notification workflow began: call once, at the top of the workflow function (its first task,
 * which for a held notification comes at its wake-up, the release minus the staging lead).
 */
export function countScheduled(deliverable: Categorised): void {
  metricMeter.createCounter(COUNTERS.scheduled).add(1, { category: categoryLabel(deliverable) });
}

/** The final statuses that have a counter of their own (delivered ones are counted by the send: staged or sent). */
const OUTCOME_COUNTERS = {
  failed: COUNTERS.failed,
  capped: COUNTERS.capped,
  collapsed: COUNTERS.collapsed,
  digested: COUNTERS.digested,
} as const;

export type CountedOutcome = keyof typeof OUTCOME_COUNTERS;

/**
 * A notification workflow ended with `status`: counts failed, capped, collapsed and digested (any
 * other status is counted elsewhere or not at all). Call once, where the workflow records its final
 * status.
 */
export function countEnded(status: string, deliverable: Categorised): void {
  const counter = OUTCOME_COUNTERS[status as CountedOutcome];
  if (counter) metricMeter.createCounter(counter).add(1, { category: categoryLabel(deliverable) });
}
