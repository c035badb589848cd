/**
 * The full Temporal server (frontend, history, matching and worker services in one process) on
 * the cluster's PostgreSQL, configured by docker/temporal/config.yaml through the environment,
 * exactly as docker-compose's temporal service is. Every port is the caller's choice, so several
 * clusters (tests, benchmarks) can run side by side.
 */
import { Connection } from '@temporalio/client';
import { spawnManaged, type ManagedProcess } from '../managedProcess';
import { assertPortFree, freePort, freePortBetween } from '../ports';
import { CLUSTER_FILES } from './files';

export interface TemporalServerPorts {
  frontendGrpc: number;
  frontendHttp: number;
  frontendMembership: number;
  historyGrpc: number;
  historyMembership: number;
  matchingGrpc: number;
  matchingMembership: number;
  workerGrpc: number;
  workerMembership: number;
  /** Prometheus metrics: http://127.0.0.1:<port>/metrics. */
  metrics: number;
}

export interface TemporalServerEnvironmentOptions {
  postgres: { host: string; port: number; user: string; password: string };
  shards: number;
  ports: TemporalServerPorts;
  /** The server's log level; default warn (info logs every shard movement). */
  logLevel?: string;
}

/**
 * The variables that docker/temporal/config.yaml reads, for this cluster. docker-compose.yml
 * sets the same ones for its temporal service (test/compose.test.ts compares the two).
 */
export function temporalServerEnvironment(options: TemporalServerEnvironmentOptions): Record<string, string> {
  const { postgres, ports } = options;
  return {
    TEMPORAL_SERVER_CONFIG_FILE_PATH: CLUSTER_FILES.serverConfig,
    DYNAMIC_CONFIG_FILE_PATH: CLUSTER_FILES.dynamicConfig,
    TEMPORAL_ALLOW_NO_AUTH: 'true',
    LOG_LEVEL: options.logLevel ?? 'warn',
    NUM_HISTORY_SHARDS: String(options.shards),
    POSTGRES_SEEDS: postgres.host,
    DB_PORT: String(postgres.port),
    POSTGRES_USER: postgres.user,
    POSTGRES_PWD: postgres.password,
    BIND_ON_IP: '127.0.0.1',
    TEMPORAL_BROADCAST_ADDRESS: '127.0.0.1',
    FRONTEND_GRPC_PORT: String(ports.frontendGrpc),
    FRONTEND_HTTP_PORT: String(ports.frontendHttp),
    FRONTEND_MEMBERSHIP_PORT: String(ports.frontendMembership),
    HISTORY_GRPC_PORT: String(ports.historyGrpc),
    HISTORY_MEMBERSHIP_PORT: String(ports.historyMembership),
    MATCHING_GRPC_PORT: String(ports.matchingGrpc),
    MATCHING_MEMBERSHIP_PORT: String(ports.matchingMembership),
    WORKER_GRPC_PORT: String(ports.workerGrpc),
    WORKER_MEMBERSHIP_PORT: String(ports.workerMembership),
    PROMETHEUS_ENDPOINT: `127.0.0.1:${ports.metrics}`,
  };
}

/** Free ports for every service, except those given. */
export async function serverPorts(given: Partial<TemporalServerPorts> = {}): Promise<TemporalServerPorts> {
  const keys: (keyof TemporalServerPorts)[] = [
    'frontendGrpc', 'frontendHttp', 'frontendMembership', 'historyGrpc', 'historyMembership',
    'matchingGrpc', 'matchingMembership', 'workerGrpc', 'workerMembership', 'metrics',
  ];
  const ports = {} as TemporalServerPorts;
  const taken = new Set(Object.values(given));
  for (const key of keys) {
    let port = given[key];
    // A probe's port is free again once it closes, so the same one may come twice: skip repeats.
    while (port === undefined || (given[key] === undefined && taken.has(port))) {
      // The server stores membership ports in a PostgreSQL smallint (at most 32767), below the
      // range the OS hands out for port 0; the others may come from anywhere.
      port = key.endsWith('Membership') ? await freePortBetween(20_000, 32_767) : await freePort();
    }
    taken.add(port);
    ports[key] = port;
  }
  return ports;
}

export interface StartTemporalServerOptions {
  binary: string;
  environment: Record<string, string>;
  ports: TemporalServerPorts;
  logFile?: string;
  startTimeoutMs?: number;
}

export interface RunningTemporalServer {
  /** host:port of the frontend, for TEMPORAL_ADDRESS. */
  address: string;
  metricsUrl: string;
  /** The server's pid (changes on restart). */
  readonly pid: number;
  /** SIGTERM (graceful: shards handed off, connections closed), SIGKILL after 20 s; safe to call twice. */
  stop(): Promise<void>;
  /** As a crashing host would: no clean-up at all. Resolves once it is gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again (after stop or kill) on the same ports and database, and waits until it answers. */
  restart(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until the frontend answers GetSystemInfo, which needs the server's persistence too. */
async function waitUntilServing(address: string, server: ManagedProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitedWith: string | undefined;
  void server.exited.then((how) => (exitedWith = how));
  let lastError = '';
  for (;;) {
    if (exitedWith) throw new Error(`the Temporal server exited (${exitedWith}) before answering on ${address}:\n${server.output()}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 2_000 });
      try {
        await connection.workflowService.getSystemInfo({});
        return;
      } finally {
        await connection.close();
      }
    } catch (error) {
      lastError = (error as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`the Temporal server did not answer on ${address} within ${timeoutMs} ms (${lastError}):\n${server.output()}`);
    await sleep(300);
  }
}

export async function startTemporalServer(options: StartTemporalServerOptions): Promise<RunningTemporalServer> {
  const address = `127.0.0.1:${options.ports.frontendGrpc}`;
  const timeoutMs = options.startTimeoutMs ?? 120_000;
  const launch = async (): Promise<ManagedProcess> => {
    await assertPortFree(options.ports.frontendGrpc, 'the Temporal frontend', 'NOTIFY_TEMPORAL_PORT');
    const server = spawnManaged('temporal-server', options.binary, ['start'], {
      env: { ...process.env, ...options.environment },
      logFile: options.logFile,
    });
    try {
      await waitUntilServing(address, server, timeoutMs);
    } catch (error) {
      await server.stop();
      throw error;
    }
    return server;
  };
  let server = await launch();
  let stopping: Promise<void> | undefined;
  return {
    address,
    metricsUrl: `http://127.0.0.1:${options.ports.metrics}/metrics`,
    get pid() {
      return server.programPid();
    },
    stop() {
      stopping ??= server.stop(20_000);
      return stopping;
    },
    async kill(signal = 'SIGKILL') {
      server.kill(signal);
      await server.exited;
      await server.stop(); // the group may hold nothing more; this only releases the watchdog
    },
    async restart() {
      await server.stop(20_000);
      server = await launch();
      stopping = undefined;
    },
  };
}
