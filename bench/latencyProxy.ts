/**
 * `--sqs-latency-ms N`: a loopback TCP proxy in front of ElasticMQ that delays every byte by N/2 ms
 * each way, so every SQS request pays N ms more round trip, as over a real network. It runs in its
 * own process (its CPU is counted apart) and exits when the benchmark goes away.
 *
 * As a module: startLatencyProxy(). As a process: `node --import tsx bench/latencyProxy.ts`, told
 * its target and delay over IPC.
 */
import { fork } from 'node:child_process';
import { createConnection, createServer, type Socket } from 'node:net';
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

/** Forwards a's bytes to b after delayMs, in order (equal delays fire in the order they were set). */
function pipeDelayed(from: Socket, to: Socket, delayMs: number): void {
  from.on('data', (chunk) => setTimeout(() => to.destroyed || to.write(chunk), delayMs));
  from.on('end', () => setTimeout(() => to.end(), delayMs));
  from.on('error', () => to.destroy());
}

function serve(target: string, latencyMs: number): void {
  const { hostname, port } = new URL(target);
  const oneWay = latencyMs / 2;
  const server = createServer((client) => {
    client.setNoDelay(true);
    const upstream = createConnection({ host: hostname, port: Number(port) });
    upstream.setNoDelay(true);
    pipeDelayed(client, upstream, oneWay);
    pipeDelayed(upstream, client, oneWay);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    process.send?.({ port: typeof address === 'object' && address ? address.port : 0 });
  });
}

if (require.main === module) {
  process.once('message', ({ target, latencyMs }: { target: string; latencyMs: number }) => serve(target, latencyMs));
  process.on('disconnect', () => process.exit(0));
}
