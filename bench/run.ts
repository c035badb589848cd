/**
 * `npm run bench`: every benchmark of bench/README.md in one run, on one machine.
 *
 *   npm run bench -- [--n 10000] [--runs 3] [--staged-runs 1] [--unstaged-runs 1] [--floor-runs 0]
 *                    [--spread-runs 0] [--spread 120] [--prestage-seconds <NOTIFY_PRESTAGE_SECONDS>]
 *                    [--sqs-latency-ms 0[,10]] [--sleeping 3000] [--bullmq-concurrency 50]
 *                    [--only release,alternatives,sleeping] [--no-readme] [--render FILE]
 *                    [--cluster] [--cluster-n 3000] [--cluster-shards 1,4,16]
 *
 * --runs is per alternative (legacy drain, BullMQ, ceiling: seconds each); the Temporal release
 * takes minutes per run at N = 10,000 on 2 cores, so it has its own counts, sized so that the
 * defaults finish within 15 minutes. Every release row is measured at the downstream: receivers
 * polling the delivery queue from before T (bench/downstream.ts).
 *
 * Starts its own servers (ElasticMQ, a Temporal dev server per run, redis-server, the SQS latency
 * proxy), whatever TEMPORAL_ADDRESS / AWS_ENDPOINT_URL_SQS say, and stops them at the end. Writes
 * bench/results/<time>.json and, unless --no-readme, bench/results/latest.json,
 * bench/results/release.png and the results section of bench/README.md. Exits with 1 when any run
 * had a message receivable before its release instant.
 *
 * --cluster adds the release on the production topology (bench/cluster.ts): clusters with each of
 * --cluster-shards history shards, two worker processes each and one more run with one worker at
 * the largest, and the dev server beside them, all with staging off and --cluster-n notifications.
 * Alone (without --only) it runs only that.
 *
 * --watch runs a Prometheus server beside the run (provisioned like the other servers): it scrapes
 * this process's worker (whose runtime then serves metrics on a port of its own) and each run's
 * Temporal dev server every second, and evaluates deploy/prometheus/alerts.yml; after each release
 * run the morning as it was scraped (staged, sent, released, the lag, the server's workflow tasks)
 * becomes bench/results/morning-<run>.png (bench/watch.ts). Off by default: it adds the exporter's
 * and Prometheus's CPU to the machine the figures are measured on.
 *
 * --render FILE publishes a saved results file (a run's JSON, or the partial.json a failed run
 * left, marked as stopped early) as a run would, without running anything.
 */
import { runGateIntake } from './gateIntake';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { DefaultLogger } from '@temporalio/worker';
import { loadConfig, type Config } from '../src/config';
import { createSqsClient } from '../src/sqs';
import { startElasticMq } from '../src/stack/elasticMq';
import { freePort } from '../src/stack/ports';
import { installRuntime } from '../src/workers/telemetry';
import { VERSIONS } from '../src/stack/versions';
import { freshLocalSecrets } from '../src/security/localSecrets';
import { bestCeilingConcurrency, runBullMq, runCeiling, runLegacyDrain, startRedis, type AlternativeResult } from './alternatives';
import { log } from './common';
import { SendCounter, type BenchSqs } from './downstream';
import { runReleaseFloor } from './floor/run';
import { runActionCost } from './cost';
import { runReconcileVsIntake } from './reconcile';
import { startLatencyProxy } from './latencyProxy';
import { writeReleaseCurvePlot, writeReleasePlot } from './releasePlot';
import { CLUSTER_BEGIN, CLUSTER_END, renderClusterReport, renderReport, renderScaleReport, SCALE_BEGIN, SCALE_END, writeReadme, type BenchResults, type LatencyResults } from './report';
import { observeReleases, placedByPace, runPlacedRelease, runSleeping, workflowBundle } from './temporal';
import { startMorningWatch, type MorningWatch } from './watch';
import { devServerTarget, type TemporalTargetFactory } from './temporalTarget';
import { clusterTarget, withCluster } from './cluster';

