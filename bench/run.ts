/**
 * `npm run bench`: every benchmark of bench/README.md in one run, on one machine.
 *
 *   npm run bench -- [--n 10000] [--runs 3] [--temporal-runs 1] [--spread-runs 1] [--floor-runs 0] [--spread 120]
 *                    [--sleeping 3000] [--bullmq-concurrency 50] [--only release,alternatives,sleeping] [--no-readme]
 *
 * --runs is per alternative (legacy drain, BullMQ, ceiling: seconds each); the Temporal release
 * takes minutes per run at N = 10,000 on 2 cores, so it has its own counts, sized so that the
 * defaults finish within 15 minutes.
 *
 * Starts its own servers (ElasticMQ, a Temporal dev server per run, redis-server), whatever
 * TEMPORAL_ADDRESS / AWS_ENDPOINT_URL_SQS say, and stops them at the end. Writes
 * bench/results/<time>.json and, unless --no-readme, bench/results/latest.json,
 * bench/results/release.png and the results section of bench/README.md.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { loadConfig, type Config } from '../src/config';
import { createSqsClient } from '../src/sqs';
import { startElasticMq } from '../src/stack/elasticMq';
import { VERSIONS } from '../src/stack/versions';
import { freshLocalSecrets } from '../src/security/localSecrets';
import { bestCeilingConcurrency, runBullMq, runCeiling, runLegacyDrain, startRedis, type AlternativeResult } from './alternatives';
import { log } from './common';
import { runReleaseFloor } from './floor/run';
import { writeLinePlot } from './plot';
import { renderReport, writeReadme, type BenchResults } from './report';
import { runSleeping, runTemporalRelease, TooLateError, workflowBundle, type TemporalReleaseResult } from './temporal';

interface Flags {
  n: number;
  runs: number;
  temporalRuns: number;
  spreadRuns: number;
  floorRuns: number;
  spread: number;
  sleeping: number;
  bullmqConcurrency: number;
  only: Set<string>;
  readme: boolean;
}

function parseFlags(argv: string[]): Flags {
  const flags: Flags = { n: 10_000, runs: 3, temporalRuns: 1, spreadRuns: 1, floorRuns: 0, spread: 120, sleeping: 3_000, bullmqConcurrency: 50, only: new Set(['release', 'alternatives', 'sleeping']), readme: true };
  for (let index = 0; index < argv.length; index += 1) {
    const [name, inline] = argv[index]!.split('=', 2) as [string, string | undefined];
    const value = () => inline ?? argv[++index] ?? '';
    const number = (what: string) => {
      const parsed = Number(value());
      if (!Number.isFinite(parsed) || parsed < 0) throw new Error(`${name} expects a number for ${what}`);
      return Math.floor(parsed);
    };
    switch (name) {
      case '--n': flags.n = number('notifications per release'); break;
      case '--runs': flags.runs = Math.max(1, number('runs per alternative')); break;
      case '--temporal-runs': flags.temporalRuns = number('Temporal release runs without spread'); break;
      case '--spread-runs': flags.spreadRuns = number('Temporal release runs with the spread'); break;
      case '--floor-runs': flags.floorRuns = number('release runs of the timer-only floor workflow'); break;
      case '--spread': flags.spread = number('the morning spread in seconds'); break;
      case '--sleeping': flags.sleeping = number('held notifications for the cost of sleeping'); break;
      case '--bullmq-concurrency': flags.bullmqConcurrency = Math.max(1, number('the BullMQ worker concurrency')); break;
      case '--only': flags.only = new Set(value().split(',').map((part) => part.trim()).filter(Boolean)); break;
      case '--no-readme': flags.readme = false; break;
      case '--help':
      case '-h':
        console.log('npm run bench -- [--n 10000] [--runs 3] [--temporal-runs 1] [--spread-runs 1] [--floor-runs 0] [--spread 120] [--sleeping 3000] [--bullmq-concurrency 50] [--only release,alternatives,sleeping] [--no-readme]');
        process.exit(0);
      default:
        throw new Error(`unknown flag ${name} (try --help)`);
    }
  }
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

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const startedAt = new Date();
  const wallStart = performance.now();
  const root = join(__dirname, 'results');
  mkdirSync(root, { recursive: true });

  const wantsAlternatives = flags.only.has('alternatives');
  // Fail at once, before anything starts, if redis-server is missing.
  const redis = wantsAlternatives ? await startRedis() : undefined;
  let config = benchConfig();
  const elasticMq = await startElasticMq({ queues: ['bench-unused-legacy-wait', 'bench-unused-dead-letter'], localStack: config.localStack, log: () => undefined });
  config = { ...config, sqs: { ...config.sqs, endpoint: elasticMq.endpoint } };
  const sqs = createSqsClient(config.sqs);
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
    flags: { n: flags.n, runs: flags.runs, temporalRuns: flags.temporalRuns, spreadRuns: flags.spreadRuns, floorRuns: flags.floorRuns, spread: flags.spread, sleeping: flags.sleeping, bullmqConcurrency: flags.bullmqConcurrency },
    workerTuning: config.worker,
    workerOverrides: process.env.BENCH_WORKER_OVERRIDES || undefined,
    temporal: [],
    temporalSpread: [],
    floor: [],
    legacy: [],
    bullmq: [],
    ceiling: [],
  };
  try {
    if (flags.only.has('release')) await workflowBundle();
    // Alternative runs wait in a queue and fill the minute-long idle gaps before each Temporal T
    // (the quiet window ends on a whole minute), when the dev server only holds timers.
    const estimates: Record<string, number> = { ceiling: 10_000, legacy: 30_000, bullmq: 25_000 };
    const pending: { kind: 'ceiling' | 'legacy' | 'bullmq'; run: () => Promise<AlternativeResult> }[] = [];
    let ceilingConcurrency = 16;
    if (wantsAlternatives) {
      const probe = await bestCeilingConcurrency(sqs, Math.min(flags.n, 2_000));
      ceilingConcurrency = probe.best;
      results.ceilingProbe = probe.tried;
      for (let run = 0; run < flags.runs; run += 1) {
        pending.push({ kind: 'legacy', run: () => runLegacyDrain({ sqs, n: flags.n, label: `legacy drain #${run + 1}` }) });
        pending.push({ kind: 'bullmq', run: () => runBullMq({ sqs, n: flags.n, redisPort: redis!.port, concurrency: flags.bullmqConcurrency, label: `bullmq #${run + 1}` }) });
        pending.push({ kind: 'ceiling', run: () => runCeiling({ sqs, n: flags.n, concurrency: ceilingConcurrency, label: `ceiling #${run + 1}` }) });
      }
    }
    const runAlternative = async (job: (typeof pending)[number]) => {
      const started = performance.now();
      const result = await job.run();
      estimates[job.kind] = Math.max(estimates[job.kind]!, (performance.now() - started) * 1.3);
      const target = job.kind === 'legacy' ? results.legacy : job.kind === 'bullmq' ? results.bullmq : results.ceiling;
      target.push(result);
    };
    const fillUntil = async (untilMs: number) => {
      for (;;) {
        const index = pending.findIndex((job) => Date.now() + estimates[job.kind]! < untilMs);
        if (index < 0) return;
        await runAlternative(pending.splice(index, 1)[0]!);
      }
    };

    if (flags.only.has('release')) {
      // scheduleMany reaches about 300/s on 2 cores; a miss is retried with T placed later.
      let expectedIntake = 250;
      const release = async (spreadSeconds: number, label: string): Promise<TemporalReleaseResult> => {
        for (let attempt = 0; ; attempt += 1) {
          try {
            const result = await runTemporalRelease({ config, sqs, n: flags.n, spreadSeconds, expectedIntakePerSecond: expectedIntake, whileWaiting: fillUntil, label });
            expectedIntake = Math.max(20, result.intakePerSecond * 0.8);
            return result;
          } catch (error) {
            if (!(error instanceof TooLateError) || attempt >= 2) throw error;
            expectedIntake = Math.max(10, ((error.n * 1000) / error.scheduleMs) * 0.7);
            log(`  ${error.message}; again with T placed for ${Math.round(expectedIntake)}/s`);
          }
        }
      };
      for (let run = 0; run < Math.max(flags.temporalRuns, flags.spreadRuns); run += 1) {
        if (run < flags.temporalRuns) results.temporal.push(await release(0, `temporal #${run + 1}`));
        if (run < flags.spreadRuns && flags.spread > 0) results.temporalSpread.push(await release(flags.spread, `temporal spread ${flags.spread} s #${run + 1}`));
        writeFileSync(join(root, 'partial.json'), JSON.stringify(results, null, 2));
      }
      for (let run = 0; run < flags.floorRuns; run += 1) {
        results.floor.push(await runReleaseFloor({ config, n: flags.n, expectedIntakePerSecond: expectedIntake, label: `floor #${run + 1}` }));
      }
    }
    for (const job of pending.splice(0)) await runAlternative(job);
    writeFileSync(join(root, 'partial.json'), JSON.stringify(results, null, 2));

    if (flags.only.has('sleeping') && flags.sleeping > 0) {
      results.sleeping = await runSleeping({ config, n: flags.sleeping });
    }
  } finally {
    sqs.destroy();
    await elasticMq.stop();
    await redis?.stop();
  }
  results.wallSeconds = Math.round((performance.now() - wallStart) / 1000);
  rmSync(join(root, 'partial.json'), { force: true });

  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  writeFileSync(join(root, `${stamp}.json`), JSON.stringify(results, null, 2));
  // README.md, latest.json and release.png are published together; with --no-readme the plot gets
  // its own name, so the README never shows another run's plot.
  const plotName = flags.readme ? 'release.png' : `${stamp}-release.png`;
  writeReleasePlot(join(root, plotName), results);
  const report = renderReport(results);
  console.log(report);
  if (flags.readme) {
    writeFileSync(join(root, 'latest.json'), JSON.stringify(results, null, 2));
    writeReadme(join(__dirname, 'README.md'), report);
  }
  log(`done in ${results.wallSeconds} s; results in bench/results/${stamp}.json, plot bench/results/${plotName}`);
}

/** The median run of each system (by total time), as messages delivered over seconds since T. */
function writeReleasePlot(file: string, results: BenchResults): void {
  const pick = (runs: { totalMs: number; curve: [number, number][] }[]) => {
    if (runs.length === 0) return undefined;
    const sorted = [...runs].sort((a, b) => a.totalMs - b.totalMs);
    return sorted[Math.floor((sorted.length - 1) / 2)]!;
  };
  const series = [
    ['Temporal', pick(results.temporal)],
    [`Temporal, spread ${results.flags.spread} s`, pick(results.temporalSpread)],
    ['Temporal floor (timer-only workflow, closed)', pick(results.floor)],
    ['Legacy drain', pick(results.legacy)],
    [`BullMQ (concurrency ${results.flags.bullmqConcurrency})`, pick(results.bullmq)],
    ['SQS ceiling (SendMessageBatch)', pick(results.ceiling)],
  ]
    .filter((entry): entry is [string, { totalMs: number; curve: [number, number][] }] => entry[1] !== undefined)
    .map(([label, run]) => ({
      label: `${label}: ${(run.totalMs / 1000).toFixed(1)} S`,
      points: run.curve.map(([ms, count]) => [Math.max(ms, 0) / 1000, count] as [number, number]),
    }));
  if (series.length === 0) return;
  writeLinePlot(file, {
    title: `Morning release of ${results.flags.n.toLocaleString('en-US')} held notifications (median run)`,
    xLabel: 'seconds since release instant T (log scale)',
    yLabel: 'messages in the delivery queue',
    logX: true,
    series,
  });
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error instanceof Error ? error.stack ?? error.message : error);
    process.exit(1);
  },
);
