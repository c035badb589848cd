/**
 * `npm run bench -- --cluster`: the morning release on the production topology (`startCluster`:
 * a private PostgreSQL and the full Temporal server with N history shards), with its workers as
 * processes of the production build, beside the dev server in the same run. Every cluster row has
 * staging off, so that its rate from T is the server's release rate; the figures that carry to a
 * larger deployment are the persistence requests and the server's CPU per notification.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Config } from '../src/config';
import { dataConverterFromConfig } from '../src/security/dataConverter';
import { startCluster, type RunningCluster } from '../src/stack/cluster/startCluster';
import { cpuOfPids, log } from './common';
import { operationCountersAt } from './metrics';
import type { TemporalReleaseResult } from './temporal';
import type { TemporalTargetFactory } from './temporalTarget';

export interface ClusterRow {
  /** 'dev server' or the cluster's history shards. */
  shards: number | 'dev server';
  /** Worker processes (the dev-server row: one worker in the benchmark process). */
  workers: number;
  result: TemporalReleaseResult;
}

/**
 * A running cluster as the release runs see a server. Each run gets fresh connections and its own
 * task queue and delivery queue; the cluster (and its database) outlives the run.
 */
export function clusterTarget(cluster: RunningCluster): TemporalTargetFactory {
  return async (config) => {
    const connection = await Connection.connect({ address: cluster.addresses.temporal });
    const nativeConnection = await NativeConnection.connect({ address: cluster.addresses.temporal });
    const namespace = config.temporal.namespace;
    const client = new Client({ connection, namespace, dataConverter: dataConverterFromConfig(config) });
    // PostgreSQL's backends are the postmaster's children: cpuOfPids counts them with it.
    const pidsByRole = () => ({ 'temporal server': [cluster.temporal.pid], postgresql: [cluster.postgres.pid] });
    const pids = () => Object.values(pidsByRole()).flat();
    return {
      description: `cluster (PostgreSQL, ${cluster.shards} shards)`,
      env: { client, nativeConnection, namespace, address: cluster.addresses.temporal },
      namespace,
      ...operationCountersAt(cluster.addresses.metrics),
      cpuMs: () => cpuOfPids(pids()),
      pids,
      pidsByRole,
      // The full server's shard housekeeping and PostgreSQL's background writers keep a few percent of a core busy.
      idleCoreFraction: 0.15,
      addWorker: (env) => cluster.addWorker(env),
      stop: async () => {
        await nativeConnection.close();
        await connection.close();
      },
    };
  };
}

/** A fresh cluster (its own temporary directory, free ports, no Web UI) for the duration of `use`. */
export async function withCluster<T>(config: Config, shards: number, use: (cluster: RunningCluster) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), `kst-bench-cluster-${shards}-`));
  let cluster: RunningCluster | undefined;
  try {
    cluster = await startCluster({ config, dir, shards, workers: 0, webUi: false, log: (line) => log(`  [cluster] ${line}`) });
    return await use(cluster);
  } finally {
    await cluster?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
