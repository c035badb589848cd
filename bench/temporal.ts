/**
 * The system under test: notifications scheduled through NotificationClient.scheduleMany onto a
 * Temporal dev server, held by the quiet window until the instant T, and sent to the delivery
 * queue by the production worker (createNotificationWorker, the same activities and deps).
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { NotificationClient } from '../src/client';
import type { Config } from '../src/config';
import { morningSpreadOffsetMs } from '../src/policy';
import { nextWholeMinute, policyEndingAt, RELEASE_ZONE } from './releaseInstant';
import { ensureQueue } from '../src/sqs';
import { startLocalServers } from '../src/stack/localServers';
import { createNotificationWorker, WORKFLOWS_PATH } from '../src/workers/createWorker';
import {
  awaitDelivery,
  benchNotifications,
  cpuByComponent,
  cpuDelta,
  deleteQueue,
  freshQueue,
  log,
  releaseFigures,
  rssOf,
  sleep,
  waitForCount,
  type ReleaseFigures,
} from './common';

const ZONE = RELEASE_ZONE;
const quietLog = () => undefined;

const bundles = new Map<string, Promise<WorkflowBundleWithSourceMap>>();
/** The workflow bundle of a workflows file (default: the production one), built once per file. */
export function workflowBundle(workflowsPath: string = WORKFLOWS_PATH): Promise<WorkflowBundleWithSourceMap> {
  let bundle = bundles.get(workflowsPath);
  if (!bundle) {
    bundle = bundleWorkflowCode({ workflowsPath, logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } as never });
    bundles.set(workflowsPath, bundle);
  }
  return bundle;
}

// Where T is placed: shared with the cluster tests.
export { nextWholeMinute, policyEndingAt } from './releaseInstant';

export interface TemporalReleaseResult extends ReleaseFigures {
  system: string;
  spreadSeconds: number;
  /** Notifications scheduled per second through scheduleMany (the intake figure). */
  intakePerSecond: number;
  scheduleMs: number;
  /** Idle time between the last start and T (the quiet window ends on whole minutes). */
  idleBeforeReleaseMs: number;
  /** From the last start until every workflow had run its first task (undefined: not before T - 3 s). */
  heldAfterScheduleMs?: number;
  /** CPU ms per component from T to the last arrival. */
  cpuMs: Record<string, number>;
  workerRssBytes: number;
}

export interface TemporalRunOptions {
  config: Config;
  sqs: SQSClient;
  n: number;
  spreadSeconds: number;
  /** Notifications per second that scheduling is expected to reach, to place T. */
  expectedIntakePerSecond: number;
  /** Called with the idle time before T, to fill it with other work that ends in time. */
  whileWaiting?: (untilMs: number) => Promise<void>;
  scheduleConcurrency?: number;
  label?: string;
}

/**
 * One morning release on a fresh in-memory dev server (ElasticMQ is shared: config.sqs.endpoint
 * is set): schedule N, wait for T, time the delivery queue filling up, check every message.
 */
