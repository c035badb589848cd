/**
 * `npm run temporal -- <arguments>`: the stack's own `temporal` CLI (the one `npm start` runs the dev
 * server with, from the per-user cache or PATH), pointed at the running stack as `npm run cli` is:
 * its address and namespace, and its codec server with the local token, so that `--detailed`
 * shows payloads in clear. Variables the environment sets win (TEMPORAL_ADDRESS,
 * TEMPORAL_NAMESPACE, TEMPORAL_CODEC_ENDPOINT, TEMPORAL_CODEC_AUTH), as do flags on the command line.
 */
import { spawn } from 'node:child_process';
import { loadConfig } from '../config';
import { provisionTemporalCli } from './provisionTemporalCli';
import { stderrLog } from './progress';
import { environmentFilling, environmentWithRunningStack, readRunningStack } from './runningStack';

/** The variables the temporal CLI reads, from the running stack where the environment leaves them unset. */
export function temporalCliEnvironment(env: NodeJS.ProcessEnv): { env: NodeJS.ProcessEnv; applied: string[] } {
  const discovered = environmentWithRunningStack(env);
  const stack = readRunningStack(env.NOTIFY_DATA_DIR || '.data');
  const { merged, applied, apply } = environmentFilling(env);
  apply('TEMPORAL_ADDRESS', discovered.env.TEMPORAL_ADDRESS);
  apply('TEMPORAL_NAMESPACE', discovered.env.TEMPORAL_NAMESPACE);
  if (stack?.codecServer) {
    apply('TEMPORAL_CODEC_ENDPOINT', stack.codecServer);
    const token = discovered.env.NOTIFY_CODEC_SERVER_TOKEN;
    if (token) apply('TEMPORAL_CODEC_AUTH', `Bearer ${token}`);
  }
  return { env: merged, applied };
}

/** The path of the temporal CLI the stack uses (provisioned into the cache if missing). */
export async function temporalCliPath(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const provisioned = await provisionTemporalCli({ localStack: loadConfig(env).localStack });
  return provisioned.executable.type === 'existing-path' ? provisioned.executable.path : undefined;
}

async function main(): Promise<void> {
  const binary = await temporalCliPath();
  if (!binary) throw new Error('no temporal CLI could be provisioned (see the lines above); set TEMPORAL_CLI_PATH to one');
  const { env, applied } = temporalCliEnvironment(process.env);
  if (applied.length > 0) stderrLog(`using the running stack: ${applied.map((name) => (name === 'TEMPORAL_CODEC_AUTH' ? `${name}=Bearer …` : `${name}=${env[name]}`)).join(' ')}`);
  const child = spawn(binary, process.argv.slice(2), { env, stdio: 'inherit' });
  // Ctrl-C reaches the child through the terminal's process group; this process only waits for it.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => undefined);
  child.on('error', (error) => {
    console.error(`cannot run ${binary}: ${error.message}`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 + 2 : 1)));
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
