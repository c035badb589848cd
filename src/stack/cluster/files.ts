/**
 * The files the cluster shares with docker-compose.yml (test/compose.test.ts checks that compose
 * mounts these very files): the server's configuration template, its dynamic configuration, and
 * the schema set-up script.
 */
import { join, resolve } from 'node:path';

/** The repository root, from src/stack/cluster (tsx) and dist/stack/cluster (compiled) alike. */
export const PROJECT_ROOT = resolve(__dirname, '..', '..', '..');

const TEMPORAL_DIR = join(PROJECT_ROOT, 'docker', 'temporal');

export const CLUSTER_FILES = {
  /** Rendered by the server with the environment (`# enable-template`). */
  serverConfig: join(TEMPORAL_DIR, 'config.yaml'),
  dynamicConfig: join(TEMPORAL_DIR, 'dynamicconfig', 'docker.yaml'),
  /** create-database, setup-schema and update-schema for both databases. */
  schemaScript: join(TEMPORAL_DIR, 'setup-postgres.sh'),
} as const;
