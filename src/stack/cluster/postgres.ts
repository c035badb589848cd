/**
 * A private PostgreSQL for the cluster: Debian's server binaries (initdb, postgres), a data
 * directory of our own, TCP on 127.0.0.1 only, no Unix socket and no system service. A data
 * directory that exists is reused, so a second start keeps everything the first one stored.
 *
 * PostgreSQL refuses to run as root. As root (CI, containers) it runs as the `postgres` user that
 * Debian's package creates; when that user cannot reach the data directory (a checkout under
 * /root, say), the database files live in /var/tmp/kst-notification-scheduler-postgres/<hash of
 * the data directory> instead, so that a second run still finds them.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import { chown, mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { commandWorks, findOnPath, isExecutable, runCommand, ToolchainMissingError } from '../commands';
import { spawnManaged, type ManagedProcess } from '../managedProcess';
import { assertPortFree, freePort } from '../ports';

/** The database superuser initdb creates; Temporal connects as it (trust authentication on 127.0.0.1). */
export const POSTGRES_USER = 'temporal';
/** Ignored by trust authentication, but Temporal's configuration wants one; compose uses the same. */
export const POSTGRES_PASSWORD = 'temporal';

export interface StartPostgresOptions {
  /** Where the database lives (PGDATA is `<dir>/pgdata`, unless root must put it elsewhere, see above). */
  dir: string;
  /** Default: a free port. */
  port?: number;
  /** PostgreSQL's own log. */
  logFile?: string;
  startTimeoutMs?: number;
}

export interface RunningPostgres {
  host: string;
  port: number;
  user: string;
  password: string;
  /** The data directory actually used. */
  dataDir: string;
  /** The postmaster's pid (changes on restart). */
  readonly pid: number;
  /** Fast shutdown (SIGINT: open transactions roll back, nothing committed is lost); safe to call twice. */
  stop(): Promise<void>;
  /** Stops and starts it again on the same port and data. */
  restart(): Promise<void>;
}

/** The directory of initdb/postgres/pg_isready: initdb on PATH, else the newest /usr/lib/postgresql/<n>/bin. */
export function findPostgresBinDir(): string {
  const onPath = findOnPath('initdb');
  if (onPath) {
    const dir = dirname(realpathSync(onPath));
    if (isExecutable(join(dir, 'postgres'))) return dir;
  }
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base)
    ? readdirSync(base)
        .filter((name) => /^\d+$/.test(name) && isExecutable(join(base, name, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions[0]) return join(base, versions[0], 'bin');
  throw new ToolchainMissingError('PostgreSQL (initdb, postgres)', "run the cluster's database (Debian: apt-get install postgresql)");
}

interface RunAs {
  /** Prefix that runs a command as the database's owner: [] for ourselves, setpriv for root. */
  prefix: string[];
  owner?: { uid: number; gid: number; name: string };
}

async function runAs(): Promise<RunAs> {
  if (process.getuid?.() !== 0) return { prefix: [] };
  const setpriv = findOnPath('setpriv');
  if (!setpriv) throw new ToolchainMissingError('setpriv (util-linux)', 'run PostgreSQL as an unprivileged user when running as root');
  const { stdout } = await runCommand('getent', ['passwd', 'postgres']).catch(() => ({ stdout: '' }));
  const [name, , uid, gid] = stdout.trim().split(':');
  if (!name || uid === undefined || gid === undefined) {
    throw new Error("PostgreSQL cannot run as root, and there is no `postgres` user to run it as (Debian's postgresql package creates one)");
  }
  return { prefix: [setpriv, '--reuid=postgres', '--regid=postgres', '--init-groups', '--'], owner: { uid: Number(uid), gid: Number(gid), name } };
}

/** The data directory: `<dir>/pgdata`, or (root, and the owner cannot reach it) a fixed place under /var/tmp. */
async function dataDirFor(dir: string, as: RunAs): Promise<string> {
  const wanted = join(resolve(dir), 'pgdata');
  if (!as.owner) return wanted;
  await mkdir(resolve(dir), { recursive: true });
  if (await commandWorks(as.prefix[0]!, [...as.prefix.slice(1), 'test', '-x', resolve(dir)])) return wanted;
  const hash = createHash('sha256').update(resolve(dir)).digest('hex').slice(0, 16);
  return join('/var/tmp/kst-notification-scheduler-postgres', hash);
}

async function initdbIfNeeded(binDir: string, dataDir: string, as: RunAs): Promise<void> {
  if (existsSync(join(dataDir, 'PG_VERSION'))) return;
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  if (as.owner) {
    await chown(dirname(dataDir), as.owner.uid, as.owner.gid).catch(() => undefined);
    await chown(dataDir, as.owner.uid, as.owner.gid);
  }
  const [command, ...prefixArgs] = [...as.prefix, join(binDir, 'initdb')];
  await runCommand(command!, [...prefixArgs, '-D', dataDir, '-U', POSTGRES_USER, '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-instructions'], { cwd: dataDir });
}

const sleep = (ms: number) => new Promise((resolvePromise) => setTimeout(resolvePromise, ms));

export async function startPostgres(options: StartPostgresOptions): Promise<RunningPostgres> {
  const binDir = findPostgresBinDir();
  const as = await runAs();
  const dataDir = await dataDirFor(options.dir, as);
  await initdbIfNeeded(binDir, dataDir, as);
  const port = options.port ?? (await freePort());
  const host = '127.0.0.1';

  const launch = async (): Promise<ManagedProcess> => {
    await assertPortFree(port, 'PostgreSQL', 'the cluster options');
    const [command, ...prefixArgs] = [...as.prefix, join(binDir, 'postgres')];
    const server = spawnManaged('postgres', command!, [
      ...prefixArgs,
      '-D', dataDir,
      '-p', String(port),
      '-c', `listen_addresses=${host}`,
      '-c', 'unix_socket_directories=',
      // The Temporal server opens up to ~100 connections (four services, two stores each).
      '-c', 'max_connections=300',
    ], { logFile: options.logFile, stopSignal: 'SIGINT', cwd: dataDir });
    const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
    let exitedWith: string | undefined;
    void server.exited.then((how) => (exitedWith = how));
    for (;;) {
      if (exitedWith) throw new Error(`PostgreSQL exited (${exitedWith}) before accepting connections:\n${server.output()}`);
      if (await commandWorks(join(binDir, 'pg_isready'), ['-q', '-h', host, '-p', String(port), '-U', POSTGRES_USER, '-d', 'postgres'])) return server;
      if (Date.now() > deadline) {
        await server.stop();
        throw new Error(`PostgreSQL did not accept connections on ${host}:${port} within ${options.startTimeoutMs ?? 60_000} ms:\n${server.output()}`);
      }
      await sleep(200);
    }
  };

  let server = await launch();
  let stopping: Promise<void> | undefined;
  return {
    host,
    port,
    user: POSTGRES_USER,
    password: POSTGRES_PASSWORD,
    dataDir,
    get pid() {
      return server.programPid();
    },
    stop() {
      stopping ??= server.stop(30_000);
      return stopping;
    },
    async restart() {
      await server.stop(30_000);
      server = await launch();
      stopping = undefined;
    },
  };
}
