#!/usr/bin/env bash
# Create one database per service (names in SERVICE_DATABASES, comma or space separated) if missing.
# Run by the one-shot `postgres-init` compose service on every `up`, not only on the first start of
# the data volume (as /docker-entrypoint-initdb.d would), so a service added later gets its database
# on an existing volume too. Connection settings come from PGHOST, PGUSER, PGPASSWORD.
set -euo pipefail

: "${SERVICE_DATABASES:?set SERVICE_DATABASES, e.g. cio_identity,cio_nominations}"

for db in ${SERVICE_DATABASES//,/ }; do
  if [[ ! "$db" =~ ^[a-z_][a-z0-9_]*$ ]]; then
    echo "refusing odd database name: $db" >&2
    exit 1
  fi
  exists=$(psql -v ON_ERROR_STOP=1 -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'")
  if [[ "$exists" == "1" ]]; then
    echo "database $db exists"
  else
    psql -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE \"$db\""
    echo "created database $db"
  fi
done
