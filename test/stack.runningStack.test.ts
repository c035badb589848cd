/**
 * The running-stack record (src/stack/runningStack.ts) and the CLI's use of it: a second shell
 * finds `npm start` or `npm run cluster` without exports, set variables win one by one, a stale
 * record (its process gone, or its pid recycled) is ignored, and without a record nothing changes.
 * Unit tests on temporary data dirs, plus the real CLI as a child process (no servers: the
 * command fails against a closed port, and its error names the endpoint it used). Nothing stubbed.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { loadConfig } from '../src/config';
import { freePort } from '../src/stack/ports';
import {
  environmentWithRunningStack,
  readRunningStack,
  runningStackFile,
  stackVariables,
  writeRunningStack,
  type RunningStackRecord,
} from '../src/stack/runningStack';

const ROOT = join(__dirname, '..');
const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function dataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kst-running-stack-'));
  dirs.push(dir);
  return dir;
}

const stackConfig = (sqsPort: number) =>
  loadConfig({ TEMPORAL_ADDRESS: '127.0.0.1:27233', AWS_ENDPOINT_URL_SQS: `http://127.0.0.1:${sqsPort}`, NOTIFY_TASK_QUEUE: 'stack-queue' });

/** The pid of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

describe('the running-stack record', () => {
  test('a live record fills in the variables the environment leaves unset, and its remover deletes it', async () => {
    const dir = await dataDir();
    const remove = await writeRunningStack(dir, { kind: 'cluster', env: stackVariables(stackConfig(29_324)), webUi: 'http://localhost:28233' });
    assert.equal(readRunningStack(dir)?.pid, process.pid);

    const discovered = environmentWithRunningStack({ NOTIFY_DATA_DIR: dir });
    assert.equal(discovered.stack?.kind, 'cluster');
    const config = loadConfig(discovered.env);
    assert.equal(config.temporal.address, '127.0.0.1:27233');
    assert.equal(config.sqs.endpoint, 'http://127.0.0.1:29324');
    assert.equal(config.temporal.taskQueue, 'stack-queue');

    // Set variables win, one by one; an empty one counts as unset (as in loadConfig).
    const mixed = environmentWithRunningStack({ NOTIFY_DATA_DIR: dir, TEMPORAL_ADDRESS: 'temporal.example:7233', NOTIFY_TASK_QUEUE: '' });
    assert.equal(mixed.env.TEMPORAL_ADDRESS, 'temporal.example:7233');
    assert.equal(mixed.env.AWS_ENDPOINT_URL_SQS, 'http://127.0.0.1:29324');
    assert.equal(mixed.env.NOTIFY_TASK_QUEUE, 'stack-queue');
    assert.ok(!mixed.applied.includes('TEMPORAL_ADDRESS'));

    await remove();
    assert.equal(existsSync(runningStackFile(dir)), false);
    assert.equal(environmentWithRunningStack({ NOTIFY_DATA_DIR: dir }).stack, undefined);
  });

  test('a record whose process is gone, or whose pid was recycled, is stale and ignored', async () => {
    const dir = await dataDir();
    await writeRunningStack(dir, { kind: 'local', env: stackVariables(stackConfig(29_324)) });
    const record = JSON.parse(await readFile(runningStackFile(dir), 'utf8')) as RunningStackRecord;

    await writeFile(runningStackFile(dir), JSON.stringify({ ...record, pid: deadPid() }));
    assert.equal(readRunningStack(dir), undefined, 'its process is gone');
    assert.deepEqual(environmentWithRunningStack({ NOTIFY_DATA_DIR: dir }).env, { NOTIFY_DATA_DIR: dir });

    // Our own (live) pid, but another process's start time: the pid was reused.
    await writeFile(runningStackFile(dir), JSON.stringify({ ...record, processStartTime: '1' }));
    assert.equal(readRunningStack(dir), undefined, 'a recycled pid');

    await writeFile(runningStackFile(dir), '{ not json');
    assert.equal(readRunningStack(dir), undefined, 'an unreadable record');
  });

  test('a remover leaves another stack\'s record alone', async () => {
    const dir = await dataDir();
    const remove = await writeRunningStack(dir, { kind: 'local', env: {} });
    const theirs = { ...(JSON.parse(await readFile(runningStackFile(dir), 'utf8')) as RunningStackRecord), pid: 1, processStartTime: undefined };
    await writeFile(runningStackFile(dir), JSON.stringify(theirs));
    await remove();
    assert.equal(existsSync(runningStackFile(dir)), true);
  });

  test('without a record and without variables nothing changes: SQS is real AWS, Temporal localhost:7233', async () => {
    const dir = await dataDir();
    const discovered = environmentWithRunningStack({ NOTIFY_DATA_DIR: dir });
    assert.deepEqual(discovered, { env: { NOTIFY_DATA_DIR: dir }, applied: [] });
    const config = loadConfig(discovered.env);
    assert.equal(config.sqs.endpoint, undefined);
    assert.equal(config.temporal.address, undefined);
  });
});

/** Runs the CLI as an operator would in a second shell; resolves to its exit code and output. */
function cli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the CLI in a second shell', () => {
  // Without the variables a parent shell may have set (the point is that none are needed).
  const baseEnv = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(TEMPORAL_|AWS_|NOTIFY_)/.test(name) && name !== 'NODE_OPTIONS'),
  );

  test('talks to the running stack without exports, and an exported variable still wins', { timeout: 120_000 }, async () => {
    const dir = await dataDir();
    const stackPort = await freePort(); // nothing listens: the command fails, naming where it went
    const remove = await writeRunningStack(dir, { kind: 'local', env: stackVariables(stackConfig(stackPort)) });
    try {
      const found = await cli(['legacy-send', '--count', '1'], { ...baseEnv, NOTIFY_DATA_DIR: dir });
      assert.equal(found.code, 1, found.stderr);
      assert.match(found.stderr, /using the running local stack \(npm start\)/);
      assert.match(found.stderr, new RegExp(`cannot be found at http://127\\.0\\.0\\.1:${stackPort}`), 'it used the stack\'s SQS endpoint');
      assert.doesNotMatch(found.stderr, /NodeVersionSupportWarning/, "no AWS SDK notice that this Node is too old");

      const otherPort = await freePort();
      const exported = await cli(['legacy-send', '--count', '1'], { ...baseEnv, NOTIFY_DATA_DIR: dir, AWS_ENDPOINT_URL_SQS: `http://127.0.0.1:${otherPort}` });
      assert.equal(exported.code, 1, exported.stderr);
      assert.match(exported.stderr, new RegExp(`cannot be found at http://127\\.0\\.0\\.1:${otherPort}`), 'the exported endpoint wins');
    } finally {
      await remove();
    }
  });
});
