/**
 * A worker's start-up, before and after the production build: the worker process
 * (src/workers/main.ts) started from the TypeScript sources through tsx, bundling its workflow
 * code with webpack at start (what the Dockerfile ran before), against the compiled build with
 * the workflow bundle built ahead of time (`npm run build`: what the Dockerfile and the cluster
 * run now). Measures the time from spawn to "worker polling" and the worker's RSS then and after
 * it has idled a few seconds (and its peak). One in-memory dev server and ElasticMQ serve all runs.
 *
 *   node --import tsx bench/workerStart.ts [--runs 5] [--idle-seconds 10]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config';
import { startLocalServers } from '../src/stack/localServers';
import { ensureWorkerBuild } from '../src/stack/workerBuild';
import { spawnWorkerProcess, workerEnvironment } from '../src/stack/workerProcess';

interface Sample {
  readyMs: number;
  rssAtReadyMiB: number;
  rssIdleMiB: number;
  peakMiB: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function memoryMiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, 'idle-seconds': { type: 'string', default: '10' } } });
  const runs = Number(values.runs);
  const idleMs = Number(values['idle-seconds']) * 1000;
  await ensureWorkerBuild((line) => process.stderr.write(`${line}\n`));
  const servers = await startLocalServers({ config: loadConfig({ ...process.env, TEMPORAL_ADDRESS: '', AWS_ENDPOINT_URL_SQS: '' }), log: () => {} });
  const results: Record<string, Sample[]> = { sources: [], build: [] };
  try {
    for (let run = 1; run <= runs; run++) {
      // Alternating, so that a noisy neighbour hurts both alike.
      for (const code of ['sources', 'build'] as const) {
        const started = performance.now();
        const worker = spawnWorkerProcess({ env: workerEnvironment(servers.config, { NOTIFY_TASK_QUEUE: `worker-start-${code}-${run}` }), code, name: `${code}-${run}` });
        await worker.ready;
        const readyMs = performance.now() - started;
        const atReady = memoryMiB(worker.pid);
        await sleep(idleMs);
        const idle = memoryMiB(worker.pid);
        await worker.stop();
        results[code]!.push({ readyMs, rssAtReadyMiB: atReady.rss, rssIdleMiB: idle.rss, peakMiB: idle.peak });
        process.stderr.write(`${code} #${run}: polling after ${(readyMs / 1000).toFixed(2)} s, RSS ${atReady.rss.toFixed(0)} MiB at ready, ${idle.rss.toFixed(0)} MiB idle, peak ${idle.peak.toFixed(0)} MiB\n`);
      }
    }
  } finally {
    await servers.stop();
  }
  console.log('| worker started from | start to polling (s) | RSS at polling (MiB) | RSS idle (MiB) | peak RSS (MiB) |');
  console.log('| --- | --- | --- | --- | --- |');
  const label = { sources: 'TypeScript sources (tsx), workflows bundled at start', build: '`npm run build` output, prebuilt workflow bundle' };
  for (const code of ['sources', 'build'] as const) {
    const samples = results[code]!;
    const cell = (pick: (sample: Sample) => number, digits: number) => {
      const picked = samples.map(pick);
      return `${median(picked).toFixed(digits)} (${Math.min(...picked).toFixed(digits)}–${Math.max(...picked).toFixed(digits)})`;
    };
    console.log(`| ${label[code]} | ${cell((s) => s.readyMs / 1000, 2)} | ${cell((s) => s.rssAtReadyMiB, 0)} | ${cell((s) => s.rssIdleMiB, 0)} | ${cell((s) => s.peakMiB, 0)} |`);
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
});
