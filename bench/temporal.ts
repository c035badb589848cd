/**
 * The system under test: notifications scheduled through NotificationClient.scheduleMany onto a
 * Temporal server (bench/temporalTarget.ts: a fresh dev server per run), held by the quiet window
 * until the instant T (with the start delay, staged `prestageSeconds` before T or not), and sent to
 * the delivery queue by the production worker (createNotificationWorker, the same activities and
 * deps). Also the cost of sleeping: N held on a SQLite-file dev server.
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { isGrpcDeadlineError, type Client } from '@temporalio/client';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { notificationIdOf } from '../src/notification';
import { NotificationStatusKey } from '../src/searchAttributes';
import { MorningGates } from '../src/client/morningGates';
import { NotificationClient } from '../src/client';
import { FREEZE_BEFORE_STAGING_MS, FREEZE_SPREAD_MS } from '../src/workflows/morningGate';
import type { NotificationInput } from '../src/notification';
import type { Config } from '../src/config';
import { SQS_DEFAULT_MAX_MESSAGE_BYTES } from '../src/deliveryMessage';
import { inRehearsalZone, morningSpreadOffsetMs, nextWholeMinute, rehearsalEndingAt } from '../src/policy';
import { dataConverterFromConfig, FAILURE_CONVERTER_PATH } from '../src/security/dataConverter';
import { recipientHashKeyFromConfig } from '../src/security/recipientHash';
import { ensureQueue } from '../src/sqs';
import { createNotificationWorker, WORKFLOWS_PATH } from '../src/workers/createWorker';
import { WORKFLOW_BUNDLE_OPTIONS } from '../src/workers/workflowCode';
import { benchMorningNotifications, benchNotifications, deleteQueue, freshQueue, log, rssOf, sleep, waitForCount } from './common';
import { watchRelease, type BenchSqs, type DownstreamResult, type ReleaseWatch } from './downstream';
import { countsDelta, totalOf, type OperationCounts } from './metrics';
import { devServerTarget, waitUntilIdle, type TemporalTarget, type TemporalTargetFactory } from './temporalTarget';

/**
 * Told about each release run, for `npm run bench -- --watch` (bench/watch.ts): the server it
 * starts, the task queue while it runs, and when it is over.
 */
export interface ReleaseObserver {
  serverStarted(target: TemporalTarget): Promise<void>;
  /** Returns what to do when the run ends (whatever the outcome). */
  runStarted(run: { client: Client; taskQueue: string }): () => void;
  released(run: ObservedRelease): Promise<void>;
}

export interface ObservedRelease {
  label: string;
  taskQueue: string;
  n: number;
  prestageSeconds: number;
  scheduleStartedAt: number;
  windowOpensMs: number;
  releaseAtMs: number;
  /** When the downstream received the last message. */
  lastReceivedAt: number;
}

let releaseObserver: ReleaseObserver | undefined;

/** Every release run from now on tells `observer` (one at a time, as the runs are). */
export function observeReleases(observer: ReleaseObserver | undefined): void {
  releaseObserver = observer;
}

const bundles = new Map<string, Promise<WorkflowBundleWithSourceMap>>();
/** The workflow bundle of a workflows file (default: the production one, as `npm run build` bundles it), built once per file. */
export function workflowBundle(workflowsPath: string = WORKFLOWS_PATH): Promise<WorkflowBundleWithSourceMap> {
  let bundle = bundles.get(workflowsPath);
  if (!bundle) {
    // The failure converter goes into the bundle: a worker given a pre-built bundle does not add it.
    const options = workflowsPath === WORKFLOWS_PATH ? WORKFLOW_BUNDLE_OPTIONS : { workflowsPath, failureConverterPath: FAILURE_CONVERTER_PATH };
    bundle = bundleWorkflowCode({ ...options, logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } as never });
    bundles.set(workflowsPath, bundle);
  }
  return bundle;
}

/** The SQS queues a bench worker sends to, reconciles from and dead-letters into. */
export interface BenchWorkerQueues {
  deliveryQueueUrl: string;
  legacyWaitQueueUrl: string;
  deadLetterQueueUrl: string;
}

