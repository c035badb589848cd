/**
 * A TCP proxy on loopback in front of a local server (ElasticMQ), for fault tests: while it
 * refuses, its port is closed and open connections are cut, as when SQS is unreachable; then it
 * listens again on the same port.
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

export async function startLoopbackProxy(target: { host: string; port: number }): Promise<LoopbackProxy> {
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
        client.pipe(upstream);
        upstream.pipe(client);
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