interface Flags {
  n: number;
  runs: number;
  stagedRuns: number;
  unstagedRuns: number;
  floorRuns: number;
  spreadRuns: number;
  spread: number;
  prestageSeconds?: number;
  latencies: number[];
  sleeping: number;
  bullmqConcurrency: number;
  only: Set<string>;
  readme: boolean;
  /** Publish this saved results file instead of running anything. */
  render?: string;
  clusterN: number;
  clusterShards: number[];
  /** Legacy messages for the reconciler row (and as many scheduled beside them). */
  reconcileN: number;
  /** Registrations sent to one morning gate (--only gate). */
  gateN: number;
  /** Notifications per path for the cost of a notification. */
  costN: number;
  /** Staged release runs under a morning cap of 2 (recipients with 1–7 advertisements each). */
  cappedRuns: number;
  /** The release curve: one staged release at each of these sizes (`curve`). */
  curve: number[];
  /** The staging lead of the curve's runs (default NOTIFY_PRESTAGE_SECONDS). */
  curveLeadSeconds?: number;
  /** Starts in flight while the curve's runs schedule (default scheduleMany's 32). */
  curveScheduleConcurrency?: number;
  /** The curve's dev servers keep their database in a SQLite file, not in memory (whose memory 100,000 outgrew). */
  curveOnFile: boolean;
  /** Prometheus scrapes the run; a picture of each release (bench/watch.ts). */
  watch: boolean;
}

const USAGE =
  'npm run bench -- [--n 10000] [--runs 3] [--staged-runs 1] [--capped-runs 1] [--unstaged-runs 1] [--floor-runs 0] [--spread-runs 0] [--spread 120] ' +
  '[--prestage-seconds N] [--sqs-latency-ms 0[,10]] [--sleeping 3000] [--bullmq-concurrency 50] [--reconcile-n 5000] ' +
  '[--cost-n 200] [--gate-n 5000] [--curve 10000,30000] [--curve-lead S] [--curve-concurrency 32] [--curve-on-file] [--only release,alternatives,sleeping,reconcile,cost,gate,cluster] [--watch] [--no-readme] [--render FILE] ' +
  '[--cluster] [--cluster-n 3000] [--cluster-shards 1,4,16]';

