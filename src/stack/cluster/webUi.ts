/**
 * The Temporal Web UI server, natively: the same code and configuration template as compose's
 * temporalio/ui image (provisionTemporalUi), configured through the same TEMPORAL_* variables.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { spawnManaged, type ManagedProcess } from '../managedProcess';
import { assertPortFree } from '../ports';
import type { ProvisionedTemporalUi } from '../provisionTemporalServer';

export interface StartWebUiOptions {
  ui: ProvisionedTemporalUi;
  temporalAddress: string;
  port: number;
  namespace: string;
  /** The codec server the UI offers for decoding payloads (with the browser's credentials). */
  codecEndpoint?: string;
  logFile?: string;
  startTimeoutMs?: number;
}

export interface RunningWebUi {
  url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * How the UI server is pointed at a codec server, here and in docker-compose.yml: the browser calls
 * it with its credentials (the codec server's sign-in cookie).
 */
export function webUiCodecVariables(codecEndpoint: string): Record<string, string> {
  return { TEMPORAL_CODEC_ENDPOINT: codecEndpoint, TEMPORAL_CODEC_INCLUDE_CREDENTIALS: 'true' };
}

/**
 * The image's template listens on every interface (a container's port is published by compose);
 * natively that would expose the UI to the network, so the local cluster gets the same template
 * bound to loopback, like every other server it starts.
 */
async function writeLoopbackConfig(rootDir: string): Promise<string> {
  const template = await readFile(join(rootDir, 'config', 'docker.yaml'), 'utf8');
  await writeFile(join(rootDir, 'config', 'loopback.yaml'), `${template.trimEnd()}\nhost: 127.0.0.1\n`);
  return 'loopback';
}

export async function startWebUi(options: StartWebUiOptions): Promise<RunningWebUi> {
  await assertPortFree(options.port, 'the Temporal Web UI', 'NOTIFY_TEMPORAL_UI_PORT');
  const url = `http://localhost:${options.port}`;
  const environmentName = await writeLoopbackConfig(options.ui.rootDir);
  const server: ManagedProcess = spawnManaged('temporal-ui-server', options.ui.binary, ['--root', options.ui.rootDir, '--env', environmentName, 'start'], {
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: options.temporalAddress,
      TEMPORAL_UI_PORT: String(options.port),
      TEMPORAL_DEFAULT_NAMESPACE: options.namespace,
      // Same-origin requests from the UI's own pages (the image's default allows only :8080).
      TEMPORAL_CORS_ORIGINS: url,
      ...(options.codecEndpoint ? webUiCodecVariables(options.codecEndpoint) : {}),
    },
    logFile: options.logFile,
  });
  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  let exitedWith: string | undefined;
  void server.exited.then((how) => (exitedWith = how));
  for (;;) {
    if (exitedWith) throw new Error(`the Web UI server exited (${exitedWith}):\n${server.output()}`);
    try {
      const response = await fetch(`http://127.0.0.1:${options.port}/`, { signal: AbortSignal.timeout(2_000) });
      if (response.ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`the Web UI did not answer on ${url} within ${options.startTimeoutMs ?? 60_000} ms:\n${server.output()}`);
    }
    await sleep(200);
  }
  return {
    url,
    get pid() {
      return server.programPid();
    },
    stop: () => server.stop(),
  };
}