/**
 * The production worker (createNotificationWorker) in the bench process, on a bench server's task
 * queue, with the prebuilt workflow bundle; its scheduler (the reconciler's) comes from
 * `schedulerFor`. BENCH_WORKER_OVERRIDES adds Worker.create options as JSON, for tuning experiments.
 */
export async function createBenchWorker(options: {
  config: Config;
  target: Pick<TemporalTarget, 'env' | 'namespace'>;
  sqs: BenchSqs['sqs'];
  taskQueue: string;
  queues: BenchWorkerQueues;
  schedulerFor: (temporal: Client) => NotificationClient;
  sendBatchWindowMs?: number;
}) {
  const { config, target, taskQueue } = options;
  const hashKey = recipientHashKeyFromConfig(config);
  return createNotificationWorker({
    connection: target.env.nativeConnection,
    namespace: target.namespace,
    taskQueue,
    deps: {
      sqs: options.sqs,
      ...options.queues,
      maxMessageBytes: SQS_DEFAULT_MAX_MESSAGE_BYTES,
      ...(options.sendBatchWindowMs !== undefined ? { sendBatchWindowMs: options.sendBatchWindowMs } : {}),
      schedulerFor: options.schedulerFor,
      morningGatesFor: (temporal) => new MorningGates(temporal, taskQueue),
      contentIdKey: hashKey,
      dedupWindowMs: config.reconcile.dedupWindowSeconds * 1000,
    },
    tuning: config.worker,
    dataConverter: dataConverterFromConfig(config),
    overrides: { workflowBundle: await workflowBundle(), ...JSON.parse(process.env.BENCH_WORKER_OVERRIDES || '{}') },
  });
}

export interface PhaseCost {
  /** Persistence requests of the Temporal server, by operation. */
  persistence: OperationCounts;
  /**
   * History tasks that failed and were retried, by operation. On the dev server these come in
   * storms: its one SQLite connection falls behind, tasks pass their 3 s deadline, and each retry
   * reloads its workflow. A run with a storm is slower; this says which runs had one. Absent from
   * results written before 2026-12-01.
   */
  taskErrors?: OperationCounts;
  /** CPU ms of the Temporal server's processes. */
  serverCpuMs: number;
  wallMs: number;
}

export interface ServerReading {
  at: number;
  persistence: OperationCounts;
  taskErrors: OperationCounts;
  cpu: number;
}

/** The server's counters now: a phase's cost is the difference of two readings. */
export async function readServer(target: TemporalTarget): Promise<ServerReading> {
  return { at: Date.now(), persistence: await target.persistenceRequests(), taskErrors: await target.taskErrors(), cpu: target.cpuMs() };
}

export function phaseCost(from: ServerReading, to: ServerReading): PhaseCost {
  return {
    persistence: countsDelta(from.persistence, to.persistence),
    taskErrors: countsDelta(from.taskErrors, to.taskErrors),
    serverCpuMs: to.cpu - from.cpu,
    wallMs: to.at - from.at,
  };
}

export interface TemporalReleaseResult extends DownstreamResult {
  system: 'staged' | 'unstaged' | 'legacy-workflow' | 'capped';
  /** The morning-cap row: how many ended with each status (delivered, capped, …). */
  statusCounts?: Record<string, number>;
  /** What served it, e.g. "dev server (in memory)". */
  server: string;
  prestageSeconds: number;
  spreadSeconds: number;
  /** Notifications per second that scheduleMany got accepted (the intake figure). */
  intakePerSecond: number;
  scheduleMs: number;
  releaseAtMs: number;
  /** From the last start until every notification was held (listed as held, the server idle). */
  heldAfterLastStartMs: number;
  /** From the held point to the opening of the send window (T − lead, or T): idle time. */
  idleBeforeWindowMs: number;
  /** Staged runs: from T − lead to the last send (the staging itself). */
  stagingMs?: number;
  /** Staged runs: messages on the queue by T (the rest were sent after it, at once). */
  stagedBeforeT?: number;
  /** The server's work: intake (first start to held), send window (its opening to the last send), whole life (first start to all closed). */
  phases: { intake: PhaseCost; window: PhaseCost; wholeLife: PhaseCost };
  workerRssBytes: number;
}

