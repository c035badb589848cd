/**
 * The production topology on one machine, without Docker: a private PostgreSQL, Temporal's
 * schema on it, the full Temporal server with N history shards (its metrics on a Prometheus
 * port), the namespace with this project's search attributes, the Web UI, ElasticMQ with the
 * configured queues, and W worker processes running the compiled build. The same server version,
 * configuration and schema script as docker-compose.yml.
 *
 * `npm run cluster` (main.ts) starts one on the configured ports under .data/cluster; tests and
 * benchmarks start their own on free ports in a directory of their choosing, and stop it.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Config } from '../../config';
import { startElasticMq, type RunningElasticMq } from '../elasticMq';
import { configuredQueueNames } from '../elasticMqConfig';
import { freePort } from '../ports';
import { stderrLog, timedStep, type Log } from '../progress';
import { provisionTemporalServer, provisionTemporalUi } from '../provisionTemporalServer';
import { VERSIONS } from '../versions';
import { ensureWorkerBuild } from '../workerBuild';
import { spawnWorkerProcess, workerEnvironment, type WorkerProcess } from '../workerProcess';
import { ensureNamespace } from './namespace';
import { startPostgres, type RunningPostgres } from './postgres';
import { setupTemporalSchema } from './schema';
import { serverPorts, startTemporalServer, temporalServerEnvironment, type RunningTemporalServer } from './temporalServer';
import { startWebUi, type RunningWebUi } from './webUi';

export const DEFAULT_CLUSTER_SHARDS = 16;
export const DEFAULT_CLUSTER_WORKERS = 2;

export interface StartClusterOptions {
  /**
   * Queue names, task queue, namespace, region, worker tuning, cache dir. temporal.address and
   * sqs.endpoint are ignored: the cluster runs its own servers.
   */
  config: Config;
  /** The cluster's directory: PostgreSQL's data, logs, cluster.json. Kept across runs (a second start keeps every workflow). */
  dir: string;
  /** History shards; fixed when the database is first created. Default 16. */
  shards?: number;
  /** Worker processes started with it (more with addWorker); default 2. */
  workers?: number;
  /** Fixed ports; each one not given is a free one. */
  ports?: { temporal?: number; webUi?: number; sqs?: number; postgres?: number; metrics?: number };
  /** Start the Web UI; default true. */
  webUi?: boolean;
  /** The codec server the Web UI offers for decoding payloads. */
  uiCodecEndpoint?: string;
  /** Extra variables for the worker processes (other queues, tuning). */
  workerEnv?: NodeJS.ProcessEnv;
  /** The server's log level; default warn. */
  serverLogLevel?: string;
  log?: Log;
}

export interface RunningCluster {
  /** The configuration with this cluster's servers filled in (temporal.address, sqs.endpoint). */
  config: Config;
  dir: string;
  shards: number;
  addresses: {
    /** host:port of the Temporal frontend. */
    temporal: string;
    webUi?: string;
    sqs: string;
    postgres: string;
    /** The server's Prometheus endpoint (persistence_requests and every other server metric). */
    metrics: string;
  };
  postgres: RunningPostgres;
  temporal: RunningTemporalServer;
  webUi?: RunningWebUi;
  elasticMq: RunningElasticMq;
  /** Every worker process started so far (including stopped or killed ones). */
  workers: WorkerProcess[];
  /** Where each component writes its log. */
  logDir: string;
  pids(): { postgres: number; temporal: number; webUi?: number; elasticMq: number; workers: number[] };
  /** One more worker process on the cluster's task queue; `env` adds variables to the cluster's worker environment. */
  addWorker(env?: NodeJS.ProcessEnv): Promise<WorkerProcess>;
  /** Stops the workers (draining them), the UI, the server, PostgreSQL and ElasticMQ; safe to call twice. */
  stop(): Promise<void>;
}

/** A cluster's shard count is fixed when its database is created; cluster.json remembers it. */
export class ClusterShardsMismatchError extends Error {
  override readonly name = 'ClusterShardsMismatchError';
}

interface ClusterRecord {
  shards: number;
  temporalServer: string;
}

async function checkRecord(dir: string, shards: number): Promise<void> {
  const file = join(dir, 'cluster.json');
  if (!existsSync(file)) return;
  const record = JSON.parse(await readFile(file, 'utf8')) as ClusterRecord;
  if (record.shards !== shards) {
    throw new ClusterShardsMismatchError(
      `the cluster in ${dir} was created with ${record.shards} history shards, and a Temporal cluster cannot change that: ` +
        `start it with --shards ${record.shards}, or remove ${dir} to start afresh (its workflows are lost)`,
    );
  }
}