function parseFlags(argv: string[]): Flags {
  const flags: Flags = {
    n: 10_000,
    runs: 3,
    stagedRuns: 1,
    unstagedRuns: 1,
    floorRuns: 0,
    spreadRuns: 0,
    spread: 120,
    latencies: [0],
    sleeping: 3_000,
    bullmqConcurrency: 50,
    only: new Set(['release', 'alternatives', 'sleeping', 'reconcile', 'cost']),
    readme: true,
    clusterN: 3_000,
    clusterShards: [1, 4, 16],
    reconcileN: 5_000,
    gateN: 5_000,
    costN: 200,
    cappedRuns: 1,
    curve: [],
    curveOnFile: false,
    watch: false,
  };
  let onlyGiven = false;
  let cluster = false;
  for (let index = 0; index < argv.length; index += 1) {
    const [name, inline] = argv[index]!.split('=', 2) as [string, string | undefined];
    const value = () => inline ?? argv[++index] ?? '';
    const toNumber = (text: string, what: string) => {
      const parsed = Number(text);
      if (text.trim() === '' || !Number.isFinite(parsed) || parsed < 0) throw new Error(`${name} expects a number for ${what}, got "${text}"`);
      return Math.floor(parsed);
    };
    const number = (what: string) => toNumber(value(), what);
    switch (name) {
      case '--n': flags.n = number('notifications per release'); break;
      case '--runs': flags.runs = Math.max(1, number('runs per alternative')); break;
      case '--staged-runs': flags.stagedRuns = number('Temporal release runs with staging'); break;
      case '--unstaged-runs': flags.unstagedRuns = number('Temporal release runs with staging off'); break;
      case '--floor-runs': flags.floorRuns = number('release runs of the timer-only floor workflow'); break;
      case '--spread-runs': flags.spreadRuns = number('staged Temporal release runs with the morning spread'); break;
      case '--spread': flags.spread = number('the morning spread in seconds'); break;
      case '--prestage-seconds': flags.prestageSeconds = number('the staging lead in seconds'); break;
      case '--sqs-latency-ms': flags.latencies = value().split(',').map((part) => toNumber(part, 'the added SQS round trip in ms')); break;
      case '--sleeping': flags.sleeping = number('held notifications for the cost of sleeping'); break;
      case '--bullmq-concurrency': flags.bullmqConcurrency = Math.max(1, number('the BullMQ worker concurrency')); break;
      case '--only': flags.only = new Set(value().split(',').map((part) => part.trim()).filter(Boolean)); onlyGiven = true; break;
      case '--cluster': cluster = true; break;
      case '--cluster-n': flags.clusterN = Math.max(1, number('notifications per cluster release')); break;
      case '--curve': flags.curve = value().split(',').map((part) => Math.max(1, toNumber(part, 'notifications per curve point'))); break;
      case '--curve-lead': flags.curveLeadSeconds = number('the staging lead of the curve in seconds'); break;
      case '--curve-on-file': flags.curveOnFile = true; break;
      case '--watch': flags.watch = true; break;
      case '--curve-concurrency': flags.curveScheduleConcurrency = Math.max(1, number('starts in flight while the curve schedules')); break;
      case '--capped-runs': flags.cappedRuns = number('staged release runs under a morning cap'); break;
      case '--cost-n': flags.costN = Math.max(1, number('notifications per path for the cost')); break;
      case '--reconcile-n': flags.reconcileN = Math.max(1, number('legacy messages for the reconciler row')); break;
      case '--gate-n': flags.gateN = Math.max(1, number('registrations for one morning gate')); break;
      case '--cluster-shards': flags.clusterShards = value().split(',').map((part) => Math.max(1, toNumber(part, 'history shards'))); break;
      case '--no-readme': flags.readme = false; break;
      case '--render': flags.render = value(); break;
      case '--help':
      case '-h':
        console.log(USAGE);
        process.exit(0);
      default:
        throw new Error(`unknown flag ${name} (try --help)`);
    }
  }
  if (cluster) flags.only = onlyGiven ? new Set([...flags.only, 'cluster']) : new Set(['cluster']);
  return flags;
}

/**
 * The configuration for the benchmark's own servers: never one named by the environment. Their
 * payloads are encrypted as in production, with keys made for this run (in process.env, so that
 * the sleeping worker's child process has them too).
 */
function benchConfig(): Config {
  Object.assign(process.env, freshLocalSecrets());
  const env = { ...process.env };
  delete env.TEMPORAL_ADDRESS;
  delete env.AWS_ENDPOINT_URL_SQS;
  return loadConfig(env);
}

/**
 * How this run was started, for its results: `npm run bench -- …`, or the whole node command when
 * node was given flags of its own (a profiler, or an experiment's `--require`), which change what
 * the figures mean.
 */
