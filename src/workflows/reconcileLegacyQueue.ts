/**
 * Drains the legacy wait queue into notification workflows. A Temporal Schedule runs it every
 * minute; each notification workflow then holds its message through the quiet window itself, so
 * this never waits for 08:00 and a large backlog only means more (bounded) runs.
 */
import { continueAsNew, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { addCounts, EMPTY_COUNTS, type DrainCounts } from '../legacy/drainCounts';

export interface ReconcileOptions {
  /** Stop after this long; the next scheduled run goes on (overlap policy skip keeps one at a time). */
  maxRunSeconds?: number;
  /** Counts carried over a continue-as-new, so the final result covers the whole run. */
  carried?: DrainCounts;
  /** When the first of a chain of continued runs started (ms since epoch, workflow clock). */
  startedAtMs?: number;
}

export interface ReconcileResult extends DrainCounts {
  /** Whether the queue answered empty (false: a bound stopped the run first). */
  queueEmpty: boolean;
}

const { drainLegacyQueue } = proxyActivities<Pick<Activities, 'drainLegacyQueue'>>({
  startToCloseTimeout: '2 minutes',
  // A queue that keeps failing fails the run after this, rather than keeping it open: the Schedule's
  // next run tries again on the current build, and a run pinned to an old build lets that build drain.
  // What it received and did not delete comes back to the queue.
  scheduleToCloseTimeout: '5 minutes',
  // A killed worker is noticed within this, and the next attempt takes the messages up again.
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

/** Activity calls per run before continue-as-new keeps the history small. */
const CALLS_BEFORE_CONTINUE_AS_NEW = 100;

export async function reconcileLegacyQueueWorkflow(options: ReconcileOptions = {}): Promise<ReconcileResult> {
  const maxRunSeconds = options.maxRunSeconds ?? 50;
  const startedAtMs = options.startedAtMs ?? Date.now();
  let counts = options.carried ?? { ...EMPTY_COUNTS };

  for (let call = 0; call < CALLS_BEFORE_CONTINUE_AS_NEW; call++) {
    const remainingSeconds = Math.floor((startedAtMs + maxRunSeconds * 1000 - Date.now()) / 1000);
    if (remainingSeconds <= 0) return { ...counts, queueEmpty: false };
    const drained = await drainLegacyQueue({
      maxSeconds: Math.min(remainingSeconds, 30),
      maxMessages: 2_000,
      concurrency: 8,
      waitTimeSeconds: 1,
    });
    counts = addCounts(counts, drained);
    if (drained.queueEmpty) return { ...counts, queueEmpty: true };
    if (workflowInfo().continueAsNewSuggested) break;
  }
  return continueAsNew<typeof reconcileLegacyQueueWorkflow>({ maxRunSeconds, carried: counts, startedAtMs });
}