export interface TemporalRunOptions {
  config: Config;
  bench: BenchSqs;
  target: TemporalTargetFactory;
  n: number;
  /** The staging lead (NOTIFY_PRESTAGE_SECONDS); 0 = staging off. */
  prestageSeconds: number;
  spreadSeconds: number;
  /** Notifications per second that scheduling is expected to reach, to place T. */
  expectedIntakePerSecond: number;
  /** Called with the idle time before the send window, to fill it with other work that ends in time. */
  whileWaiting?: (untilMs: number) => Promise<void>;
  scheduleConcurrency?: number;
  /** Worker processes of the production build (needs target.addWorker); default: one worker in this process. */
  workerProcesses?: number;
  /** The morning-cap row: advertisements over recipients 1–7 each (benchMorningNotifications), under this cap. */
  morningCap?: { cap: number; overflow: 'drop' | 'digest' };
  label: string;
}

/** Notifications of the task queue that are held: started (with their start attributes) and not yet sending. */
const heldQuery = (taskQueue: string) => `TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Running' AND NotificationStatus = 'held'`;
/** Held, or kept back by their morning's gate until the release (the morning-cap row). */
const waitingQuery = (taskQueue: string) =>
  `TaskQueue = '${taskQueue}' AND WorkflowType = 'notificationWorkflow' AND ExecutionStatus = 'Running' AND NotificationStatus IN ('held', 'capped', 'collapsed', 'digested')`;
const closedQuery = (taskQueue: string) => `TaskQueue = '${taskQueue}' AND WorkflowType = 'notificationWorkflow' AND ExecutionStatus != 'Running'`;

/**
 * One morning release on a fresh Temporal server: schedule N with scheduleMany, wait until every
 * one is held (listed as held and the server idle: intake is over), place nothing else near the send
 * window, then measure what the downstream receives from T on, and the server's work by phase.
 * T is a whole minute (the quiet window ends on one); a run whose held point comes later than
 * 2 s before its send window is discarded (TooLateError) and retried with T placed later.
 */
