/**
 * The production worker (src/workers/main.ts) as a child process, so that a test can kill it
 * with SIGKILL the way a crashed host would, and start another.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Config } from '../../src/config';

export interface WorkerProcess {
  /** Resolves when the worker says it polls. */
  ready: Promise<void>;
  /** Resolves when the process has exited. */
  exited: Promise<number | null>;
  kill(signal: NodeJS.Signals): void;
}

/** The environment under which src/workers/main.ts finds the same servers, queues and task queue. */
export function workerEnvironment(config: Config, overrides: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    TEMPORAL_ADDRESS: config.temporal.address,
    TEMPORAL_NAMESPACE: config.temporal.namespace,
    NOTIFY_TASK_QUEUE: config.temporal.taskQueue,
    AWS_ENDPOINT_URL_SQS: config.sqs.endpoint,
    AWS_REGION: config.sqs.region,
    NOTIFY_DELIVERY_QUEUE: config.sqs.deliveryQueue,
    NOTIFY_LEGACY_WAIT_QUEUE: config.sqs.legacyWaitQueue,
    NOTIFY_DEAD_LETTER_QUEUE: config.sqs.deadLetterQueue,
    ...overrides,
  };
}

export function spawnWorker(env: NodeJS.ProcessEnv): WorkerProcess {
  const root = path.resolve(__dirname, '../..');
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/workers/main.ts'], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('worker polling')) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
    void exited.then((code) => reject(new Error(`worker exited (${code}) before it polled:\n${output.slice(-4_000)}`)));
  });
  ready.catch(() => undefined);
  return {
    ready,
    exited,
    kill: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}
