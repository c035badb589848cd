import { createServer } from 'node:net';

/** A port that is free right now on 127.0.0.1 (the OS picks it), for servers started by tests. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Throws a clear error if something already listens on the port (a second `npm start`, say). */
export function assertPortFree(port: number, what: string, setting: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', (error: NodeJS.ErrnoException) =>
      reject(new Error(`port ${port} for ${what} is taken (${error.code}); is another local stack running? Another port can be set with ${setting}.`)),
    );
    server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
  });
}