export async function runTemporalRelease(options: TemporalRunOptions): Promise<TemporalReleaseResult> {
  const { config, bench, n, spreadSeconds, prestageSeconds } = options;
  const leadMs = prestageSeconds * 1000;
  const runId = `t${Date.now().toString(36)}`;
  const target = await options.target(config);
  const deliveryQueueUrl = await freshQueue(bench.sqs, 'bench-delivery');
  const taskQueue = `bench-release-${runId}`;
  const client = target.env.client;
  const observer = releaseObserver;
  let endObservation: (() => void) | undefined;
  let worker: Awaited<ReturnType<typeof createBenchWorker>> | undefined;
  let running: Promise<void> | undefined;
  let watch: ReleaseWatch | undefined;
  const workerProcesses: { pid: number; stop(): Promise<void> }[] = [];
  const workerPids = () => (workerProcesses.length > 0 ? workerProcesses.map((worker) => worker.pid) : [process.pid]);
  try {
    if (observer) {
      await observer.serverStarted(target);
      endObservation = observer.runStarted({ client, taskQueue });
    }
    const policyBase = config.policy;
    const placeholderPolicy = rehearsalEndingAt(nextWholeMinute(60_000, Date.now()), { ...policyBase, morningSpreadSeconds: spreadSeconds }).policy;
    if (options.workerProcesses) {
      if (!target.addWorker) throw new Error(`${target.description} cannot start worker processes`);
      const env = {
        NOTIFY_TASK_QUEUE: taskQueue,
        NOTIFY_DELIVERY_QUEUE: deliveryQueueUrl.split('/').pop()!,
        NOTIFY_LEGACY_WAIT_QUEUE: 'bench-unused-legacy-wait',
        NOTIFY_DEAD_LETTER_QUEUE: 'bench-unused-dead-letter',
        AWS_ENDPOINT_URL_SQS: bench.endpoint,
      };
      for (let index = 0; index < options.workerProcesses; index += 1) workerProcesses.push(await target.addWorker(env));
    } else {
      worker = await createBenchWorker({
        config,
        target,
        sqs: bench.sqs,
        taskQueue,
        queues: {
          deliveryQueueUrl,
          legacyWaitQueueUrl: await ensureQueue(bench.sqs, 'bench-unused-legacy-wait'),
          deadLetterQueueUrl: await ensureQueue(bench.sqs, 'bench-unused-dead-letter'),
        },
        sendBatchWindowMs: config.delivery.sendBatchWindowMs,
        schedulerFor: (temporal) => new NotificationClient({ client: temporal, taskQueue, policy: placeholderPolicy, recipientHashKey: recipientHashKeyFromConfig(config) }),
      });
      running = worker.run();
      running.catch(() => undefined);
    }

    const inputs = options.morningCap ? benchMorningNotifications(runId, n) : benchNotifications(runId, n);
    const expectedScheduleMs = (n / options.expectedIntakePerSecond) * 1000;
    // The send window opens at T − lead; intake and the server's own work after it must be over by then.
    // Under a morning cap the gates' plans freeze from a minute (and up to eleven) before the send window: intake must end before that.
    // Under a cap each notification's first task (its registration) comes after its start: allow
    // three times the intake for them (measured: 145 s after 46 s of starts for 10,000).
    const registrationsMs = options.morningCap ? 3 * expectedScheduleMs + FREEZE_BEFORE_STAGING_MS + Math.min(FREEZE_SPREAD_MS, leadMs) : 0;
    const releaseAtMs = nextWholeMinute(expectedScheduleMs + 15_000 + leadMs + registrationsMs, Date.now());
    const windowOpensMs = releaseAtMs - leadMs;
    const rehearsal = rehearsalEndingAt(releaseAtMs, { ...policyBase, morningSpreadSeconds: spreadSeconds });
    const policy = rehearsal.policy;
    const notifications = new NotificationClient({ client, taskQueue, policy, prestageSeconds, recipientHashKey: recipientHashKeyFromConfig(config), morningCap: options.morningCap });
    log(
      `${options.label}: scheduling ${n} held until ${new Date(releaseAtMs).toISOString()} (staging lead ${prestageSeconds} s, ` +
        `spread ${spreadSeconds} s, SQS latency ${bench.latencyMs} ms, ${target.description})`,
    );
    const beforeIntake = await readServer(target);
    const scheduleStart = performance.now();
    // Starts still unanswered when the send window opens are too late, and a server that has stopped
    // answering must not hold the run forever: every call of the intake ends by then.
    const results = await client.withDeadline(windowOpensMs, () => notifications.scheduleMany(inRehearsalZone(inputs, rehearsal), { concurrency: options.scheduleConcurrency }));
    const scheduleMs = performance.now() - scheduleStart;
    const lastStartAt = Date.now();
    const failed = results.filter((result) => !result.ok || !result.started);
    const lateStarts = failed.filter((result) => !result.ok && isGrpcDeadlineError(result.error)).length;
    if (lateStarts > 0) throw new TooLateError(scheduleMs, n, `${lateStarts} were not started before the send window (the server did not answer in time)`);
    if (failed.length > 0) throw new Error(`${failed.length} of ${n} notifications were not started: ${JSON.stringify(failed[0])}`);
    log(`  scheduled in ${(scheduleMs / 1000).toFixed(1)} s (${Math.round((n * 1000) / scheduleMs)}/s); ${((windowOpensMs - Date.now()) / 1000).toFixed(1)} s to the send window`);

    // Held: every one listed as held and the server idle (its visibility records and timers written).
    const listedMs = await waitForCount(client, (options.morningCap ? waitingQuery : heldQuery)(taskQueue), n, { pollMs: 1_000, deadlineMs: windowOpensMs - 2_000, what: 'held' });
    const idleFrom = listedMs === undefined ? undefined : await waitUntilIdle(target, { deadlineMs: windowOpensMs - 2_000 });
    if (idleFrom === undefined || idleFrom > windowOpensMs - 2_000) throw new TooLateError(scheduleMs, n, 'were not all held 2 s before the send window');
    const heldAt = idleFrom;
    const atHeld = await readServer(target);
    log(`  all ${n} held ${((heldAt - lastStartAt) / 1000).toFixed(1)} s after the last start; ${((windowOpensMs - heldAt) / 1000).toFixed(1)} s before the send window`);
    if (options.whileWaiting) await options.whileWaiting(windowOpensMs - 5_000);

    // Under a morning cap only what the gates admitted goes. The gates decide at their freeze (the
    // last a minute before the send window), and the capped ones end then: those still held after it.
    if (options.morningCap) {
      const admitted = admittedCount(inputs, options.morningCap.cap);
      await sleep(windowOpensMs - FREEZE_BEFORE_STAGING_MS - Date.now());
      for (;;) {
        const { count } = await client.workflow.count(heldQuery(taskQueue));
        if (count === admitted) break;
        if (Date.now() > windowOpensMs - 2_000) throw new TooLateError(scheduleMs, n, `${count} still held 2 s before the send window, where the gates admit ${admitted}`);
        await sleep(500);
      }
    }
    const expectedIds = options.morningCap ? await admittedIds(client, taskQueue) : new Set(inputs.map((input) => input.notificationId));
    const sendsElsewhere = workerProcesses.length > 0;
    watch = await watchRelease(bench, deliveryQueueUrl, expectedIds, {
      ...(target.pidsByRole?.() ?? { 'temporal server': target.pids() }),
      ...(workerProcesses.length > 0 ? { 'worker processes': workerPids() } : {}),
    }, { sendsElsewhere });
    await sleep(windowOpensMs - Date.now() - 300);
    const atWindow = await readServer(target);
    watch.openWindow();
    const sentByT = sendsElsewhere ? undefined : sleep(releaseAtMs - Date.now()).then(() => watch!.sentSoFar());
    let rssPeak = 0;
    const rssTimer = setInterval(() => (rssPeak = Math.max(rssPeak, workerPids().reduce((sum, pid) => sum + rssOf(pid), 0))), 1_000);
    if (workerProcesses.length > 0) {
      // Worker processes send with their own SQS clients: a workflow closes right after its send,
      // so the last send is taken as the instant visibility counts all N closed.
      await waitForCount(client, closedQuery(taskQueue), n, { pollMs: 250, stallMs: 60_000, what: 'closed' });
      watch.markLastSend(Date.now());
    }
    const lastSendAt = await watch.lastSend;
    const atLastSend = await readServer(target);
    if (leadMs > 0) {
      const margin = (releaseAtMs - lastSendAt) / 1000;
      log(`  staged ${n} in ${((lastSendAt - windowOpensMs) / 1000).toFixed(1)} s, the last ${Math.abs(margin).toFixed(1)} s ${margin >= 0 ? 'before' : 'AFTER'} T`);
    }
    const figures = await watch.finish({ releaseAtMs, ownReleaseMs: (id) => releaseAtMs + morningSpreadOffsetMs(id, spreadSeconds), label: options.label });
    clearInterval(rssTimer);
    await waitForCount(client, closedQuery(taskQueue), n, { pollMs: 1_000, stallMs: 60_000, what: 'closed' });
    const atClosed = await readServer(target);
    const phases = { intake: phaseCost(beforeIntake, atHeld), window: phaseCost(atWindow, atLastSend), wholeLife: phaseCost(beforeIntake, atClosed) };
    const perN = (counts: OperationCounts) => (totalOf(counts) / n).toFixed(1);
    log(
      `  released ${n} in ${(figures.totalMs / 1000).toFixed(2)} s after T (${Math.round(figures.throughput)}/s), first ${figures.firstMs} ms, ` +
        `lag p50 ${figures.lagP50} p99 ${figures.lagP99} ms, ${figures.early} early, ${figures.duplicates} twice; persistence requests per notification: ` +
        `intake ${perN(phases.intake.persistence)}, send window ${perN(phases.window.persistence)}, whole life ${perN(phases.wholeLife.persistence)}; ` +
        `server CPU ms per notification ${(phases.wholeLife.serverCpuMs / n).toFixed(1)}; server task errors in the send window ${totalOf(phases.window.taskErrors ?? {})}; ` +
        (sendsElsewhere ? 'the worker processes sent (not counted here)' : `${figures.sends} sent in ${figures.sendRequests} SQS requests`),
    );
    const statusCounts = options.morningCap ? await countByStatus(client, taskQueue) : undefined;
    if (statusCounts) log(`  statuses: ${JSON.stringify(statusCounts)}`);
    await observer?.released({
      label: options.label,
      taskQueue,
      n,
      prestageSeconds,
      scheduleStartedAt: Date.now() - (performance.now() - scheduleStart),
      windowOpensMs,
      releaseAtMs,
      lastReceivedAt: releaseAtMs + figures.totalMs,
    });
    return {
      system: options.morningCap ? 'capped' : leadMs > 0 ? 'staged' : 'unstaged',
      ...(statusCounts ? { statusCounts } : {}),
      server: target.description,
      prestageSeconds,
      spreadSeconds,
      ...figures,
      intakePerSecond: (n * 1000) / scheduleMs,
      scheduleMs,
      releaseAtMs,
      heldAfterLastStartMs: heldAt - lastStartAt,
      idleBeforeWindowMs: windowOpensMs - heldAt,
      stagingMs: leadMs > 0 ? lastSendAt - windowOpensMs : undefined,
      stagedBeforeT: leadMs > 0 ? await sentByT : undefined,
      phases,
      workerRssBytes: rssPeak,
    };
  } finally {
    endObservation?.();
    await watch?.close();
    if (worker && worker.getState() === 'RUNNING') worker.shutdown();
    await running?.catch(() => undefined);
    await Promise.all(workerProcesses.map((workerProcess) => workerProcess.stop()));
    await deleteQueue(bench.sqs, deliveryQueueUrl);
    await target.stop();
  }
}