function commandOfThisRun(): string {
  const args = process.argv.slice(2).join(' ');
  const nodeFlags = process.execArgv.join(' ');
  if (nodeFlags === '--import tsx') return `npm run bench${args ? ` -- ${args}` : ''}`;
  return `node ${nodeFlags} bench/run.ts${args ? ` ${args}` : ''}`;
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  const command = commandOfThisRun();
  // SIGINT or SIGTERM ends the whole run (its servers go with it: src/stack/orphanGuard.ts). The
  // SDK's default would only shut the in-process workers down: the run then failed, was retried, and
  // started another server.
  // With --watch the runtime also serves the worker's metrics, which Prometheus scrapes.
  const workerMetricsPort = flags.watch ? await freePort() : 0;
  installRuntime({ metrics: { host: '127.0.0.1', port: workerMetricsPort }, logger: new DefaultLogger('ERROR'), shutdownSignals: [] });
  const startedAt = new Date();
  const wallStart = performance.now();
  const root = join(__dirname, 'results');
  mkdirSync(root, { recursive: true });
  if (flags.render) {
    await publish(JSON.parse(readFileSync(flags.render, 'utf8')) as BenchResults, root, flags.readme);
    return;
  }

  const wantsAlternatives = flags.only.has('alternatives');
  // Fail at once, before anything starts, if redis-server is missing.
  const redis = wantsAlternatives ? await startRedis() : undefined;
  let config = benchConfig();
  const prestageSeconds = flags.prestageSeconds ?? config.delivery.prestageSeconds;
  const elasticMq = await startElasticMq({ queues: ['bench-unused-legacy-wait', 'bench-unused-dead-letter'], localStack: config.localStack, log: () => undefined });
  config = { ...config, sqs: { ...config.sqs, endpoint: elasticMq.endpoint } };
  const results: BenchResults = {
    command,
    startedAt: startedAt.toISOString(),
    machine: {
      cores: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
      node: process.version,
      temporalCli: VERSIONS.temporalCliPip,
      elasticMq: VERSIONS.elasticMq,
      redis: redis?.version,
      bullmq: require('bullmq/package.json').version as string,
    },
    flags: { ...flags, only: [...flags.only], prestageSeconds },
    cluster: [],
    workerTuning: config.worker,
    workerOverrides: process.env.BENCH_WORKER_OVERRIDES || undefined,
    byLatency: [],
    floor: [],
    sleeping: [],
    load: { start: loadavg()[0]! },
  };
  const target = devServerTarget();
  const morningWatch: MorningWatch | undefined = flags.watch ? await startMorningWatch({ workerMetricsPort, resultsDir: root }) : undefined;
  observeReleases(morningWatch?.observer);
  const savePartial = () => writeFileSync(join(root, 'partial.json'), JSON.stringify(results, null, 2));
  try {
    if (flags.only.has('release')) await workflowBundle();
    // scheduleMany reached 72–113/s on the 2-core machine of 2026-11-30 (287/s on that of
    // 2026-11-23); a run whose intake is not over in time is discarded and retried with T placed
    // for the rate it reached.
    const pace = { intakePerSecond: 80 };
    for (const [latencyIndex, latencyMs] of flags.latencies.entries()) {
      const proxy = latencyMs > 0 ? await startLatencyProxy(elasticMq.endpoint, latencyMs) : undefined;
      const sqs = createSqsClient({ ...config.sqs, endpoint: proxy?.endpoint ?? elasticMq.endpoint });
      const bench: BenchSqs = {
        sqs,
        counter: new SendCounter(sqs),
        endpoint: proxy?.endpoint ?? elasticMq.endpoint,
        region: config.sqs.region,
        latencyMs,
        processes: proxy ? { 'sqs latency proxy': [proxy.pid] } : {},
      };
      const group: LatencyResults = { latencyMs, staged: [], unstaged: [], spread: [], legacy: [], bullmq: [], ceiling: [] };
      results.byLatency.push(group);
      try {
        // Alternative runs wait in a queue and fill the idle gaps before each Temporal send window,
        // once every notification is held (the server then only keeps its timers).
        // How long each kind took here (× 1.3): a gap is filled only with a kind this run has timed.
        const estimates: Record<string, number> = {};
        const pending: { kind: 'ceiling' | 'legacy' | 'bullmq'; run: () => Promise<AlternativeResult> }[] = [];
        let ceilingConcurrency = 16;
        if (wantsAlternatives) {
          const probe = await bestCeilingConcurrency(sqs, Math.min(flags.n, 2_000));
          ceilingConcurrency = probe.best;
          group.ceilingProbe = probe.tried;
          for (let run = 0; run < flags.runs; run += 1) {
            const suffix = `${latencyMs} ms #${run + 1}`;
            pending.push({ kind: 'legacy', run: () => runLegacyDrain({ bench, n: flags.n, label: `legacy drain ${suffix}` }) });
            pending.push({ kind: 'bullmq', run: () => runBullMq({ bench, n: flags.n, redisPort: redis!.port, concurrency: flags.bullmqConcurrency, label: `bullmq ${suffix}` }) });
            pending.push({ kind: 'ceiling', run: () => runCeiling({ bench, n: flags.n, concurrency: ceilingConcurrency, label: `ceiling ${suffix}` }) });
          }
        }
        const runAlternative = async (job: (typeof pending)[number]) => {
          const started = performance.now();
          const result = await job.run();
          estimates[job.kind] = Math.max(estimates[job.kind] ?? 0, (performance.now() - started) * 1.3);
          group[job.kind].push(result as never);
        };
        const fillUntil = async (untilMs: number) => {
          for (;;) {
            const index = pending.findIndex((job) => estimates[job.kind] !== undefined && Date.now() + estimates[job.kind]! < untilMs);
            if (index < 0) return;
            await runAlternative(pending.splice(index, 1)[0]!);
          }
        };
        // One run of each kind first, so that the gaps are filled on measured times: on 2026-11-30 a
        // guessed 40 s for the legacy drain, which took 106 s, ran 51 s into a send window.
        if (flags.only.has('release')) {
          for (const kind of ['ceiling', 'bullmq', 'legacy'] as const) {
            const index = pending.findIndex((job) => job.kind === kind);
            if (index >= 0) await runAlternative(pending.splice(index, 1)[0]!);
          }
        }

        if (flags.only.has('release')) {
          const release = (lead: number, spreadSeconds: number, label: string) =>
            runPlacedRelease({ config, bench, target, n: flags.n, prestageSeconds: lead, spreadSeconds, whileWaiting: fillUntil, label }, pace);
          // The floor touches no SQS: it runs once, whatever the latency, interleaved with the other
          // runs so that a machine that drifts during the bench weighs on both sides of the ratio.
          const floorRuns = latencyIndex === 0 ? flags.floorRuns : 0;
          // The floor's first tasks run at start, so it is held later than the production intake: its
          // own pace, carried from one floor run to the next. The first is guessed from the production
          // runs' pace: at 10,000 on 2026-12-01 the floor became held at 31/s, the production at about 100/s.
          let floorPace: { intakePerSecond: number } | undefined;
          // Registering with a gate costs an update-with-start per notification: its own pace.
          const cappedPace = { intakePerSecond: pace.intakePerSecond * 0.5 };
          const rounds = Math.max(flags.stagedRuns, flags.unstagedRuns, flags.spreadRuns, floorRuns, flags.cappedRuns);
          for (let run = 0; run < rounds; run += 1) {
            const suffix = `${latencyMs} ms #${run + 1}`;
            if (run < flags.stagedRuns) group.staged.push(await release(prestageSeconds, 0, `temporal staged ${prestageSeconds} s, ${suffix}`));
            if (run < flags.cappedRuns) {
              group.capped ??= [];
              group.capped.push(
                await runPlacedRelease(
                  { config, bench, target, n: flags.n, prestageSeconds, spreadSeconds: 0, whileWaiting: fillUntil, morningCap: { cap: 2, overflow: 'drop' }, label: `temporal staged, morning cap 2, ${suffix}` },
                  cappedPace,
                ),
              );
            }
            if (run < flags.unstagedRuns) group.unstaged.push(await release(0, 0, `temporal staging off, ${suffix}`));
            if (run < floorRuns) {
              floorPace ??= { intakePerSecond: pace.intakePerSecond * 0.3 };
              results.floor.push(await placedByPace((expectedIntakePerSecond) => runReleaseFloor({ config, target, n: flags.n, expectedIntakePerSecond, label: `floor #${run + 1}` }), floorPace));
            }
            if (run < flags.spreadRuns && flags.spread > 0) group.spread.push(await release(prestageSeconds, flags.spread, `temporal staged, spread ${flags.spread} s, ${suffix}`));
            savePartial();
          }
        }
        for (const job of pending.splice(0)) await runAlternative(job);
        savePartial();
      } finally {
        sqs.destroy();
        await proxy?.stop();
      }
    }

    if (flags.curve.length > 0) {
      const sqs = createSqsClient(config.sqs);
      const dbDir = flags.curveOnFile ? mkdtempSync(join(tmpdir(), 'kst-bench-curve-')) : undefined;
      try {
        const bench: BenchSqs = { sqs, counter: new SendCounter(sqs), endpoint: elasticMq.endpoint, region: config.sqs.region, latencyMs: 0, processes: {} };
        const lead = flags.curveLeadSeconds ?? prestageSeconds;
        const curvePace = { intakePerSecond: 80 };
        // A fresh database file for each size, as in memory.
        const curveTarget: TemporalTargetFactory = dbDir ? (serverConfig) => devServerTarget({ dbFilename: join(dbDir, `curve-${Date.now()}.db`) })(serverConfig) : target;
        results.curve = [];
        for (const n of flags.curve) {
          const run = { config, bench, target: curveTarget, n, prestageSeconds: lead, spreadSeconds: 0, scheduleConcurrency: flags.curveScheduleConcurrency, label: `release curve: ${n} staged ${lead} s ahead` };
          results.curve.push(await runPlacedRelease(run, curvePace));
          savePartial();
        }
      } finally {
        sqs.destroy();
        if (dbDir) rmSync(dbDir, { recursive: true, force: true });
      }
    }

    if (flags.only.has('gate')) {
      const sqs = createSqsClient(config.sqs);
      try {
        const bench: BenchSqs = { sqs, counter: new SendCounter(sqs), endpoint: elasticMq.endpoint, region: config.sqs.region, latencyMs: 0, processes: {} };
        results.gate = await runGateIntake({ config, bench, target, n: flags.gateN });
      } finally {
        sqs.destroy();
      }
      savePartial();
    }

    if (flags.only.has('cost')) {
      const sqs = createSqsClient(config.sqs);
      try {
        const bench: BenchSqs = { sqs, counter: new SendCounter(sqs), endpoint: elasticMq.endpoint, region: config.sqs.region, latencyMs: 0, processes: {} };
        log('cost: billable actions per notification, by path');
        results.cost = await runActionCost({ config, bench, target, n: flags.costN });
      } finally {
        sqs.destroy();
      }
      savePartial();
    }

    if (flags.only.has('reconcile')) {
      const sqs = createSqsClient(config.sqs);
      try {
        const bench: BenchSqs = { sqs, counter: new SendCounter(sqs), endpoint: elasticMq.endpoint, region: config.sqs.region, latencyMs: 0, processes: {} };
        results.reconcile = [await runReconcileVsIntake({ config, bench, target, n: flags.reconcileN, label: 'reconciler against scheduleMany' })];
      } finally {
        sqs.destroy();
      }
      savePartial();
    }

    if (flags.only.has('cluster')) await runClusterRows(config, elasticMq.endpoint, flags, results, savePartial);

    if (flags.only.has('sleeping') && flags.sleeping > 0) {
      // The production worker, then the baseline that caches nothing: the difference is what caching costs.
      results.sleeping.push(await runSleeping({ config, n: flags.sleeping, maxCachedWorkflows: config.worker.maxCachedWorkflows, label: 'sleeping, production worker' }));
      savePartial();
      results.sleeping.push(await runSleeping({ config, n: flags.sleeping, maxCachedWorkflows: 0, label: 'sleeping, baseline worker without a cache' }));
    }
  } catch (error) {
    // What was measured stays in partial.json, marked, for `--render`.
    results.stoppedBy = error instanceof Error ? error.message : String(error);
    savePartial();
    throw error;
  } finally {
    observeReleases(undefined);
    await morningWatch?.stop();
    await elasticMq.stop();
    await redis?.stop();
  }
  results.wallSeconds = Math.round((performance.now() - wallStart) / 1000);
  results.load!.end = loadavg()[0]!;
  rmSync(join(root, 'partial.json'), { force: true });
  await publish(results, root, flags.readme);
}

