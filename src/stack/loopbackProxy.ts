/**
 * A TCP proxy on loopback in front of a local server (ElasticMQ). For fault tests: while it
 * refuses, its port is closed and open connections are cut, as when SQS is unreachable; then it
 * listens again on the same port. For benchmarks: `latencyMs` delays every byte by half of it each
 * way, so every request pays that much more round trip, as over a real network.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { freePort } from './ports';

export interface LoopbackProxy {
  /** http://127.0.0.1:<port>, for AWS_ENDPOINT_URL_SQS. */
  endpoint: string;
  /** Closes the port (new connections are refused) and cuts the open ones. */
  refuse(): Promise<void>;
  /** Listens again on the same port. */
  accept(): Promise<void>;
  /** Stops it for good. */
  close(): Promise<void>;
}

/** Forwards from's bytes to `to` after delayMs, in order (equal delays fire in the order they were set). */
function pipeDelayed(from: Socket, to: Socket, delayMs: number): void {
  from.on('data', (chunk) => setTimeout(() => to.destroyed || to.write(chunk), delayMs));
  from.on('end', () => setTimeout(() => to.end(), delayMs));
}

export async function startLoopbackProxy(
  target: { host: string; port: number },
  { latencyMs = 0 }: { latencyMs?: number } = {},
): Promise<LoopbackProxy> {
  const port = await freePort();
  const sockets = new Set<Socket>();
  let server: Server | undefined;

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const next = createServer((client) => {
        const upstream = connect(target.port, target.host);
        for (const socket of [client, upstream]) {
          sockets.add(socket);
          socket.on('close', () => sockets.delete(socket));
          socket.on('error', () => {
            client.destroy();
            upstream.destroy();
          });
        }
        if (latencyMs > 0) {
          client.setNoDelay(true);
          upstream.setNoDelay(true);
          pipeDelayed(client, upstream, latencyMs / 2);
          pipeDelayed(upstream, client, latencyMs / 2);
        } else {
          client.pipe(upstream);
          upstream.pipe(client);
        }
      });
      next.once('error', reject);
      next.listen(port, '127.0.0.1', () => {
        server = next;
        resolve();
      });
    });
  const stopListening = () =>
    new Promise<void>((resolve) => {
      const current = server;
      server = undefined;
      for (const socket of sockets) socket.destroy();
      if (!current) return resolve();
      current.close(() => resolve());
    });

  await listen();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    refuse: stopListening,
    accept: listen,
    close: stopListening,
  };
}