/** How many of these a cap admits: at most `cap` per recipient (the morning-cap row has no collapse keys). */
function admittedCount(inputs: readonly NotificationInput[], cap: number): number {
  const perRecipient = new Map<string, number>();
  for (const input of inputs) perRecipient.set(input.recipient.id, (perRecipient.get(input.recipient.id) ?? 0) + 1);
  return [...perRecipient.values()].reduce((sum, count) => sum + Math.min(cap, count), 0);
}

/** The notifications the morning gates admitted (listed as held after the freeze), by id. */
async function admittedIds(client: Client, taskQueue: string): Promise<Set<string>> {
  const ids = new Set<string>();
  for await (const execution of client.workflow.list({ query: heldQuery(taskQueue) })) ids.add(notificationIdOf(execution.workflowId));
  return ids;
}

/** How many notifications of the task queue ended with each status. */
async function countByStatus(client: Client, taskQueue: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for await (const execution of client.workflow.list({ query: closedQuery(taskQueue) })) {
    const status = execution.typedSearchAttributes.get(NotificationStatusKey) ?? 'unknown';
    counts[status] = (counts[status] ?? 0) + 1;
  }
  return counts;
}

/**
 * A run placed by `pace`, the rate at which the previous run became held: a run that was not all
 * held in time for its T is discarded and retried (twice at most) with T placed for the rate it reached.
 */
