/**
 * The project as a user runs it from a shell: `npm start` in one, `npm run cli -- …` in another,
 * with the environment a user has. Not the suite's: test/setup.mjs puts fixed keys into every test
 * process, and a child spawned with process.env would inherit them, hiding what a user without
 * them sees. Only PATH and HOME pass (where node, npm and the provisioned binaries are found), and
 * what the test names (a data dir and free ports, so that it never touches a developer's stack).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/stack/ports';

export const PROJECT_ROOT = join(__dirname, '..', '..');

export interface UserShell {
  /** The environment of a fresh shell, plus NOTIFY_DATA_DIR and the ports. */
  env: NodeJS.ProcessEnv;
  dataDir: string;
  ports: { temporal: number; ui: number; sqs: number; codec: number; metrics: number };
  /** Runs `npm run cli -- <args>` and resolves with what it printed and its exit code. */
  cli(args: string[], options?: { stdin?: string; env?: NodeJS.ProcessEnv }): Promise<CliRun>;
  /** Starts `npm start` in this shell's environment, in the foreground as a terminal runs it. */
  npmStart(): ForegroundProcess;
  /** Deletes the data dir. */
  cleanUp(): Promise<void>;
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** A user's shell on a data dir of its own, with free ports for everything `npm start` runs. */
export async function userShell(): Promise<UserShell> {
  const dataDir = await mkdtemp(join(tmpdir(), 'kst-user-shell-'));
  const ports = { temporal: await freePort(), ui: await freePort(), sqs: await freePort(), codec: await freePort(), metrics: await freePort() };
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...(process.env.NOTIFY_CACHE_DIR ? { NOTIFY_CACHE_DIR: process.env.NOTIFY_CACHE_DIR } : {}),
    NOTIFY_DATA_DIR: dataDir,
    NOTIFY_TEMPORAL_PORT: String(ports.temporal),
    NOTIFY_TEMPORAL_UI_PORT: String(ports.ui),
    NOTIFY_SQS_PORT: String(ports.sqs),
    NOTIFY_CODEC_SERVER_PORT: String(ports.codec),
    NOTIFY_METRICS_PORT: String(ports.metrics),
  };
  return {
    env,
    dataDir,
    ports,
    cli: (args, options = {}) => runCli(args, { ...env, ...options.env }, options.stdin),
    npmStart: () => foreground('npm', ['start'], env),
    cleanUp: () => rm(dataDir, { recursive: true, force: true }),
  };
}

function runCli(args: string[], env: NodeJS.ProcessEnv, stdin?: string): Promise<CliRun> {
  return runCollected('npm', ['run', 'cli', '--', ...args], env, stdin);
}

/** Runs a command in the project's root to its end, with what it printed and how long it took. */
export function runCollected(command: string, args: string[], env: NodeJS.ProcessEnv, stdin?: string): Promise<CliRun> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: PROJECT_ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - started }));
    child.stdin.end(stdin ?? '');
  });
}

/**
 * A command in the foreground of a terminal: in a process group of its own, which a Ctrl-C
 * (SIGINT to the group) reaches as a whole, npm and everything under it alike.
 */
export interface ForegroundProcess {
  /** Everything it printed so far, stdout and stderr interleaved. */
  output(): string;
  /** Resolves at the first line matching, rejects after timeoutMs or if it exits first. */
  waitForOutput(pattern: RegExp, timeoutMs: number): Promise<void>;
  /** Signals the whole group, as a terminal does (SIGINT: Ctrl-C). */
  signal(signal: NodeJS.Signals): void;
  /** Resolves with its exit code (or the signal that ended it). */
  exited: Promise<number | NodeJS.Signals>;
  /** SIGINT, then SIGKILL to the group after graceMs; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

function foreground(command: string, args: string[], env: NodeJS.ProcessEnv): ForegroundProcess {
  const child = spawn(command, args, { cwd: PROJECT_ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  const collect = (chunk: Buffer) => (text += chunk.toString());
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited: Promise<number | NodeJS.Signals> = once(child, 'close').then(([code, signal]) => (code ?? signal) as number | NodeJS.Signals);
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // already gone
    }
  };
  let done = false;
  void exited.then(() => (done = true));
  return {
    output: () => text,
    waitForOutput: (pattern, timeoutMs) =>
      new Promise((resolve, reject) => {
        const deadline = Date.now() + timeoutMs;
        const check = () => {
          if (pattern.test(text)) return resolve();
          if (done) return reject(new Error(`exited before printing ${pattern}:\n${text.slice(-3000)}`));
          if (Date.now() > deadline) return reject(new Error(`nothing matching ${pattern} within ${timeoutMs} ms:\n${text.slice(-3000)}`));
          setTimeout(check, 100);
        };
        check();
      }),
    signal: signalGroup,
    exited,
    stop: async (graceMs = 30_000) => {
      if (done) return;
      signalGroup('SIGINT');
      const timer = setTimeout(() => signalGroup('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
