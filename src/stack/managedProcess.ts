/**
 * A long-running child (ElasticMQ's JVM) that can always be stopped and is never orphaned:
 * - it runs in its own process group, so stop() signals the JVM and anything it started, and a
 *   terminal's Ctrl-C reaches us first, letting `npm start` stop the worker before its queues;
 * - a small shell watchdog holds a pipe from us: if this process dies, even by SIGKILL, the pipe
 *   closes and the watchdog kills the child.
 */
import { spawn } from 'node:child_process';

export interface ManagedProcess {
  readonly pid: number;
  /** Resolves when the process has exited (with its code or signal). */
  readonly exited: Promise<string>;
  /** The last lines it printed, for error messages. */
  output(): string;
  /** Sends a signal to the whole group (a fault test's SIGKILL, say); stop() still cleans up after. */
  signal(signal: NodeJS.Signals): void;
  /** SIGTERM to the group, SIGKILL after graceMs; resolves once the whole group is gone. */
  stop(graceMs?: number): Promise<void>;
}

const WATCHDOG = [
  '"$@" </dev/null &',
  'child=$!',
  // When our parent goes away its end of stdin closes and read returns.
  'read -r _ignored',
  'kill -TERM "$child" 2>/dev/null',
  'wait "$child"',
].join('\n');

const live = new Set<number>();
// Last resort on a normal exit that skipped stop(): the watchdog would do it too, a moment later.
process.once('exit', () => {
  for (const pgid of live) signalGroup(pgid, 'SIGTERM');
});

function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false; // ESRCH: the group is gone
  }
}

function groupAlive(pgid: number): boolean {
  return signalGroup(pgid, 0 as unknown as NodeJS.Signals);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function spawnManaged(name: string, command: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): ManagedProcess {
  const child = spawn('/bin/sh', ['-c', WATCHDOG, name, command, ...args], {
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: options.env ?? process.env,
    cwd: options.cwd,
  });
  if (child.pid === undefined) throw new Error(`cannot start ${name} (${command})`);
  const pid = child.pid;
  live.add(pid);
  const lines: string[] = [];
  const collect = (chunk: Buffer) => {
    lines.push(...chunk.toString().split('\n').filter(Boolean));
    if (lines.length > 200) lines.splice(0, lines.length - 200);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  // Keeping the pipe open is the watchdog's signal that we are alive; never write to it.
  child.stdin!.on('error', () => {});
  const exited = new Promise<string>((resolve) => {
    child.on('exit', (code, signal) => resolve(signal ? `signal ${signal}` : `exit code ${code}`));
  });
  let stopping: Promise<void> | undefined;
  return {
    pid,
    exited,
    output: () => lines.join('\n'),
    signal: (signal) => void signalGroup(pid, signal),
    stop(graceMs = 5_000) {
      stopping ??= (async () => {
        signalGroup(pid, 'SIGTERM');
        const deadline = Date.now() + graceMs;
        while (groupAlive(pid) && Date.now() < deadline) await sleep(50);
        if (groupAlive(pid)) signalGroup(pid, 'SIGKILL');
        // Bounded: an unreaped zombie still "exists" for kill(0) but holds no port or memory.
        const killDeadline = Date.now() + 2_000;
        while (groupAlive(pid) && Date.now() < killDeadline) await sleep(20);
        child.stdin!.destroy();
        live.delete(pid);
      })();
      return stopping;
    },
  };
}
