/**
 * `npm run bench -- --watch`: a Prometheus server (src/stack/prometheusServer.ts) scrapes the bench
 * process's worker (its Temporal runtime serves the SDK's metrics and the project's on a port of its
 * own) and each run's Temporal dev server every second, and evaluates the alert rules. After each
 * release run, the morning as it was scraped becomes a PNG next to the results
 * (bench/results/morning-<run>.png, bench/morningPlot.ts). Off by default: a run without it installs
 * no exporter and starts no Prometheus.
 */
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { COUNTERS, exposedCounter, GAUGES, HISTOGRAMS } from '../src/metricNames';
import { startPrometheus, TEMPORAL_SERVER_JOB, type RangeSeries, type RunningPrometheus } from '../src/stack/prometheusServer';
import { startStagingProbe } from '../src/workers/stagingProbe';
import { log } from './common';
import { writeMorningPicture, type MorningSeries } from './morningPlot';
import type { ObservedRelease, ReleaseObserver } from './temporal';
import type { TemporalTarget } from './temporalTarget';

export interface MorningWatch {
  observer: ReleaseObserver;
  /** The pictures written so far. */
  pictures: string[];
  prometheusUrl: string;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One line per series, its points as [seconds since T, value]. A run's counters carry its own task
 * queue, so they begin with it: `fromZero` draws them from 0 before their first sample.
 */
function lines(series: RangeSeries[], name: string, releaseAtMs: number, fromZero = false): MorningSeries[] {
  return series.map((one) => {
    const points = one.points.map(([at, value]) => [(at - releaseAtMs) / 1000, value] as [number, number]);
    if (fromZero && points.length > 0) points.unshift([points[0]![0] - 1, 0]);
    return { name, points };
  });
}

function slug(label: string): string {
  return label.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

export async function startMorningWatch(options: { workerMetricsPort: number; resultsDir: string }): Promise<MorningWatch> {
  const prometheus: RunningPrometheus = await startPrometheus();
  await prometheus.addWorker(`127.0.0.1:${options.workerMetricsPort}`);
  log(`--watch: Prometheus at ${prometheus.url} scrapes the worker (127.0.0.1:${options.workerMetricsPort}) and each run's Temporal server`);
  const pictures: string[] = [];

  const picture = async (run: ObservedRelease) => {
    // The last scrapes of the run.
    await sleep(3_000);
    const from = Math.min(run.scheduleStartedAt, run.windowOpensMs - 30_000);
    const to = Math.max(run.lastReceivedAt, run.releaseAtMs) + 15_000;
    const queue = `taskQueue="${run.taskQueue}"`;
    const range = (query: string) => prometheus.queryRange(query, from, to, 1);
    const counts = [
      ...lines(await range(`sum(${exposedCounter(COUNTERS.staged)}{${queue}})`), 'staged', run.releaseAtMs, true),
      ...lines(await range(`sum(${exposedCounter(COUNTERS.sent)}{${queue}})`), 'sent after its release', run.releaseAtMs, true),
      ...lines(await range(`sum(${exposedCounter(COUNTERS.released)}{${queue}})`), 'released (receivable)', run.releaseAtMs, true),
    ];
    const lagLines: MorningSeries[] = [];
    for (const quantile of [0.5, 0.99]) {
      lagLines.push(
        ...lines(
          await range(`histogram_quantile(${quantile}, sum by (le) (rate(${HISTOGRAMS.releaseLag}_bucket{${queue}}[5s])))`),
          `p${quantile * 100}, sends of the last 5 s`,
          run.releaseAtMs,
        ),
      );
    }
    const server = [
      ...lines(
        await range(`sum(rate(service_requests{job="${TEMPORAL_SERVER_JOB}", operation="RespondWorkflowTaskCompleted"}[5s]))`),
        'workflow tasks / s (server)',
        run.releaseAtMs,
      ),
      ...lines(await range(`max(${GAUGES.heldDueSoon}{task_queue="${run.taskQueue}"})`), 'held, due within 5 min', run.releaseAtMs),
    ];
    const file = join(options.resultsDir, `morning-${slug(run.label)}.png`);
    await writeMorningPicture(file, {
      title: `${run.label}: ${run.n.toLocaleString('en-US')} notifications, as Prometheus scraped them`,
      leadSeconds: run.prestageSeconds,
      domain: [(from - run.releaseAtMs) / 1000, (to - run.releaseAtMs) / 1000],
      counts,
      lag: lagLines,
      server,
    });
    pictures.push(file);
    log(`  --watch: the morning of this run in ${file}`);
  };

  const observer: ReleaseObserver = {
    serverStarted: async (target: TemporalTarget) => {
      await prometheus.setTemporalServer(target.metricsUrl ? new URL(target.metricsUrl).host : undefined);
    },
    runStarted: ({ client, taskQueue }: { client: Client; taskQueue: string }) => {
      const probe = startStagingProbe({ client, taskQueue, intervalMs: 5_000, onError: () => undefined });
      return () => probe.stop();
    },
    released: (run) => picture(run).catch((error) => log(`  --watch: no picture of this run: ${(error as Error).message}`)),
  };
  return { observer, pictures, prometheusUrl: prometheus.url, stop: () => prometheus.stop() };
}