export async function runTemporalRelease(options: TemporalRunOptions): Promise<TemporalReleaseResult> {
  const { config, sqs, n, spreadSeconds } = options;
  const runId = `t${Date.now().toString(36)}`;
  const servers = await startLocalServers({ config, log: quietLog });
  const deliveryQueueUrl = await freshQueue(sqs, 'bench-delivery');
  const taskQueue = `bench-release-${runId}`;
  let worker: Awaited<ReturnType<typeof createNotificationWorker>> | undefined;
  let running: Promise<void> | undefined;
  try {
    const policyBase = config.policy;
    const placeholderPolicy = policyEndingAt(nextWholeMinute(60_000), spreadSeconds, policyBase);
    worker = await createNotificationWorker({
      connection: servers.env.nativeConnection,
      namespace: servers.config.temporal.namespace,
      taskQueue,
      deps: {
        sqs,
        deliveryQueueUrl,
        legacyWaitQueueUrl: await ensureQueue(sqs, 'bench-unused-legacy-wait'),
        deadLetterQueueUrl: await ensureQueue(sqs, 'bench-unused-dead-letter'),
        notifications: { taskQueue, policy: placeholderPolicy },
      },
      tuning: config.worker,
      // BENCH_WORKER_OVERRIDES: extra Worker.create options as JSON, for tuning experiments.
      overrides: { workflowBundle: await workflowBundle(), ...JSON.parse(process.env.BENCH_WORKER_OVERRIDES || '{}') },
    });
    running = worker.run();
    running.catch(() => undefined);

    const inputs = benchNotifications(runId, n);
    const expectedScheduleMs = (n / options.expectedIntakePerSecond) * 1000;
    const releaseAtMs = nextWholeMinute(expectedScheduleMs + 8_000);
    const policy = policyEndingAt(releaseAtMs, spreadSeconds, policyBase);
    const client = new NotificationClient({ client: servers.env.client, taskQueue, policy });
    log(`${options.label ?? 'temporal'}: scheduling ${n} held until ${new Date(releaseAtMs).toISOString()} (quiet ${policy.quietStart}-${policy.quietEnd} ${ZONE}, spread ${spreadSeconds} s)`);
    const scheduleStart = performance.now();
    const results = await client.scheduleMany(inputs, { concurrency: options.scheduleConcurrency });
    const scheduleMs = performance.now() - scheduleStart;
    const failed = results.filter((result) => !result.ok || !result.started);
    if (failed.length > 0) throw new Error(`${failed.length} of ${n} notifications were not started: ${JSON.stringify(failed[0])}`);
    const idleBeforeReleaseMs = releaseAtMs - Date.now();
    log(`  scheduled in ${(scheduleMs / 1000).toFixed(1)} s (${Math.round((n * 1000) / scheduleMs)}/s); ${(idleBeforeReleaseMs / 1000).toFixed(1)} s to T`);
    if (idleBeforeReleaseMs < 1_000) throw new TooLateError(scheduleMs, n);

    // Other benchmarks may use the idle time before T only once the dev server and the worker are
    // idle too: every workflow has run its first task and sleeps on its timer.
    const heldMs = await waitForCount(servers.env.client, heldQuery(taskQueue), n, { pollMs: 1_000, deadlineMs: releaseAtMs - 3_000, what: 'held' });
    log(heldMs === undefined ? '  not all held yet 3 s before T: nothing else runs before T' : `  all ${n} held ${(heldMs / 1000).toFixed(1)} s after the last start`);
    if (heldMs !== undefined && options.whileWaiting) await options.whileWaiting(releaseAtMs - 3_000);
    await sleep(releaseAtMs - Date.now() - 500);
    const cpuBefore = cpuByComponent();
    const expectedIds = new Set(inputs.map((input) => input.notificationId));
    let rssPeak = 0;
    const arrivals = await awaitDelivery(sqs, deliveryQueueUrl, expectedIds, {
      onProgress: () => (rssPeak = Math.max(rssPeak, rssOf(process.pid))),
    });
    const cpuMs = cpuDelta(cpuBefore, cpuByComponent());
    const figures = releaseFigures(arrivals, releaseAtMs, (id) => releaseAtMs + morningSpreadOffsetMs(id, spreadSeconds));
    log(`  released ${n} in ${(figures.totalMs / 1000).toFixed(2)} s (${Math.round(figures.throughput)}/s), lag p50 ${figures.lagP50} p99 ${figures.lagP99} ms; cpu ${JSON.stringify(cpuMs)}`);
    return {
      system: spreadSeconds > 0 ? `temporal (spread ${spreadSeconds} s)` : 'temporal',
      spreadSeconds,
      ...figures,
      intakePerSecond: (n * 1000) / scheduleMs,
      scheduleMs,
      idleBeforeReleaseMs,
      heldAfterScheduleMs: heldMs,
      cpuMs,
      workerRssBytes: rssPeak,
    };
  } finally {
    if (worker && worker.getState() === 'RUNNING') worker.shutdown();
    await running?.catch(() => undefined);
    await deleteQueue(sqs, deliveryQueueUrl);
    await servers.stop();
  }
}

/** Notifications of the task queue that have run their first task and sleep on their timer. */
const heldQuery = (taskQueue: string) => `TaskQueue = '${taskQueue}' AND NotificationStatus = 'held'`;

export class TooLateError extends Error {
  constructor(readonly scheduleMs: number, readonly n: number) {
    super(`scheduling ${n} took ${Math.round(scheduleMs)} ms and ran past T`);
  }
}

// ── the cost of sleeping ────────────────────────────────────────────────────────────────────

