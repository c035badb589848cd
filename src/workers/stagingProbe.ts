/**
 * Whether staging keeps up, as a gauge the alert "staging behind schedule" reads
 * (deploy/prometheus/alerts.yml). A held notification is invisible to the workers until its first
 * task (its start delay keeps it on the server), so a worker cannot count what is due from what it
 * has seen; the server's visibility can. Every 30 s each worker with metrics on counts the
 * notifications of its task queue that are still `held` with a release instant at most
 * STAGING_CHECK_SECONDS away (or past). With a staging lead longer than that window, each of them
 * should be on the delivery queue by now: "at T − 5 min, fewer are staged than are due at T" is this
 * count above 0. One count query per worker and interval; every replica reports the same number.
 */
import type { Client } from '@temporalio/client';
import { Runtime } from '@temporalio/worker';
import { GAUGES, STAGING_CHECK_SECONDS } from '../metricNames';

/** The visibility query: open notifications of the task queue still held, due within the window. */
export function heldDueSoonQuery(taskQueue: string, nowMs: number, windowSeconds = STAGING_CHECK_SECONDS): string {
  const until = new Date(nowMs + windowSeconds * 1000).toISOString();
  return `TaskQueue = '${taskQueue.replaceAll("'", "\\'")}' AND ExecutionStatus = 'Running' AND NotificationStatus = 'held' AND NotificationReleaseAt <= '${until}'`;
}

export interface StagingProbe {
  /** Counts once now (the interval does the rest). */
  probe(): Promise<number>;
  stop(): void;
}

export function startStagingProbe(options: { client: Client; taskQueue: string; intervalMs?: number; onError?: (error: unknown) => void }): StagingProbe {
  const gauge = Runtime.instance().metricMeter.createGauge(GAUGES.heldDueSoon);
  const tags = { task_queue: options.taskQueue };
  let lastErrorAt = 0;
  const probe = async () => {
    const { count } = await options.client.workflow.count(heldDueSoonQuery(options.taskQueue, Date.now()));
    gauge.set(count, tags);
    return count;
  };
  const tick = () =>
    probe().catch((error) => {
      // A server that does not answer is the other alerts' business; say so once a minute at most.
      if (Date.now() - lastErrorAt < 60_000) return;
      lastErrorAt = Date.now();
      (options.onError ?? ((cause) => console.warn(`staging probe: the count of held notifications failed: ${(cause as Error).message}`)))(error);
    });
  void tick();
  const timer = setInterval(tick, options.intervalMs ?? 30_000);
  timer.unref();
  return { probe, stop: () => clearInterval(timer) };
}