export async function placedByPace<R extends { n: number; intakePerSecond: number; heldAfterLastStartMs: number }>(
  run: (expectedIntakePerSecond: number) => Promise<R>,
  pace: { intakePerSecond: number },
): Promise<R> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      const result = await run(pace.intakePerSecond);
      // The next run is placed by the pace at which this one became held, not by its start rate:
      // the floor's first tasks trail its starts by minutes at 10,000, so placing by its start rate
      // discarded the next floor run (4-8 min each on 2026-12-01).
      const heldPerSecond = (result.n * 1000) / ((result.n * 1000) / result.intakePerSecond + result.heldAfterLastStartMs);
      pace.intakePerSecond = Math.max(20, heldPerSecond * 0.8);
      return result;
    } catch (error) {
      if (!(error instanceof TooLateError) || attempt >= 2) throw error;
      // Placed for the slower of the intake and, when the run measured it, the pace at which its
      // notifications became held (the floor's first tasks trail its starts by minutes at 10,000).
      pace.intakePerSecond = Math.max(10, Math.min(((error.n * 1000) / error.scheduleMs) * 0.6, (error.heldPerSecond ?? Number.POSITIVE_INFINITY) * 0.8));
      log(`  ${error.message}; run discarded, again with T placed for ${Math.round(pace.intakePerSecond)}/s`);
    }
  }
}

