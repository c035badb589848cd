/**
 * `--sqs-latency-ms N`: the loopback proxy (src/stack/loopbackProxy.ts) in front of ElasticMQ, delaying every byte by N/2 ms
 * each way, so every SQS request pays N ms more round trip, as over a real network. It runs in its
 * own process (its CPU is counted apart) and exits when the benchmark goes away.
 *
 * As a module: startLatencyProxy(). As a process: `node --import tsx bench/latencyProxy.ts`, told
 * its target and delay over IPC.
 */
import { fork } from 'node:child_process';
import { startLoopbackProxy } from '../src/stack/loopbackProxy';
import { sleep } from './common';

export interface LatencyProxy {
  endpoint: string;
  pid: number;
  latencyMs: number;
  stop(): Promise<void>;
}

export async function startLatencyProxy(target: string, latencyMs: number): Promise<LatencyProxy> {
  const child = fork(__filename, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message: { port: number }) => resolve(message.port));
    child.once('exit', (code) => reject(new Error(`the SQS latency proxy exited (${code}) before it listened`)));
    child.send({ target, latencyMs });
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    latencyMs,
    stop: async () => {
      process.removeListener('exit', kill);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.disconnect();
      await Promise.race([exited, sleep(3_000).then(kill)]);
    },
  };
}

async function serve(target: string, latencyMs: number): Promise<void> {
  const { hostname, port } = new URL(target);
  const proxy = await startLoopbackProxy({ host: hostname, port: Number(port) }, { latencyMs });
  process.send?.({ port: Number(new URL(proxy.endpoint).port) });
}

if (require.main === module) {
  process.once('message', ({ target, latencyMs }: { target: string; latencyMs: number }) => void serve(target, latencyMs));
  process.on('disconnect', () => process.exit(0));
}