export interface SleepingResult {
  n: number;
  scheduleMs: number;
  intakePerSecond: number;
  /** Until the worker had run every workflow's first task (all visible as held). */
  allHeldMs: number;
  workerRssBeforeBytes: number;
  workerRssAfterBytes: number;
  dbBytesBefore: number;
  dbBytesAfter: number;
  dbBytesPerHeld: number;
  /** RSS growth divided by the workflows the worker can keep cached (min of N and maxCachedWorkflows). */
  rssPerCachedWorkflowBytes: number;
  workerTuning: Config['worker'];
}

async function directoryBytes(directory: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(directory)) total += (await stat(join(directory, name))).size;
  return total;
}

/**
 * N notifications held for hours on a dev server with a SQLite file, the worker in its own
 * process (as in production): its RSS before and after, the database's growth per held
 * notification, and how long scheduling them took.
 */
export async function runSleeping(options: { config: Config; n: number; label?: string }): Promise<SleepingResult> {
  const { config, n } = options;
  const runId = `s${Date.now().toString(36)}`;
  const dbDir = await mkdtemp(join(tmpdir(), 'kst-bench-db-'));
  const servers = await startLocalServers({ config, dbFilename: join(dbDir, 'temporal.sqlite'), log: quietLog });
  const taskQueue = `bench-sleeping-${runId}`;
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'sleepingWorker.ts')], {
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: servers.config.temporal.address,
      TEMPORAL_NAMESPACE: servers.config.temporal.namespace,
      NOTIFY_TASK_QUEUE: taskQueue,
      AWS_ENDPOINT_URL_SQS: servers.config.sqs.endpoint,
      AWS_REGION: servers.config.sqs.region,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    await new Promise<void>((resolve, reject) => {
      let output = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('worker polling')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`the sleeping worker exited (${code}) before it polled: ${output}`)));
    });
    await sleep(2_000);
    const workerRssBeforeBytes = rssOf(child.pid!);
    const dbBytesBefore = await directoryBytes(dbDir);
    const releaseAtMs = nextWholeMinute(6 * 3600_000);
    const policy = policyEndingAt(releaseAtMs, 0, config.policy);
    const client = new NotificationClient({ client: servers.env.client, taskQueue, policy });
    log(`${options.label ?? 'sleeping'}: scheduling ${n} held for ~6 h (dev server on SQLite ${dbDir})`);
    const start = performance.now();
    const chunk = 10_000;
    for (let offset = 0; offset < n; offset += chunk) {
      const inputs = benchNotifications(runId, Math.min(n, offset + chunk)).slice(offset);
      const results = await client.scheduleMany(inputs);
      const failed = results.filter((result) => !result.ok || !result.started);
      if (failed.length > 0) throw new Error(`${failed.length} notifications were not started: ${JSON.stringify(failed[0])}`);
      log(`  ${offset + inputs.length} scheduled (${Math.round(((offset + inputs.length) * 1000) / (performance.now() - start))}/s)`);
    }
    const scheduleMs = performance.now() - start;
    // Every workflow has run its first task once it is visible as held.
    // At 100,000 the first tasks take far longer than the starts: wait while there is progress, and
    // count less often on a large table.
    await waitForCount(servers.env.client, heldQuery(taskQueue), n, { pollMs: n > 10_000 ? 2_000 : 500, stallMs: 120_000, logEveryMs: 60_000, what: 'held' });
    const allHeldMs = performance.now() - start;
    await sleep(3_000);
    const workerRssAfterBytes = rssOf(child.pid!);
    const dbBytesAfter = await directoryBytes(dbDir);
    const result: SleepingResult = {
      n,
      scheduleMs,
      intakePerSecond: (n * 1000) / scheduleMs,
      allHeldMs,
      workerRssBeforeBytes,
      workerRssAfterBytes,
      dbBytesBefore,
      dbBytesAfter,
      dbBytesPerHeld: (dbBytesAfter - dbBytesBefore) / n,
      rssPerCachedWorkflowBytes: (workerRssAfterBytes - workerRssBeforeBytes) / Math.min(n, config.worker.maxCachedWorkflows),
      workerTuning: config.worker,
    };
    log(`  ${n} held: worker RSS ${(workerRssBeforeBytes / 2 ** 20).toFixed(0)} -> ${(workerRssAfterBytes / 2 ** 20).toFixed(0)} MiB, DB ${(result.dbBytesPerHeld / 1024).toFixed(1)} KiB per notification`);
    return result;
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.once('exit', resolve)));
    await servers.stop();
    await rm(dbDir, { recursive: true, force: true });
  }
}
