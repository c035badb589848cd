/**
 * The production worker (src/workers/main.ts) as a child process: what the cluster scales out,
 * and what tests kill with SIGKILL the way a crashed host would. It runs the compiled build
 * (`npm run build`) by default, or the TypeScript sources through tsx. Never orphaned: see
 * managedProcess.ts.
 */
import { secretVariables, type Config } from '../config';
import { PROJECT_ROOT } from './cluster/files';
import { spawnManaged } from './managedProcess';
import { stackVariables } from './runningStack';
import { COMPILED_WORKER_MAIN, SOURCE_WORKER_MAIN } from './workerBuild';

export interface WorkerProcess {
  readonly name: string;
  /** The worker's own pid (for RSS and CPU), not its watchdog's. */
  readonly pid: number;
  /** Resolves when the worker prints that it polls its task queue. */
  ready: Promise<void>;
  /** Resolves when the process has exited, with its exit code or signal. */
  exited: Promise<string>;
  /** Signals it at once (SIGKILL: a crashed host); does not wait. */
  kill(signal: NodeJS.Signals): void;
  /** SIGTERM: the worker finishes its in-flight tasks and exits (SIGKILL after graceMs). */
  stop(graceMs?: number): Promise<void>;
  /** The last lines it printed. */
  output(): string;
}

export interface SpawnWorkerOptions {
  env: NodeJS.ProcessEnv;
  /** The compiled build (default; run ensureWorkerBuild first) or the TypeScript sources through tsx. */
  code?: 'build' | 'sources';
  name?: string;
  logFile?: string;
  /** How long to wait for "worker polling"; default 3 minutes (a first run on the sources bundles with webpack). */
  readyTimeoutMs?: number;
}

/** The environment under which src/workers/main.ts finds the same servers, queues and task queue. */
export function workerEnvironment(config: Config, overrides: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...secretVariables(), ...process.env, ...stackVariables(config), ...overrides };
}

let spawned = 0;

export function spawnWorkerProcess(options: SpawnWorkerOptions): WorkerProcess {
  const name = options.name ?? `worker-${++spawned}`;
  const args = (options.code ?? 'build') === 'build' ? [COMPILED_WORKER_MAIN] : ['--import', 'tsx', SOURCE_WORKER_MAIN];
  const child = spawnManaged(name, process.execPath, args, { env: options.env, cwd: PROJECT_ROOT, logFile: options.logFile });
  const ready = child.waitForOutput(/worker polling/, options.readyTimeoutMs ?? 180_000).then(() => undefined);
  ready.catch(() => undefined);
  return {
    name,
    get pid() {
      return child.programPid();
    },
    ready,
    exited: child.exited,
    kill: (signal) => child.kill(signal),
    stop: (graceMs = 30_000) => child.stop(graceMs),
    output: () => child.output(),
  };
}
