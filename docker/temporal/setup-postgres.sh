#!/bin/sh
# Creates or upgrades Temporal's two PostgreSQL databases. Run by docker-compose (one-shot, in the
# admin-tools image) and by `npm run cluster` (src/stack/cluster/schema.ts, with the tool and the
# schema provisioned into the cache), so both stacks set up the same way.
# Safe to run on every start: existing databases are kept, schemas only move forward.
set -eu
TOOL="${TEMPORAL_SQL_TOOL:-temporal-sql-tool}"
SCHEMA="${TEMPORAL_SCHEMA_DIR:-/etc/temporal/schema/postgresql/v12}"
sql() {
  "$TOOL" --plugin postgres12 --ep "${POSTGRES_SEEDS}" -p "${DB_PORT}" -u "${POSTGRES_USER}" --pw "${POSTGRES_PWD}" "$@"
}

for db in temporal temporal_visibility; do
  # "create" fails when the database exists, which is the normal case after the first start.
  sql --db "$db" create || echo "database $db exists"
done
sql --db temporal setup-schema -v 0.0
sql --db temporal update-schema -d "$SCHEMA/temporal/versioned"
sql --db temporal_visibility setup-schema -v 0.0
sql --db temporal_visibility update-schema -d "$SCHEMA/visibility/versioned"
echo "Temporal schemas are up to date"
