/**
 * A Prometheus server of our own (provisioned: src/stack/provisionPrometheus.ts) that scrapes the
 * worker and the Temporal server every second and evaluates the alert rules
 * (deploy/prometheus/alerts.yml), for `npm run bench -- --watch`. The Temporal server's address
 * may change while it runs (the benchmark starts one per run): its target is a file that
 * Prometheus watches. Never orphaned (src/stack/managedProcess.ts); its data is thrown away at stop.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from './cluster/files';
import { spawnManaged } from './managedProcess';
import { freePort } from './ports';
import { provisionPrometheus } from './provisionPrometheus';
import type { ProvisionOptions } from './provisionTypes';

/** The scrape jobs; deploy/prometheus/alerts.yml reads `notification-worker` by name. */
export const WORKER_JOB = 'notification-worker';
export const TEMPORAL_SERVER_JOB = 'temporal-server';

export interface RangeSeries {
  labels: Record<string, string>;
  /** [epoch ms, value] */
  points: [number, number][];
}

export interface RunningPrometheus {
  /** http://127.0.0.1:port */
  url: string;
  /** Points the temporal-server job at a server's metrics endpoint (host:port), or at none. */
  setTemporalServer(hostPort: string | undefined): Promise<void>;
  /** Adds a worker's metrics endpoint (host:port) to the notification-worker job. */
  addWorker(hostPort: string): Promise<void>;
  /** `query_range` from `fromMs` to `toMs` every `stepSeconds`. */
  queryRange(query: string, fromMs: number, toMs: number, stepSeconds?: number): Promise<RangeSeries[]>;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function startPrometheus(options: ProvisionOptions & { scrapeIntervalSeconds?: number } = {}): Promise<RunningPrometheus> {
  const { prometheus } = await provisionPrometheus(options);
  const dir = await mkdtemp(join(tmpdir(), 'kst-prometheus-'));
  const interval = `${options.scrapeIntervalSeconds ?? 1}s`;
  const targetFile = (job: string) => join(dir, `${job}.json`);
  const workers: string[] = [];
  const writeTargets = (job: string, targets: string[]) => writeFile(targetFile(job), JSON.stringify(targets.length > 0 ? [{ targets }] : []));
  await writeTargets(WORKER_JOB, []);
  await writeTargets(TEMPORAL_SERVER_JOB, []);
  await writeFile(
    join(dir, 'prometheus.yml'),
    [
      'global:',
      `  scrape_interval: ${interval}`,
      `  evaluation_interval: ${interval}`,
      'rule_files:',
      `  - ${JSON.stringify(join(PROJECT_ROOT, 'deploy', 'prometheus', 'alerts.yml'))}`,
      'scrape_configs:',
      ...[WORKER_JOB, TEMPORAL_SERVER_JOB].flatMap((job) => [
        `  - job_name: ${job}`,
        '    file_sd_configs:',
        `      - files: [${JSON.stringify(targetFile(job))}]`,
        '        refresh_interval: 1s',
      ]),
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const server = spawnManaged('prometheus', prometheus, [
    `--config.file=${join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
  ]);
  const stop = async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  };
  for (let attempt = 0; ; attempt += 1) {
    try {
      if ((await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1_000) })).ok) break;
    } catch {
      // not yet
    }
    if (attempt > 100) {
      const output = server.output();
      await stop();
      throw new Error(`Prometheus did not become ready at ${url}:\n${output}`);
    }
    await sleep(200);
  }
  return {
    url,
    setTemporalServer: (hostPort) => writeTargets(TEMPORAL_SERVER_JOB, hostPort ? [hostPort] : []),
    addWorker: async (hostPort) => {
      workers.push(hostPort);
      await writeTargets(WORKER_JOB, workers);
    },
    async queryRange(query, fromMs, toMs, stepSeconds = 1) {
      const params = new URLSearchParams({ query, start: String(fromMs / 1000), end: String(toMs / 1000), step: String(stepSeconds) });
      const response = await fetch(`${url}/api/v1/query_range?${params}`, { signal: AbortSignal.timeout(30_000) });
      const body = (await response.json()) as { status: string; error?: string; data?: { result: { metric: Record<string, string>; values: [number, string][] }[] } };
      if (body.status !== 'success') throw new Error(`Prometheus refused ${query}: ${body.error}`);
      return body.data!.result.map((series) => ({
        labels: series.metric,
        points: series.values.map(([at, value]) => [at * 1000, Number(value)] as [number, number]).filter(([, value]) => Number.isFinite(value)),
      }));
    },
    stop,
  };
}
