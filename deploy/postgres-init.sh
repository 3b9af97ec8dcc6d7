#!/bin/sh
# Runs once when the PostgreSQL container creates its data folder: the service's least-privilege login role.
# Migrations (run as the owner) grant it what it needs; it can never UPDATE or DELETE audit rows.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
     -v app_password="$EXCHANGE_APP_DB_PASSWORD" <<'SQL'
CREATE ROLE exchange_app LOGIN PASSWORD :'app_password';
SQL