export function runPlacedRelease(options: Omit<TemporalRunOptions, 'expectedIntakePerSecond'>, pace: { intakePerSecond: number }): Promise<TemporalReleaseResult> {
  return placedByPace((expectedIntakePerSecond) => runTemporalRelease({ ...options, expectedIntakePerSecond }), pace);
}

export class TooLateError extends Error {
  /** `heldPerSecond`: how fast they became held, from the first start until the run gave up, when it was counted. */
  constructor(readonly scheduleMs: number, readonly n: number, why: string, readonly heldPerSecond?: number) {
    super(`scheduling ${n} took ${Math.round(scheduleMs)} ms, and they ${why}`);
  }
}

// ── the cost of sleeping ────────────────────────────────────────────────────────────────────

export interface SleepingResult {
  n: number;
  /** NOTIFY_WORKER_MAX_CACHED_WORKFLOWS of the worker in this run (0: the baseline without a cache). */
  maxCachedWorkflows: number;
  prestageSeconds: number;
  scheduleMs: number;
  intakePerSecond: number;
  /** From the first start until every one was held (listed as held, the server idle). */
  allHeldMs: number;
  workerRssBeforeBytes: number;
  workerRssAfterBytes: number;
  /** Database bytes, all files of its directory, each time after a WAL checkpoint (TRUNCATE). */
  dbBytesBefore: number;
  dbBytesAfter: number;
  dbBytesPerHeld: number;
  /** Persistence requests per held notification, by operation, over the intake. */
  persistencePerHeld: OperationCounts;
  serverCpuMsPerHeld: number;
  workerTuning: Config['worker'];
}

async function directoryBytes(directory: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(directory)) total += (await stat(join(directory, name))).size;
  return total;
}

/**
 * Moves a SQLite file's write-ahead log into the database and truncates it, so that its bytes are
 * the database's and not the log's (the dev server keeps its connection open; SQLite allows a
 * second process to checkpoint). Python's sqlite3 module does it; python3 is what provisioning
 * uses anyway.
 */
function checkpointSqlite(file: string): void {
  const script = [
    'import sqlite3, sys, time',
    'for attempt in range(50):',
    '    connection = sqlite3.connect(sys.argv[1], timeout=10)',
    '    busy, _log, _done = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()',
    '    connection.close()',
    '    if busy == 0: sys.exit(0)',
    '    time.sleep(0.2)',
    'sys.exit("the database stayed busy: no checkpoint")',
  ].join('\n');
  const result = spawnSync('python3', ['-c', script, file], { encoding: 'utf8' });
  if (result.error || result.status !== 0) throw new Error(`checkpointing ${file} failed: ${result.error?.message ?? result.stderr}`);
}

/**
 * N notifications held for hours on a dev server with a SQLite file, with the production
 * configuration (the staging lead of config.delivery, the start delay), the worker in its own
 * process (as in production): its RSS before and after, the database's growth per held
 * notification (checkpointed), the server's work per notification, and how long intake took.
 * `maxCachedWorkflows` 0 is the baseline: a worker that caches nothing.
 */
