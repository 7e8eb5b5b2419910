#!/bin/sh
# The part of the official postgres image's entrypoint that tests use: on first start, initdb with
# POSTGRES_USER / POSTGRES_PASSWORD and create POSTGRES_DB, then run the server in the foreground.
set -eu

# "docker run IMAGE -c fsync=off": options for the server, as with the official image.
if [ "${1#-}" != "$1" ]; then
  set -- postgres "$@"
fi

if [ "$1" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
  user="${POSTGRES_USER:-postgres}"
  database="${POSTGRES_DB:-$user}"
  password_file="$(mktemp)"
  printf '%s\n' "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set}" > "$password_file"
  initdb -D "$PGDATA" --username="$user" --pwfile="$password_file" -E UTF8 --locale=C \
    --auth-local=trust --auth-host=scram-sha-256 --no-instructions >/dev/null
  rm -f "$password_file"
  # Clients come through the published port, from the bridge's gateway: any address, with a password.
  echo "listen_addresses = '*'" >> "$PGDATA/postgresql.conf"
  echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
  if [ "$database" != postgres ]; then
    # Single-user mode: no server is listening yet, so pg_isready cannot succeed before this is done.
    echo "CREATE DATABASE \"$database\"" | postgres --single -D "$PGDATA" -j postgres >/dev/null
  fi
  echo "PostgreSQL init process complete; ready for start up."
fi

exec "$@"
