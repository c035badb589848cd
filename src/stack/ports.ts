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

/**
 * A free port in [low, high], tried at random: for servers that store their port in a narrower
 * type than the OS's ephemeral range allows (Temporal's membership ports are a PostgreSQL
 * smallint, at most 32767).
 */
export async function freePortBetween(low: number, high: number, attempts = 200): Promise<number> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low + 1));
    if (await isPortFree(port)) return port;
  }
  throw new Error(`no free port between ${low} and ${high} after ${attempts} attempts`);
}

function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.on('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
