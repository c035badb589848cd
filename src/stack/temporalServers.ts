/**
 * The two Temporal servers the local stack runs, both through @temporalio/testing so that the
 * SDK owns their life cycle (it picks free ports, waits until they answer, kills them on
 * teardown): the dev server (the CLI's `server start-dev`, with the Web UI and an optional
 * SQLite file) and the time-skipping test server.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { SearchAttributeType, type DataConverter } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { NOTIFICATION_SEARCH_ATTRIBUTES } from '../searchAttributes';
import { guardServerProcess } from './orphanGuard';
import { assertPortFree } from './ports';
import { provisionTemporalCli, provisionTestServer } from './provision';
import type { ProvisionedServer, ProvisionOptions } from './provisionTypes';

export interface StartDevServerOptions extends ProvisionOptions {
  /** gRPC port; default a free one. */
  port?: number;
  /** Web UI port; undefined = no UI. */
  uiPort?: number;
  /** SQLite file that keeps workflows across restarts; undefined = in memory. */
  dbFilename?: string;
  /** Created at start; default "default". */
  namespace?: string;
  /** The data converter of env.client (the project's: src/security/dataConverter.ts). */
  dataConverter?: DataConverter;
  /** The codec server the Web UI sends payloads to for decoding (--ui-codec-endpoint). */
  uiCodecEndpoint?: string;
  /** Serve the server's Prometheus metrics on this port (--metrics-port; the benchmark reads them); undefined = none. */
  metricsPort?: number;
  /** More dynamic configuration, `key=value` each (--dynamic-config-value), e.g. a test's faster Worker Versioning drainage. */
  dynamicConfig?: string[];
  /**
   * The dev server's own log level; default warn. `npm start` sets error: its warnings are about
   * its internals (a cluster id it generates, dial errors while it stops), not about this project.
   */
  logLevel?: 'warn' | 'error';
}

/** Adds what provisioning tried to an SDK error, so a failed download says why it was needed. */
function explain(provisioned: ProvisionedServer, what: string, error: unknown): Error {
  const message = error instanceof Error ? error.message : String(error);
  if (provisioned.failures.length === 0) return new Error(`${what} (${provisioned.source}) did not start: ${message}`);
  return new Error(
    `${what} did not start: ${message}\nIt was to be downloaded by the Temporal SDK because provisioning failed:\n  ${provisioned.failures.join('\n  ')}`,
  );
}

/**
 * A SQLite file in WAL mode with synchronous=NORMAL: commits no longer wait for an fsync each, which
 * more than doubled the starts a file-backed dev server accepts here (99 → 223 per second, 3,000
 * held, bench/README.md). A killed process still loses nothing; a power cut can lose the last
 * commits but never corrupts the file (https://www.sqlite.org/wal.html). Fine for the local stack,
 * whose data is a developer's; production runs on a Temporal cluster.
 */
export const SQLITE_FILE_PRAGMAS = ['--sqlite-pragma', 'journal_mode=WAL', '--sqlite-pragma', 'synchronous=NORMAL'];

/**
 * The CLI's dev server turns on `system.forceSearchAttributesCacheRefreshOnRead`, which the server
 * documents as "should not be turned on in production": every read of the search attributes or of
 * the namespace goes to the database, so that attributes created while it runs can be used at once.
 * Our notifications carry search attributes, so that was 4 of the 6 database requests of each
 * start and 7 of the 13.5 of each release (bench/README.md, "What the release waited on"). The
 * cluster turns it off too, and docker/temporal/dynamicconfig/docker.yaml says why that is safe: an
 * attribute created later with `temporal operator search-attribute create` is usable within
 * seconds (tried here on 2026-12-02: a start and a count query using it worked at once).
 */
export const DEV_SERVER_DYNAMIC_CONFIG = ['--dynamic-config-value', 'system.forceSearchAttributesCacheRefreshOnRead=false'];

/**
 * Worker Versioning's drainage, checked every few seconds instead of every few minutes: for tests
 * that wait until the server reports an old build drained. A build is reported drained once no open
 * pinned workflow is on it, as visibility shows after a grace period (by default minutes, for a
 * visibility store that lags).
 */
export const FAST_VERSION_DRAINAGE = ['matching.wv.VersionDrainageStatusVisibilityGracePeriod="5s"', 'matching.wv.VersionDrainageStatusRefreshInterval="5s"'];

