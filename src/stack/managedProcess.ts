/**
 * A long-running child (ElasticMQ's JVM, the cluster's servers and workers) that can always be
 * stopped and is never orphaned:
 * - it runs in its own process group, so stop() signals the JVM and anything it started, and a
 *   terminal's Ctrl-C reaches us first, letting `npm start` stop the worker before its queues;
 * - a small shell watchdog holds a pipe from us: if this process dies, even by SIGKILL, the pipe
 *   closes and the watchdog kills the child.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';

export interface ManagedProcess {
  /** The watchdog shell's pid, which is also the process group id. */
  readonly pid: number;
  /** The pid of the program itself (the watchdog's child), for CPU and memory figures; Linux only, else the group id. */
  programPid(): number;
  /** Resolves when the process has exited (with its code or signal). */
  readonly exited: Promise<string>;
  /** The last lines it printed, for error messages. */
  output(): string;
  /** The stop signal (SIGTERM unless stopSignal says otherwise) to the group, SIGKILL after graceMs; resolves once the whole group is gone. */
  stop(graceMs?: number): Promise<void>;
  /** Sends a signal to the whole group at once, as a crashing host would (SIGKILL); does not wait. */
  kill(signal: NodeJS.Signals): void;
  /** Resolves at the first output line that matches; rejects if the process exits first or after timeoutMs. */
  waitForOutput(pattern: RegExp, timeoutMs: number): Promise<string>;
}

export interface SpawnManagedOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Appends everything the process prints to this file (the cluster's logs). */
  logFile?: string;
  /** What stop() sends first; PostgreSQL wants SIGINT (fast shutdown), SIGTERM waits for its clients. */
  stopSignal?: NodeJS.Signals;
}

const WATCHDOG = [
  // fd 3 is our pipe: an asynchronous list would otherwise get /dev/null as its stdin.
  'exec 3<&0',
  '"$@" </dev/null 3<&- &',
  'child=$!',
  // When our parent goes away its end of the pipe closes and read returns.
  '( read -r _ignored <&3; kill -TERM "$child" 2>/dev/null ) &',
  'guard=$!',
  // The shell ends with its child (exit code, or 128+n for signal n), so `exited` reports a crash.
  'wait "$child"',
  'code=$?',
  'kill "$guard" 2>/dev/null',
  'exit "$code"',
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

/** The watchdog's child that is not its own guard subshell (which shares the watchdog's command line). */
function programPidOf(watchdogPid: number): number {
  try {
    const own = readFileSync(`/proc/${watchdogPid}/cmdline`, 'utf8');
    const children = readFileSync(`/proc/${watchdogPid}/task/${watchdogPid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    for (const child of children) {
      if (readFileSync(`/proc/${child}/cmdline`, 'utf8') !== own) return child;
    }
  } catch {
    // not Linux, or gone meanwhile
  }
  return watchdogPid;
}

export function spawnManaged(name: string, command: string, args: string[], options: SpawnManagedOptions = {}): ManagedProcess {
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
  const watchers = new Set<(line: string) => void>();
  const logStream: WriteStream | undefined = options.logFile ? createWriteStream(options.logFile, { flags: 'a' }) : undefined;
  logStream?.on('error', () => {});
  const collect = (chunk: Buffer) => {
    logStream?.write(chunk);
    const added = chunk.toString().split('\n').filter(Boolean);
    lines.push(...added);
    if (lines.length > 200) lines.splice(0, lines.length - 200);
    for (const line of added) for (const watcher of watchers) watcher(line);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  // Keeping the pipe open is the watchdog's signal that we are alive; never write to it.
  child.stdin!.on('error', () => {});
  const exited = new Promise<string>((resolve) => {
    child.on('exit', (code, signal) => resolve(signal ? `signal ${signal}` : `exit code ${code}`));
  });
  void exited.then(() => {
    live.delete(pid);
    logStream?.end();
  });
  let stopping: Promise<void> | undefined;
  return {
    pid,
    exited,
    output: () => lines.join('\n'),
    programPid: () => programPidOf(pid),
    kill(signal) {
      signalGroup(pid, signal);
    },
    waitForOutput(pattern, timeoutMs) {
      return new Promise<string>((resolve, reject) => {
        const done = (settle: () => void) => {
          watchers.delete(watch);
          clearTimeout(timer);
          settle();
        };
        const watch = (line: string) => {
          if (pattern.test(line)) done(() => resolve(line));
        };
        const timer = setTimeout(
          () => done(() => reject(new Error(`${name} printed nothing matching ${pattern} within ${timeoutMs} ms:\n${lines.slice(-40).join('\n')}`))),
          timeoutMs,
        );
        timer.unref?.();
        watchers.add(watch);
        const already = lines.find((line) => pattern.test(line));
        if (already) return done(() => resolve(already));
        void exited.then((how) =>
          done(() => reject(new Error(`${name} exited (${how}) before printing ${pattern}:\n${lines.slice(-40).join('\n')}`))),
        );
      });
    },
    stop(graceMs = 5_000) {
      stopping ??= (async () => {
        signalGroup(pid, options.stopSignal ?? 'SIGTERM');
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
