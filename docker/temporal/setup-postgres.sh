#!/bin/sh
# One-shot (admin-tools image): creates or upgrades Temporal's two PostgreSQL databases.
# Safe to run on every `docker-compose up`: existing databases are kept, schemas only move forward.
set -eu
SQL="temporal-sql-tool --plugin postgres12 --ep ${POSTGRES_SEEDS} -p ${DB_PORT} -u ${POSTGRES_USER} --pw ${POSTGRES_PWD}"
SCHEMA=/etc/temporal/schema/postgresql/v12

for db in temporal temporal_visibility; do
  # "create" fails when the database exists, which is the normal case after the first start.
  $SQL --db "$db" create || echo "database $db exists"
done
$SQL --db temporal setup-schema -v 0.0
$SQL --db temporal update-schema -d "$SCHEMA/temporal/versioned"
$SQL --db temporal_visibility setup-schema -v 0.0
$SQL --db temporal_visibility update-schema -d "$SCHEMA/visibility/versioned"
echo "Temporal schemas are up to date"
