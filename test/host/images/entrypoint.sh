#!/usr/bin/env bash
# Entry point of the test images built from Debian packages (test/host/build-images.sh), shaped like the official
# images the program runs: the command decides what starts, and the environment the program passes is honoured.
#   postgres      like postgres/pgvector: POSTGRES_USER (postgres), POSTGRES_PASSWORD (required unless
#                 POSTGRES_HOST_AUTH_METHOD=trust), POSTGRES_DB
#                 (= user), PGDATA (/var/lib/postgresql/data); an empty data folder is initialised, then the server
#                 runs as the postgres user with password (scram) logins from the network.
#   redis-server  like redis: the data folder (the working directory) is handed to the redis user, then exec.
#   anything else exec as given.
set -euo pipefail

as_user() {
  local user=$1
  shift
  exec setpriv --reuid="$user" --regid="$user" --init-groups -- "$@"
}

case "${1:-}" in
  postgres)
    shift
    # Like the official image: a password is required unless POSTGRES_HOST_AUTH_METHOD=trust (the restore drill's
    # scratch server, which has no network).
    auth=${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}
    [ "$auth" = trust ] || : "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is required unless POSTGRES_HOST_AUTH_METHOD=trust (as in the official image)}"
    user=${POSTGRES_USER:-postgres}
    db=${POSTGRES_DB:-$user}
    data=${PGDATA:-/var/lib/postgresql/data}
    bin=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    mkdir -p "$data" /var/run/postgresql
    chown postgres:postgres "$data" /var/run/postgresql
    chmod 0700 "$data"
    if [ ! -s "$data/PG_VERSION" ]; then
      pwfile=$(mktemp)
      printf '%s\n' "${POSTGRES_PASSWORD:-}" >"$pwfile"
      chown postgres "$pwfile"
      setpriv --reuid=postgres --regid=postgres --init-groups -- \
        "$bin/initdb" -D "$data" --username="$user" --pwfile="$pwfile" --auth-local=trust --auth-host="$auth" >/dev/null
      rm -f "$pwfile"
      echo "host all all all $auth" >>"$data/pg_hba.conf"
      echo "listen_addresses = '*'" >>"$data/postgresql.conf"
      if [ "$db" != postgres ]; then
        setpriv --reuid=postgres --regid=postgres --init-groups -- "$bin/postgres" --single -D "$data" postgres \
          <<<"CREATE DATABASE \"$db\" OWNER \"$user\";" >/dev/null
      fi
      echo "initialised $data for $user/$db"
    fi
    as_user postgres "$bin/postgres" -D "$data" "$@"
    ;;
  redis-server)
    chown -R redis:redis .
    as_user redis "$@"
    ;;
  *)
    exec "$@"
    ;;
esac
