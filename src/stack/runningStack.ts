/**
 * The running local stack (`npm start` or `npm run cluster`), recorded under the data dir so that
 * a second shell finds it without exports: `npm run cli -- status <id>` talks to it. The record
 * is removed on a clean stop, and ignored as stale once the process that wrote it is gone (a
 * kill -9, a crash), so a stale file never sends the CLI to a dead address.
 *
 * Variables set in the environment still win, one by one; without them and without a running
 * stack nothing changes (Temporal at localhost:7233, SQS on real AWS, as before).
 */
import { readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { secretVariables, type Config } from '../config';

export const RUNNING_STACK_FILE = 'running-stack.json';

/** The variables that point a client at the stack; each is applied only where the environment leaves it unset. */
export const RUNNING_STACK_VARIABLES = [
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'NOTIFY_TASK_QUEUE',
  'AWS_ENDPOINT_URL_SQS',
  'AWS_REGION',
  'NOTIFY_DELIVERY_QUEUE',
  'NOTIFY_LEGACY_WAIT_QUEUE',
  'NOTIFY_DEAD_LETTER_QUEUE',
] as const;

export interface RunningStackRecord {
  /** What started it: the dev-server stack or the cluster. */
  kind: 'local' | 'cluster';
  /** The process that started it; the record is stale once that process is gone. */
  pid: number;
  /** That process's start time (Linux /proc), so that a recycled pid is not taken for it. */
  processStartTime?: string;
  startedAt: string;
  env: Partial<Record<(typeof RUNNING_STACK_VARIABLES)[number], string>>;
  webUi?: string;
  /** Its codec server, for `npm run temporal` (TEMPORAL_CODEC_ENDPOINT). */
  codecServer?: string;
  /**
   * The stack runs with the local stack's generated secrets (NOTIFY_DATA_DIR/local-secrets.env):
   * a client of it needs them too, though the record gives it a TEMPORAL_ADDRESS.
   */
  localSecrets?: boolean;
  /** Everything else it runs, for operators (kill, ps, top). */
  pids?: Record<string, number | number[] | undefined>;
}

export function runningStackFile(dataDir: string): string {
  return join(resolve(dataDir), RUNNING_STACK_FILE);
}

/** Field 22 of /proc/<pid>/stat: when the process started, in clock ticks since boot. */
function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The variables of a stack that runs with this configuration. */
export function stackVariables(config: Config): RunningStackRecord['env'] {
  return {
    TEMPORAL_ADDRESS: config.temporal.address,
    TEMPORAL_NAMESPACE: config.temporal.namespace,
    NOTIFY_TASK_QUEUE: config.temporal.taskQueue,
    AWS_ENDPOINT_URL_SQS: config.sqs.endpoint,
    AWS_REGION: config.sqs.region,
    NOTIFY_DELIVERY_QUEUE: config.sqs.deliveryQueue,
    NOTIFY_LEGACY_WAIT_QUEUE: config.sqs.legacyWaitQueue,
    NOTIFY_DEAD_LETTER_QUEUE: config.sqs.deadLetterQueue,
  };
}

/** Records this process's stack; resolves to the function that removes the record (call it on a clean stop). */
export async function writeRunningStack(
  dataDir: string,
  record: Omit<RunningStackRecord, 'pid' | 'processStartTime' | 'startedAt'>,
): Promise<() => Promise<void>> {
  const file = runningStackFile(dataDir);
  await mkdir(resolve(dataDir), { recursive: true });
  const full: RunningStackRecord = {
    ...record,
    pid: process.pid,
    processStartTime: processStartTime(process.pid),
    startedAt: new Date().toISOString(),
  };
  await writeFile(file, `${JSON.stringify(full, null, 2)}\n`);
  return async () => {
    // Only our own record: another stack may have replaced it meanwhile.
    if (readRunningStack(dataDir)?.pid === process.pid) await rm(file, { force: true });
  };
}

/** The record, if there is one and the process that wrote it still runs. */
export function readRunningStack(dataDir: string): RunningStackRecord | undefined {
  let record: RunningStackRecord;
  try {
    record = JSON.parse(readFileSync(runningStackFile(dataDir), 'utf8')) as RunningStackRecord;
  } catch {
    return undefined; // none, or unreadable: as if none
  }
  if (typeof record.pid !== 'number' || !processAlive(record.pid)) return undefined;
  if (record.processStartTime !== undefined && processStartTime(record.pid) !== record.processStartTime) return undefined;
  return record;
}

/** Another `npm start` or `npm run cluster` already runs on this data dir: says which, and since when. */
export class StackAlreadyRunningError extends Error {
  override readonly name = 'StackAlreadyRunningError';
  constructor(readonly record: RunningStackRecord) {
    super(
      `a ${record.kind === 'cluster' ? 'cluster (npm run cluster)' : 'local stack (npm start)'} is already running ` +
        `(pid ${record.pid}, started ${record.startedAt}${record.webUi ? `, Web UI ${record.webUi}` : ''}): ` +
        'use it (npm run cli -- … finds it), or stop it first (Ctrl-C in its shell, or kill ' + record.pid + ')',
    );
  }
}

/** Throws StackAlreadyRunningError if a live stack has recorded itself under this data dir. */
export function assertNoRunningStack(dataDir: string): void {
  const record = readRunningStack(dataDir);
  if (record && record.pid !== process.pid) throw new StackAlreadyRunningError(record);
}

export interface DiscoveredEnvironment {
  env: NodeJS.ProcessEnv;
  /** The stack whose variables were applied, if any. */
  stack?: RunningStackRecord;
  /** The variables taken from it (those the environment did not set). */
  applied: string[];
}

/**
 * An environment to fill in: `apply` sets a variable the given environment leaves unset (what it
 * sets wins), and remembers which it set, so that a command can say what it took from elsewhere.
 */
export function environmentFilling(env: NodeJS.ProcessEnv): { merged: NodeJS.ProcessEnv; applied: string[]; apply: (name: string, value: string | undefined) => void } {
  const merged: NodeJS.ProcessEnv = { ...env };
  const applied: string[] = [];
  const apply = (name: string, value: string | undefined) => {
    if (value === undefined || env[name]) return;
    merged[name] = value;
    applied.push(name);
  };
  return { merged, applied, apply };
}

/**
 * The environment with the running stack's variables filled in where it leaves them unset (empty
 * counts as unset, as in loadConfig). A stack that runs on the local stack's generated secrets
 * passes them on as well, for those the environment leaves unset: the TEMPORAL_ADDRESS taken from
 * the record would otherwise make loadConfig treat this as a real deployment and skip that file.
 * Not when the environment names a Temporal server of its own: that one has keys of its own.
 */
export function environmentWithRunningStack(env: NodeJS.ProcessEnv = process.env): DiscoveredEnvironment {
  const stack = readRunningStack(env.NOTIFY_DATA_DIR || '.data');
  if (!stack) return { env, applied: [] };
  const { merged, applied, apply } = environmentFilling(env);
  for (const name of RUNNING_STACK_VARIABLES) apply(name, stack.env[name]);
  if (stack.localSecrets && !env.TEMPORAL_ADDRESS) {
    for (const [name, value] of Object.entries(secretVariables(env))) apply(name, value);
  }
  return { env: merged, stack, applied };
}