export async function startCluster(options: StartClusterOptions): Promise<RunningCluster> {
  const log = options.log ?? stderrLog;
  const dir = resolve(options.dir);
  const shards = options.shards ?? DEFAULT_CLUSTER_SHARDS;
  const workerCount = options.workers ?? DEFAULT_CLUSTER_WORKERS;
  const localStack = options.config.localStack;
  const logDir = join(dir, 'logs');
  await mkdir(logDir, { recursive: true });
  await checkRecord(dir, shards);

  const server = await provisionTemporalServer({ localStack, log });
  const ui = options.webUi === false ? undefined : await provisionTemporalUi({ localStack, log });
  // Also with no workers at start: addWorker() must not run a build older than the sources.
  await ensureWorkerBuild(log);

  let postgres: RunningPostgres | undefined;
  let elasticMq: RunningElasticMq | undefined;
  let temporal: RunningTemporalServer | undefined;
  let webUi: RunningWebUi | undefined;
  const workers: WorkerProcess[] = [];
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      // Workers first: they finish in-flight tasks while the server and the queues are still up.
      await Promise.all(workers.map((worker) => worker.stop()));
      await webUi?.stop();
      await temporal?.stop();
      await postgres?.stop();
      await elasticMq?.stop();
    })();
    return stopping;
  };

  try {
    const ports = options.ports ?? {};
    // PostgreSQL (and the schema) and ElasticMQ's JVM start side by side.
    const databaseReady = timedStep(log, `starting PostgreSQL and Temporal's schema in ${dir}`, async () => {
      postgres = await startPostgres({ dir, port: ports.postgres, logFile: join(logDir, 'postgres.log') });
      await setupTemporalSchema(server, postgres);
    });
    const sqsReady = startElasticMq({
      port: ports.sqs,
      queues: configuredQueueNames(options.config.sqs),
      region: options.config.sqs.region,
      localStack,
      log,
    }).then((running) => (elasticMq = running));
    const [database, sqs] = await Promise.allSettled([databaseReady, sqsReady]);
    if (database.status === 'rejected') throw database.reason;
    if (sqs.status === 'rejected') throw sqs.reason;

    const serverPortSet = await serverPorts({ frontendGrpc: ports.temporal, metrics: ports.metrics });
    await timedStep(log, `starting the Temporal server ${VERSIONS.temporalServer} (${shards} history shards)`, async () => {
      temporal = await startTemporalServer({
        binary: server.serverBinary,
        environment: temporalServerEnvironment({ postgres: postgres!, shards, ports: serverPortSet, logLevel: options.serverLogLevel }),
        ports: serverPortSet,
        logFile: join(logDir, 'temporal-server.log'),
      });
      await ensureNamespace(temporal.address, options.config.temporal.namespace);
    });
    const record: ClusterRecord = { shards, temporalServer: VERSIONS.temporalServer };
    await writeFile(join(dir, 'cluster.json'), `${JSON.stringify(record, null, 2)}\n`);

    const config: Config = {
      ...options.config,
      temporal: { ...options.config.temporal, address: temporal!.address },
      sqs: { ...options.config.sqs, endpoint: elasticMq!.endpoint },
    };
    const addWorker = async (env: NodeJS.ProcessEnv = {}) => {
      const name = `worker-${workers.length + 1}`;
      const worker = spawnWorkerProcess({
        env: workerEnvironment(config, { ...options.workerEnv, ...env }),
        name,
        logFile: join(logDir, `${name}.log`),
      });
      workers.push(worker);
      await worker.ready;
      return worker;
    };
    const uiReady = ui
      ? startWebUi({
          ui,
          temporalAddress: temporal!.address,
          port: ports.webUi ?? (await freePort()),
          namespace: config.temporal.namespace,
          codecEndpoint: options.uiCodecEndpoint,
          logFile: join(logDir, 'web-ui.log'),
        }).then((running) => (webUi = running))
      : Promise.resolve(undefined);
    const workersReady = workerCount > 0
      ? timedStep(log, `starting ${workerCount} worker process${workerCount === 1 ? '' : 'es'}`, () =>
          Promise.all(Array.from({ length: workerCount }, () => addWorker())),
        )
      : Promise.resolve([]);
    const [uiResult, workersResult] = await Promise.allSettled([uiReady, workersReady]);
    if (uiResult.status === 'rejected') throw uiResult.reason;
    if (workersResult.status === 'rejected') throw workersResult.reason;

    return {
      config,
      dir,
      shards,
      addresses: {
        temporal: temporal!.address,
        webUi: webUi?.url,
        sqs: elasticMq!.endpoint,
        postgres: `${postgres!.host}:${postgres!.port}`,
        metrics: temporal!.metricsUrl,
      },
      postgres: postgres!,
      temporal: temporal!,
      webUi,
      elasticMq: elasticMq!,
      workers,
      logDir,
      pids: () => ({
        postgres: postgres!.pid,
        temporal: temporal!.pid,
        webUi: webUi?.pid,
        elasticMq: elasticMq!.pid,
        workers: workers.map((worker) => worker.pid),
      }),
      addWorker,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