/**
 * Writes bench/results/<start time>.json and the reports of a run (or, with `--render FILE`, of a
 * saved one: a partial.json that a failed run left, say): with `readme`, latest.json, release.png
 * and the README sections too.
 */
async function publish(results: BenchResults, root: string, readme: boolean): Promise<void> {
  const stamp = results.startedAt.replace(/[:.]/g, '-');
  writeFileSync(join(root, `${stamp}.json`), JSON.stringify(results, null, 2));
  // The READMEs, latest.json and release.png are published together; with --no-readme the plot gets
  // its own name, so that no README shows another run's plot. bench/README.md gets the summary,
  // bench/results/README.md every table, the scale tables included. The cluster and scale sections are
  // sections of their own, so that `--cluster`, the scale rows and the main run each keep the
  // others' figures.
  const summaryFile = join(__dirname, 'README.md');
  const fullFile = join(root, 'README.md');
  const mainRun = ['release', 'alternatives', 'sleeping'].some((part) => results.flags.only.includes(part));
  const plotName = readme ? 'release.png' : `${stamp}-release.png`;
  if (mainRun) {
    await writeReleasePlot(join(root, plotName), results);
    const report = renderReport(results);
    console.log(report);
    if (readme) {
      writeFileSync(join(root, 'latest.json'), JSON.stringify(results, null, 2));
      writeReadme(fullFile, report);
      writeReadme(summaryFile, renderReport(results, { summary: true }));
    }
  }
  if (results.reconcile?.length || results.cost?.length || results.curve?.length) {
    const curvePlotName = readme ? 'release-curve.png' : `${stamp}-release-curve.png`;
    const curvePlotted = await writeReleaseCurvePlot(join(root, curvePlotName), results);
    const report = renderScaleReport(results, curvePlotted ? curvePlotName : undefined);
    console.log(report);
    if (readme) {
      writeFileSync(join(root, 'scale-latest.json'), JSON.stringify(results, null, 2));
      writeReadme(fullFile, report, { begin: SCALE_BEGIN, end: SCALE_END });
    }
  }
  if (results.cluster?.length) {
    const report = renderClusterReport(results);
    console.log(report);
    if (readme) {
      writeFileSync(join(root, 'cluster-latest.json'), JSON.stringify(results, null, 2));
      writeReadme(fullFile, report, { begin: CLUSTER_BEGIN, end: CLUSTER_END });
    }
  }
  log(`${results.wallSeconds !== undefined ? `done in ${results.wallSeconds} s; ` : ''}results in bench/results/${stamp}.json${mainRun ? `, plot bench/results/${plotName}` : ''}`);
  const early = [...results.byLatency.flatMap((group) => [...group.staged, ...group.unstaged, ...group.spread, ...group.legacy, ...group.bullmq, ...group.ceiling]), ...results.floor, ...(results.cluster ?? []).map((row) => row.result)].filter((run) => run.early > 0);
  if (early.length > 0) {
    log(`FAILED: ${early.length} run(s) had messages receivable before their release instant (see "early" in the JSON)`);
    process.exitCode = 1;
  }
}

