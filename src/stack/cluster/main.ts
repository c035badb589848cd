/**
 * `npm run cluster -- [--shards 16] [--workers 2]`: the production topology on this machine
 * (startCluster.ts) under <data dir>/cluster, with Temporal, the Web UI and SQS on the ports of
 * `npm start` (NOTIFY_TEMPORAL_PORT, NOTIFY_TEMPORAL_UI_PORT, NOTIFY_SQS_PORT), everything else on
 * free ports. Ctrl-C (or SIGTERM) drains the workers and stops every server; PostgreSQL's data
 * stays, so the next run finds every held notification.
 */
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { localSecretsFile } from '../../config';
import { codecServerFromConfig, type RunningCodecServer } from '../../security';
import { stderrLog } from '../progress';
import { codecBanner, configWithLocalSecrets } from '../stackSecrets';
import { assertNoRunningStack, runningStackFile, stackVariables, writeRunningStack } from '../runningStack';
import { DEFAULT_CLUSTER_SHARDS, DEFAULT_CLUSTER_WORKERS, startCluster, type RunningCluster } from './startCluster';

const USAGE = 'usage: npm run cluster -- [--shards N] [--workers N]';

function positive(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < (name === 'workers' ? 0 : 1)) throw new Error(`--${name} must be a whole number (got ${value})\n${USAGE}`);
  return parsed;
}

function banner(cluster: RunningCluster, dataDir: string, codec: RunningCodecServer | undefined): string {
  const { config, addresses } = cluster;
  const pids = cluster.pids();
  return [
    '',
    'cluster is running',
    `  Temporal    ${addresses.temporal}  namespace ${config.temporal.namespace}  server ${cluster.shards} history shards (pid ${pids.temporal})`,
    `  Web UI      ${addresses.webUi ?? '(off)'}`,
    `  PostgreSQL  ${addresses.postgres}  data in ${cluster.postgres.dataDir} (pid ${pids.postgres})`,
    `  metrics     ${addresses.metrics}`,
    `  SQS         ${addresses.sqs}  ElasticMQ (pid ${pids.elasticMq})`,
    `    queues        ${config.sqs.deliveryQueue}, ${config.sqs.legacyWaitQueue}, ${config.sqs.deadLetterQueue}`,
    `  workers     ${pids.workers.length} processes (pids ${pids.workers.join(', ')}) polling task queue "${config.temporal.taskQueue}"; the legacy schedule is ensured`,
    ...codecBanner(codec, resolve(localSecretsFile(dataDir))),
    `  logs        ${cluster.logDir}`,
    '',
    `In another shell, \`npm run cli -- …\` finds it (${runningStackFile(dataDir)}); other programs need:`,
    `  export TEMPORAL_ADDRESS=${addresses.temporal} AWS_ENDPOINT_URL_SQS=${addresses.sqs}`,
    'Ctrl-C drains the workers and stops every server; the database stays for the next run.',
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { shards: { type: 'string' }, workers: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const shards = positive('shards', values.shards, DEFAULT_CLUSTER_SHARDS);
  const workers = positive('workers', values.workers, DEFAULT_CLUSTER_WORKERS);
  const config = await configWithLocalSecrets();
  const dataDir = resolve(config.localStack.dataDir);
  assertNoRunningStack(dataDir);
  if (config.temporal.address || config.sqs.endpoint) stderrLog('note: the cluster runs its own Temporal and SQS; TEMPORAL_ADDRESS and AWS_ENDPOINT_URL_SQS are ignored here');

  let cluster: RunningCluster | undefined;
  let stopRequested: (() => void) | undefined;
  const stopped = new Promise<void>((resolvePromise) => (stopRequested = resolvePromise));
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals === 1) {
      stderrLog(`${signal}: stopping (draining the workers first)…`);
      stopRequested!();
      return;
    }
    stderrLog(`${signal} again: still stopping; the servers get SIGKILL after their grace period`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  // First, so that the Web UI can be pointed at it.
  const codec = await codecServerFromConfig(config, { log: stderrLog });
  const startPromise = startCluster({
    config,
    uiCodecEndpoint: codec?.url,
    dir: join(dataDir, 'cluster'),
    shards,
    workers,
    ports: { temporal: config.localStack.temporalPort, webUi: config.localStack.temporalUiPort, sqs: config.localStack.sqsPort },
    log: stderrLog,
  });
  cluster = await startPromise;
  let removeRecord: (() => Promise<void>) | undefined;
  try {
    if (signals === 0) {
      removeRecord = await writeRunningStack(dataDir, {
        kind: 'cluster',
        env: stackVariables(cluster.config),
        webUi: cluster.addresses.webUi,
        codecServer: codec?.url,
        pids: cluster.pids(),
        localSecrets: !config.temporal.address,
      });
      console.log(banner(cluster, dataDir, codec));
      for (const worker of cluster.workers) {
        void worker.exited.then((how) => {
          if (signals === 0) stderrLog(`${worker.name} exited (${how}); its log: ${join(cluster!.logDir, `${worker.name}.log`)}`);
        });
      }
      await stopped;
    }
  } finally {
    await removeRecord?.();
    await cluster.stop();
    await codec?.stop();
    stderrLog('cluster stopped');
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
