/**
 * The Temporal server under test, as the release runs see it: an address with a client and a
 * worker connection, its metrics (persistence requests, frontend requests and failed history tasks,
 * by operation), and the CPU of its processes. The benchmark starts a fresh dev server per run
 * (devServerTarget); another server (a cluster) only has to provide the same three things.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Config } from '../src/config';
import { dataConverterFromConfig } from '../src/security/dataConverter';
import { freePort } from '../src/stack/ports';
import { startDevServer } from '../src/stack/temporalServers';
import { cpuOfPids, descendantsMatching, sleep } from './common';
import { operationCountersAt, scrape, type OperationCounts } from './metrics';

export interface TemporalTarget {
  /** What the report calls it, e.g. "dev server (in memory)". */
  description: string;
  /** Client (with the project's data converter) and a worker connection to it. */
  env: Pick<TestWorkflowEnvironment, 'client' | 'nativeConnection' | 'namespace' | 'address'>;
  namespace: string;
  /** Persistence requests so far, by operation, summed over the server's services. */
  persistenceRequests(): Promise<OperationCounts>;
  /** Frontend requests so far, by operation (RespondWorkflowTaskCompleted, say). */
  serviceRequests(): Promise<OperationCounts>;
  /** History tasks that failed and were retried so far, by operation (TimerActiveTaskUserTimer, say). */
  taskErrors(): Promise<OperationCounts>;
  /** Billable actions so far in the namespace, by type (Temporal's `action` counter). */
  actions(): Promise<OperationCounts>;
  /** CPU time (user + system, ms) its processes have used so far. */
  cpuMs(): number;
  /** Its processes, so that the per-process CPU table can name them. */
  pids(): number[];
  /** The same processes by role when there are several (the cluster: Temporal and PostgreSQL); default: all as 'temporal server'. */
  pidsByRole?(): Record<string, number[]>;
  /** Its Prometheus endpoint (http://host:port/metrics), for `--watch` (bench/watch.ts). */
  metricsUrl?: string;
  /** Below this share of a core the server counts as idle (its own housekeeping stays under it). */
  idleCoreFraction?: number;
  /**
   * A worker process of the production build on this server, with these variables (a cluster):
   * release runs that ask for worker processes use it; without it a run hosts one worker in-process.
   */
  addWorker?(env: NodeJS.ProcessEnv): Promise<{ pid: number; stop(): Promise<void> }>;
  stop(): Promise<void>;
}

export type TemporalTargetFactory = (config: Config) => Promise<TemporalTarget>;

/** A fresh dev server (in memory, or on a SQLite file) with its Prometheus metrics on a free port. */
export function devServerTarget(options: { dbFilename?: string } = {}): TemporalTargetFactory {
  return async (config) => {
    const metricsPort = await freePort();
    const before = new Set(descendantsMatching(/temporal/i));
    const env = await startDevServer({
      dbFilename: options.dbFilename,
      namespace: config.temporal.namespace,
      dataConverter: dataConverterFromConfig(config),
      localStack: config.localStack,
      metricsPort,
      log: () => undefined,
    });
    const pids = descendantsMatching(/temporal/i).filter((pid) => !before.has(pid));
    if (pids.length === 0) throw new Error('the dev server started, but no new temporal process is among our children');
    const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    // The endpoint answers a moment after the frontend does.
    for (let attempt = 0; ; attempt += 1) {
      try {
        await scrape(metricsUrl);
        break;
      } catch (error) {
        if (attempt >= 50) throw new Error(`the dev server's metrics at ${metricsUrl} do not answer: ${(error as Error).message}`);
        await sleep(200);
      }
    }
    return {
      description: options.dbFilename ? 'dev server (SQLite file)' : 'dev server (in memory)',
      env,
      metricsUrl,
      namespace: config.temporal.namespace,
      ...operationCountersAt(metricsUrl),
      cpuMs: () => cpuOfPids(pids),
      pids: () => pids,
      stop: () => env.teardown(),
    };
  };
}

/**
 * Waits until the server has been idle (below `maxCoreFraction` of a core over `windowMs`), e.g.
 * after the last start, when its own queues (visibility records, timers) are worked off. Returns
 * the instant the idle window began, or undefined at the deadline.
 */
export async function waitUntilIdle(target: TemporalTarget, options: { deadlineMs: number; windowMs?: number; maxCoreFraction?: number }): Promise<number | undefined> {
  const windowMs = options.windowMs ?? 2_000;
  const limit = windowMs * (options.maxCoreFraction ?? target.idleCoreFraction ?? 0.05);
  for (;;) {
    const start = Date.now();
    const before = target.cpuMs();
    await sleep(windowMs);
    if (target.cpuMs() - before <= limit) return start;
    if (Date.now() >= options.deadlineMs) return undefined;
  }
}
