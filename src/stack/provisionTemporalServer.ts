/**
 * The production Temporal server for `npm run cluster`: the server binary and its SQL schema tool,
 * built with `go install` from go.temporal.io/server at VERSIONS.temporalServer, next to the
 * module's PostgreSQL schema; and the Web UI server (github.com/temporalio/ui-server/v2) with the
 * configuration template of the temporalio/ui image. Each lands in the per-user cache, keyed by
 * version, and appears there only when complete (installAtomically).
 *
 * A cold build of the server downloads about 1.8 GB of Go modules (and the Go toolchain the
 * server asks for) and takes minutes; the README says how long.
 */
import { chmod, cp, mkdir, readdir, rename, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { loadConfig } from '../config';
import { stackCacheDir } from './cacheDir';
import { isExecutable } from './commands';
import { goInstall, goModuleDir, installAtomically } from './installers';
import { stderrLog, timedStep } from './progress';
import type { ProvisionOptions } from './provisionTypes';
import { VERSIONS } from './versions';

export const TEMPORAL_SERVER_MODULE = 'go.temporal.io/server';
export const TEMPORAL_UI_SERVER_MODULE = 'github.com/temporalio/ui-server/v2';

export interface ProvisionedTemporalServer {
  /** `temporal-server`: `--config-file F start`. */
  serverBinary: string;
  /** `temporal-sql-tool`: create-database, setup-schema, update-schema. */
  sqlToolBinary: string;
  /** The module's schema/postgresql/v12: `temporal/versioned` and `visibility/versioned`. */
  postgresSchemaDir: string;
  source: string;
}

export interface ProvisionedTemporalUi {
  /** The UI server: `--root <rootDir> --env docker start` reads `<rootDir>/config/docker.yaml`. */
  binary: string;
  rootDir: string;
  source: string;
}

export function temporalServerCachePaths(cacheDir: string) {
  const dir = join(cacheDir, `temporal-server-${VERSIONS.temporalServer}`);
  return {
    dir,
    serverBinary: join(dir, 'bin', 'temporal-server'),
    sqlToolBinary: join(dir, 'bin', 'temporal-sql-tool'),
    postgresSchemaDir: join(dir, 'schema', 'postgresql', 'v12'),
  };
}

export function temporalUiCachePaths(cacheDir: string) {
  const dir = join(cacheDir, `temporal-ui-server-${VERSIONS.temporalUiServer}`);
  return { dir, binary: join(dir, 'bin', 'temporal-ui-server'), configFile: join(dir, 'config', 'docker.yaml') };
}

/** Copies from the Go module cache (read-only files) into the cache as ordinary, removable files. */
async function copyWritable(from: string, to: string): Promise<void> {
  await mkdir(dirname(to), { recursive: true });
  await cp(from, to, { recursive: true });
  const fix = async (path: string): Promise<void> => {
    const info = await stat(path);
    if (info.isDirectory()) {
      await chmod(path, 0o755);
      for (const entry of await readdir(path)) await fix(join(path, entry));
    } else {
      await chmod(path, 0o644);
    }
  };
  await fix(to);
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

export async function provisionTemporalServer(options: ProvisionOptions = {}): Promise<ProvisionedTemporalServer> {
  const localStack = options.localStack ?? loadConfig().localStack;
  const log = options.log ?? stderrLog;
  const paths = temporalServerCachePaths(stackCacheDir(localStack.cacheDir));
  const source = `cache (go install ${TEMPORAL_SERVER_MODULE} v${VERSIONS.temporalServer})`;
  const result = { serverBinary: paths.serverBinary, sqlToolBinary: paths.sqlToolBinary, postgresSchemaDir: paths.postgresSchemaDir, source };
  if (isExecutable(paths.serverBinary) && isExecutable(paths.sqlToolBinary) && (await exists(paths.postgresSchemaDir))) return result;

  const version = `v${VERSIONS.temporalServer}`;
  const goOptions = { toolchain: VERSIONS.goToolchain };
  await timedStep(
    log,
    `provisioning the Temporal server ${VERSIONS.temporalServer} with go install (${VERSIONS.goToolchain}; a cold cache downloads ~1.8 GB and takes minutes) into ${paths.dir}`,
    () =>
      installAtomically(paths.dir, async (dir) => {
        const bin = join(dir, 'bin');
        await goInstall([`${TEMPORAL_SERVER_MODULE}/cmd/server`, `${TEMPORAL_SERVER_MODULE}/cmd/tools/sql`], version, bin, goOptions);
        // go names binaries after their package directory; these are the names the images use.
        await rename(join(bin, 'server'), join(bin, 'temporal-server'));
        await rename(join(bin, 'sql'), join(bin, 'temporal-sql-tool'));
        const moduleDir = await goModuleDir(TEMPORAL_SERVER_MODULE, version, goOptions);
        await copyWritable(join(moduleDir, 'schema', 'postgresql', 'v12'), join(dir, 'schema', 'postgresql', 'v12'));
      }),
  );
  return result;
}

export async function provisionTemporalUi(options: ProvisionOptions = {}): Promise<ProvisionedTemporalUi> {
  const localStack = options.localStack ?? loadConfig().localStack;
  const log = options.log ?? stderrLog;
  const paths = temporalUiCachePaths(stackCacheDir(localStack.cacheDir));
  const source = `cache (go install ${TEMPORAL_UI_SERVER_MODULE} v${VERSIONS.temporalUiServer})`;
  const result = { binary: paths.binary, rootDir: paths.dir, source };
  if (isExecutable(paths.binary) && (await exists(paths.configFile))) return result;

  const version = `v${VERSIONS.temporalUiServer}`;
  const goOptions = { toolchain: VERSIONS.goToolchain };
  await timedStep(log, `provisioning the Temporal Web UI server ${VERSIONS.temporalUiServer} with go install into ${paths.dir}`, () =>
    installAtomically(paths.dir, async (dir) => {
      const bin = join(dir, 'bin');
      await goInstall(`${TEMPORAL_UI_SERVER_MODULE}/cmd/server`, version, bin, goOptions);
      await rename(join(bin, 'server'), join(bin, 'temporal-ui-server'));
      // The temporalio/ui image's own template (settings from TEMPORAL_* variables), so that the
      // native UI and compose's are configured alike.
      const moduleDir = await goModuleDir(TEMPORAL_UI_SERVER_MODULE, version, goOptions);
      await copyWritable(join(moduleDir, 'config', 'docker.yaml'), join(dir, 'config', 'docker.yaml'));
    }),
  );
  return result;
}
