/**
 * The project as a user runs it from a shell: `npm start` in one, `npm run cli -- …` in another,
 * with the environment a user has. Not the suite's: test/setup.mjs puts fixed keys into every test
 * process, and a child spawned with process.env would inherit them, hiding what a user without
 * them sees. Only PATH and HOME pass (where node, npm and the provisioned binaries are found), and
 * what the test names (a data dir and free ports, so that it never touches a developer's stack).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/stack/ports';
import { spawnManaged, type ManagedProcess } from '../../src/stack/managedProcess';

export const PROJECT_ROOT = join(__dirname, '..', '..');

export interface UserShell {
  /** The environment of a fresh shell, plus NOTIFY_DATA_DIR and the ports. */
  env: NodeJS.ProcessEnv;
  dataDir: string;
  ports: { temporal: number; ui: number; sqs: number; codec: number };
  /** Runs `npm run cli -- <args>` and resolves with what it printed and its exit code. */
  cli(args: string[], options?: { stdin?: string; env?: NodeJS.ProcessEnv }): Promise<CliRun>;
  /** Starts `npm start` in this shell's environment. */
  npmStart(): ManagedProcess;
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
  const ports = { temporal: await freePort(), ui: await freePort(), sqs: await freePort(), codec: await freePort() };
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...(process.env.NOTIFY_CACHE_DIR ? { NOTIFY_CACHE_DIR: process.env.NOTIFY_CACHE_DIR } : {}),
    NOTIFY_DATA_DIR: dataDir,
    NOTIFY_TEMPORAL_PORT: String(ports.temporal),
    NOTIFY_TEMPORAL_UI_PORT: String(ports.ui),
    NOTIFY_SQS_PORT: String(ports.sqs),
    NOTIFY_CODEC_SERVER_PORT: String(ports.codec),
  };
  return {
    env,
    dataDir,
    ports,
    cli: (args, options = {}) => runCli(args, { ...env, ...options.env }, options.stdin),
    npmStart: () => spawnManaged('npm-start', 'npm', ['start'], { env, cwd: PROJECT_ROOT }),
    cleanUp: () => rm(dataDir, { recursive: true, force: true }),
  };
}

function runCli(args: string[], env: NodeJS.ProcessEnv, stdin?: string): Promise<CliRun> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', 'cli', '--', ...args], { cwd: PROJECT_ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - started }));
    child.stdin.end(stdin ?? '');
  });
}
