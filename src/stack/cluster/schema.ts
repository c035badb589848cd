/**
 * Temporal's two databases (persistence and visibility) on the cluster's PostgreSQL, created or
 * upgraded by docker/temporal/setup-postgres.sh: the script docker-compose runs, here with the
 * SQL tool and schema from the cache.
 */
import { runCommand } from '../commands';
import type { ProvisionedTemporalServer } from '../provisionTemporalServer';
import { CLUSTER_FILES } from './files';
import type { RunningPostgres } from './postgres';

export async function setupTemporalSchema(server: ProvisionedTemporalServer, postgres: Pick<RunningPostgres, 'host' | 'port' | 'user' | 'password'>): Promise<void> {
  await runCommand('/bin/sh', [CLUSTER_FILES.schemaScript], {
    env: {
      ...process.env,
      TEMPORAL_SQL_TOOL: server.sqlToolBinary,
      TEMPORAL_SCHEMA_DIR: server.postgresSchemaDir,
      POSTGRES_SEEDS: postgres.host,
      DB_PORT: String(postgres.port),
      POSTGRES_USER: postgres.user,
      POSTGRES_PWD: postgres.password,
    },
  });
}