/**
 * The release on clusters of each shard count (two worker processes; one more run with one worker
 * at the largest count) and on the dev server, all with staging off and the same N.
 */
async function runClusterRows(config: Config, sqsEndpoint: string, flags: Flags, results: BenchResults, savePartial: () => void): Promise<void> {
  const sqs = createSqsClient({ ...config.sqs, endpoint: sqsEndpoint });
  const bench: BenchSqs = { sqs, counter: new SendCounter(sqs), endpoint: sqsEndpoint, region: config.sqs.region, latencyMs: 0, processes: {} };
  const pace = { intakePerSecond: 100 };
  const release = (target: TemporalTargetFactory, workerProcesses: number | undefined, label: string) =>
    runPlacedRelease({ config, bench, target, n: flags.clusterN, prestageSeconds: 0, spreadSeconds: 0, workerProcesses, label }, pace);
  try {
    await workflowBundle();
    results.cluster!.push({ shards: 'dev server', workers: 1, result: await release(devServerTarget(), undefined, 'cluster comparison: dev server, staging off') });
    savePartial();
    const largest = Math.max(...flags.clusterShards);
    for (const shards of flags.clusterShards) {
      await withCluster(config, shards, async (cluster) => {
        for (const workers of shards === largest ? [2, 1] : [2]) {
          const result = await release(clusterTarget(cluster), workers, `cluster ${shards} shards, ${workers} worker process${workers === 1 ? '' : 'es'}, staging off`);
          results.cluster!.push({ shards, workers, result });
          savePartial();
        }
      });
    }
  } finally {
    sqs.destroy();
  }
}

/** The median run of each system (by total time) at the first latency, as messages received over seconds since T. */
main().then(
  () => process.exit(0),
  (error) => {
    console.error(error instanceof Error ? error.stack ?? error.message : error);
    process.exit(1);
  },
);