export async function runSleeping(options: { config: Config; n: number; maxCachedWorkflows: number; label?: string }): Promise<SleepingResult> {
  const { config, n } = options;
  const runId = `s${Date.now().toString(36)}`;
  const dbDir = await mkdtemp(join(tmpdir(), 'kst-bench-db-'));
  const dbFile = join(dbDir, 'temporal.sqlite');
  const target = await devServerTarget({ dbFilename: dbFile })(config);
  const taskQueue = `bench-sleeping-${runId}`;
  const tuning = { ...config.worker, maxCachedWorkflows: options.maxCachedWorkflows };
  const prestageSeconds = config.delivery.prestageSeconds;
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'sleepingWorker.ts')], {
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: target.env.address,
      TEMPORAL_NAMESPACE: target.namespace,
      NOTIFY_TASK_QUEUE: taskQueue,
      NOTIFY_WORKER_MAX_CACHED_WORKFLOWS: String(options.maxCachedWorkflows),
      AWS_ENDPOINT_URL_SQS: config.sqs.endpoint,
      AWS_REGION: config.sqs.region,
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
    checkpointSqlite(dbFile);
    const dbBytesBefore = await directoryBytes(dbDir);
    const persistenceBefore = await target.persistenceRequests();
    const cpuBefore = target.cpuMs();
    const releaseAtMs = nextWholeMinute(6 * 3600_000, Date.now());
    const rehearsal = rehearsalEndingAt(releaseAtMs, { ...config.policy, morningSpreadSeconds: 0 });
    const policy = rehearsal.policy;
    const client = new NotificationClient({ client: target.env.client, taskQueue, policy, prestageSeconds, recipientHashKey: recipientHashKeyFromConfig(config) });
    log(`${options.label ?? 'sleeping'}: scheduling ${n} held for ~6 h (staging lead ${prestageSeconds} s, worker caching ${options.maxCachedWorkflows} workflows, dev server on SQLite ${dbDir})`);
    const start = performance.now();
    const chunk = 10_000;
    for (let offset = 0; offset < n; offset += chunk) {
      const inputs = benchNotifications(runId, Math.min(n, offset + chunk)).slice(offset);
      const results = await client.scheduleMany(inRehearsalZone(inputs, rehearsal));
      const failed = results.filter((result) => !result.ok || !result.started);
      if (failed.length > 0) throw new Error(`${failed.length} notifications were not started: ${JSON.stringify(failed[0])}`);
      log(`  ${offset + inputs.length} scheduled (${Math.round(((offset + inputs.length) * 1000) / (performance.now() - start))}/s)`);
    }
    const scheduleMs = performance.now() - start;
    // Held: all listed as held (their start attributes) and the server idle. Count less often on a large table.
    await waitForCount(target.env.client, heldQuery(taskQueue), n, { pollMs: n > 10_000 ? 2_000 : 500, stallMs: 120_000, logEveryMs: 60_000, what: 'held' });
    await waitUntilIdle(target, { deadlineMs: Number.POSITIVE_INFINITY });
    const allHeldMs = performance.now() - start;
    const persistence = countsDelta(persistenceBefore, await target.persistenceRequests());
    const serverCpuMs = target.cpuMs() - cpuBefore;
    await sleep(3_000);
    const workerRssAfterBytes = rssOf(child.pid!);
    checkpointSqlite(dbFile);
    const dbBytesAfter = await directoryBytes(dbDir);
    const result: SleepingResult = {
      n,
      maxCachedWorkflows: options.maxCachedWorkflows,
      prestageSeconds,
      scheduleMs,
      intakePerSecond: (n * 1000) / scheduleMs,
      allHeldMs,
      workerRssBeforeBytes,
      workerRssAfterBytes,
      dbBytesBefore,
      dbBytesAfter,
      dbBytesPerHeld: (dbBytesAfter - dbBytesBefore) / n,
      persistencePerHeld: Object.fromEntries(Object.entries(persistence).map(([operation, count]) => [operation, count / n])),
      serverCpuMsPerHeld: serverCpuMs / n,
      workerTuning: tuning,
    };
    log(
      `  ${n} held: worker RSS ${(workerRssBeforeBytes / 2 ** 20).toFixed(0)} -> ${(workerRssAfterBytes / 2 ** 20).toFixed(0)} MiB, ` +
        `DB ${(result.dbBytesPerHeld / 1024).toFixed(1)} KiB and ${(totalOf(persistence) / n).toFixed(1)} persistence requests per notification`,
    );
    return result;
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.once('exit', resolve)));
    await target.stop();
    await rm(dbDir, { recursive: true, force: true });
  }
}