/** The dev server with this project's search attributes registered (an existing SQLite file keeps them). */
export async function startDevServer(options: StartDevServerOptions = {}): Promise<TestWorkflowEnvironment> {
  const cli = await provisionTemporalCli(options);
  if (options.port !== undefined) await assertPortFree(options.port, 'the Temporal dev server', 'NOTIFY_TEMPORAL_PORT');
  if (options.uiPort !== undefined) await assertPortFree(options.uiPort, 'the Temporal Web UI', 'NOTIFY_TEMPORAL_UI_PORT');
  if (options.dbFilename) await mkdir(dirname(options.dbFilename), { recursive: true });
  let env: TestWorkflowEnvironment;
  try {
    env = await TestWorkflowEnvironment.createLocal({
      server: {
        executable: cli.executable,
        port: options.port,
        ui: options.uiPort !== undefined,
        uiPort: options.uiPort,
        dbFilename: options.dbFilename,
        namespace: options.namespace,
        log: { format: 'pretty', level: options.logLevel ?? 'warn' },
        searchAttributes: [...NOTIFICATION_SEARCH_ATTRIBUTES],
        extraArgs: [
          ...DEV_SERVER_DYNAMIC_CONFIG,
          ...(options.dynamicConfig ?? []).flatMap((value) => ['--dynamic-config-value', value]),
          ...(options.dbFilename ? SQLITE_FILE_PRAGMAS : []),
          ...(options.uiCodecEndpoint ? ['--ui-codec-endpoint', options.uiCodecEndpoint] : []),
          ...(options.metricsPort !== undefined ? ['--metrics-port', String(options.metricsPort)] : []),
        ],
      },
      client: { dataConverter: options.dataConverter },
    });
  } catch (error) {
    throw explain(cli, 'the Temporal dev server', error);
  }
  return withOrphanGuard(env, cli);
}

/** Kills the server if this process dies without tearing the environment down (see orphanGuard.ts). */
function withOrphanGuard(env: TestWorkflowEnvironment, server: ProvisionedServer): TestWorkflowEnvironment {
  const guard = guardServerProcess(server.executable.type === 'existing-path' ? server.executable.path : undefined);
  const teardown = env.teardown.bind(env);
  env.teardown = async () => {
    try {
      await teardown();
    } finally {
      guard.release();
    }
  };
  return env;
}

/**
 * temporal.api.enums.v1.IndexedValueType by number: @temporalio/proto is only a transitive
 * dependency, so its enum is not imported here.
 */
export const INDEXED_VALUE_TYPE: Record<SearchAttributeType, number> = {
  [SearchAttributeType.TEXT]: 1,
  [SearchAttributeType.KEYWORD]: 2,
  [SearchAttributeType.INT]: 3,
  [SearchAttributeType.DOUBLE]: 4,
  [SearchAttributeType.BOOL]: 5,
  [SearchAttributeType.DATETIME]: 6,
  [SearchAttributeType.KEYWORD_LIST]: 7,
};

type AddSearchAttributesRequest = Parameters<TestWorkflowEnvironment['connection']['operatorService']['addSearchAttributes']>[0];

/**
 * The time-skipping test server: timers fire as soon as nothing else is pending.
 *
 * It checks search attributes like a real server: starting or upserting one it does not know
 * fails ("search attribute X is not defined"; an upsert fails the workflow task, which then
 * retries forever). It has no start flag for them, but it implements
 * OperatorService.AddSearchAttributes, so this project's attributes are added right after start.
 * (It does not implement ListSearchAttributes nor visibility queries such as
 * `NotificationStatus = 'held'`; test those on the dev server.)
 */
export async function startTimeSkippingServer(options: ProvisionOptions & { dataConverter?: DataConverter } = {}): Promise<TestWorkflowEnvironment> {
  const server = await provisionTestServer(options);
  let env: TestWorkflowEnvironment;
  try {
    env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: server.executable }, client: { dataConverter: options.dataConverter } });
  } catch (error) {
    throw explain(server, 'the Temporal time-skipping test server', error);
  }
  env = withOrphanGuard(env, server);
  try {
    const request = {
      namespace: env.namespace ?? 'default',
      searchAttributes: Object.fromEntries(NOTIFICATION_SEARCH_ATTRIBUTES.map(({ name, type }) => [name, INDEXED_VALUE_TYPE[type]])),
    } as AddSearchAttributesRequest;
    await env.connection.operatorService.addSearchAttributes(request);
  } catch (error) {
    await env.teardown();
    throw new Error(`the time-skipping test server refused this project's search attributes: ${(error as Error).message}`);
  }
  return env;
}
