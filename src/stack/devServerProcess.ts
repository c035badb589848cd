/**
 * The dev server as a process of our own rather than the SDK's: on a fixed port and a SQLite file,
 * so that a fault test can kill it (SIGKILL, the way a crashed host ends it) and start it again on
 * the same file, where the held notifications must still be. `npm start` and the other tests use
 * startDevServer (src/stack/temporalServers.ts), whose life cycle the SDK owns.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Connection } from '@temporalio/client';
import { NOTIFICATION_SEARCH_ATTRIBUTES } from '../searchAttributes';
import { spawnManaged, type ManagedProcess } from './managedProcess';
import { freePort } from './ports';
import { provisionTemporalCli } from './provision';
import type { ProvisionOptions } from './provisionTypes';
import { DEV_SERVER_DYNAMIC_CONFIG, SQLITE_FILE_PRAGMAS } from './temporalServers';

export interface DevServerProcess {
  /** host:port of its frontend. */
  address: string;
  /** The running process (changes on restart). */
  readonly pid: number;
  /** Sends a signal to the server's process group; resolves once it has exited. */
  kill(signal: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port and file, and waits until it answers. */
  restart(): Promise<void>;
  /** Stops it for good; safe to call twice. */
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A dev server on a SQLite file (WAL, as `npm start` runs it) with this project's search attributes. */
export async function startDevServerProcess(options: ProvisionOptions & { dbFilename: string; port?: number; startTimeoutMs?: number }): Promise<DevServerProcess> {
  const cli = await provisionTemporalCli(options);
  if (cli.executable.type !== 'existing-path') throw new Error('the Temporal CLI could not be provisioned as a file (the SDK download cannot be run as a process here)');
  const executable = cli.executable.path;
  await mkdir(dirname(options.dbFilename), { recursive: true });
  const port = options.port ?? (await freePort());
  const address = `127.0.0.1:${port}`;
  const args = [
    'server', 'start-dev',
    '--ip', '127.0.0.1', '--port', String(port), '--headless',
    '--db-filename', options.dbFilename,
    ...SQLITE_FILE_PRAGMAS,
    ...DEV_SERVER_DYNAMIC_CONFIG,
    ...NOTIFICATION_SEARCH_ATTRIBUTES.flatMap(({ name, type }) => ['--search-attribute', `${name}=${searchAttributeTypeName(type)}`]),
    '--log-level', 'error',
  ];
  let server: ManagedProcess | undefined;

  const start = async () => {
    const started = spawnManaged('temporal-dev-server', executable, args);
    server = started;
    let exitedWith: string | undefined;
    void started.exited.then((how) => (exitedWith = how));
    const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
    for (;;) {
      if (exitedWith) throw new Error(`the dev server exited (${exitedWith}) before it answered:\n${started.output()}`);
      try {
        const connection = await Connection.connect({ address, connectTimeout: 1_000 });
        try {
          await connection.workflowService.describeNamespace({ namespace: 'default' });
          return;
        } finally {
          await connection.close();
        }
      } catch {
        if (Date.now() > deadline) {
          await started.stop();
          throw new Error(`the dev server did not answer on ${address} within ${options.startTimeoutMs ?? 60_000} ms:\n${started.output()}`);
        }
        await sleep(250);
      }
    }
  };

  await start();
  return {
    address,
    get pid() {
      return server!.pid;
    },
    async kill(signal) {
      server!.kill(signal);
      await server!.exited;
      await server!.stop(0);
    },
    restart: start,
    async stop() {
      await server?.stop();
    },
  };
}

/** The CLI's names for search attribute types (`--search-attribute Name=Keyword`). */
function searchAttributeTypeName(type: string): string {
  const names: Record<string, string> = {
    TEXT: 'Text',
    KEYWORD: 'Keyword',
    INT: 'Int',
    DOUBLE: 'Double',
    BOOL: 'Bool',
    DATETIME: 'Datetime',
    KEYWORD_LIST: 'KeywordList',
  };
  const name = names[type.toUpperCase()];
  if (!name) throw new Error(`unknown search attribute type ${type}`);
  return name;
}
