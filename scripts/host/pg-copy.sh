#!/usr/bin/env bash
# Postgres copy for moving Chatwoot's database between servers; runs on a server, sent over SSH (`bash -s`).
# Self-contained on purpose: the takeover (npm run migrate-data) uses it today, and backup/restore can share it.
#
#   pg-copy.sh counts  <source>                     exact row count of every table, "schema.table<TAB>count", sorted
#   pg-copy.sh dump    <source>                     pg_dump custom format (-Fc) to stdout
#   pg-copy.sh restore <target> <dump> <expected>   restore into a scratch database, check its counts against the
#                                                   <expected> counts file, then swap it in by rename
#
# <source>: --container <name> (Postgres in a Docker container, reached with `docker exec` over its socket) or
#           --url <postgres://user:password@host:port/database> (psql and pg_dump on this machine).
# <target>: --container <name>. Both take --db and --user; in a container they default to its POSTGRES_DB/USER.
#
# The target database is never written: the dump is restored into <db>_incoming, and only when every table holds
# the expected number of rows are the two renames done, in one transaction (<db> → <db>_before_<stamp>,
# <db>_incoming → <db>). On any failure the scratch database is dropped and <db> is as it was.
set -euo pipefail

die() { echo "pg-copy: $*" >&2; exit 1; }

cmd="${1:-}"; shift || true
container="" url="" db="" user=""
args=()
while [ "$#" -gt 0 ]; do
  case "$1" in
    --container) container="$2"; shift 2 ;;
    --url) url="$2"; shift 2 ;;
    --db) db="$2"; shift 2 ;;
    --user) user="$2"; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
[ -n "$container" ] || [ -n "$url" ] || die "give --container <name> or --url <postgres://...>"

if [ -n "$container" ]; then
  docker inspect --type container "$container" >/dev/null 2>&1 || die "no container named $container on $(hostname)"
  # Defaults from the container's own environment, as the official postgres image sets them.
  [ -n "$user" ] || user="$(docker exec "$container" sh -c 'printf %s "${POSTGRES_USER:-postgres}"')"
  [ -n "$db" ] || db="$(docker exec "$container" sh -c 'printf %s "${POSTGRES_DB:-${POSTGRES_USER:-postgres}}"')"
fi

# Runs a Postgres client tool against a database (the maintenance database `postgres` for CREATE/RENAME).
pg() {
  local tool="$1" database="$2"; shift 2
  if [ -n "$container" ]; then
    docker exec -i "$container" "$tool" -U "$user" -d "$database" "$@"
  else
    "$tool" -d "$url" "$@"
  fi
}
psql_at() { pg psql "$1" -X -q -v ON_ERROR_STOP=1 -At -F $'\t' "${@:2}"; }

counts() {
  local database="$1"
  # One count(*) per base table, generated and run by psql itself (\gexec); LC_ALL=C sort for a stable order.
  psql_at "$database" <<'SQL' | LC_ALL=C sort
SELECT format('SELECT %L, count(*) FROM %I.%I', table_schema || '.' || table_name, table_schema, table_name)
FROM information_schema.tables
WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')
\gexec
SQL
}

case "$cmd" in
  counts)
    counts "$db"
    ;;
  dump)
    pg pg_dump "$db" -Fc
    ;;
  restore)
    [ -n "$container" ] || die "restore needs --container (the target is always the new server's Postgres container)"
    [ "${#args[@]}" -eq 2 ] || die "usage: pg-copy.sh restore --container <name> <dump-file> <expected-counts-file>"
    dump="${args[0]}" expected="${args[1]}"
    [ -s "$dump" ] || die "dump file $dump is missing or empty"
    [ -f "$expected" ] || die "expected counts file $expected is missing"
    scratch="${db}_incoming"
    before="${db}_before_$(date -u +%Y%m%d%H%M%S)"

    drop_scratch() { psql_at postgres -c "DROP DATABASE IF EXISTS \"$scratch\"" >/dev/null 2>&1 || true; }
    trap 'drop_scratch' EXIT
    drop_scratch
    psql_at postgres -c "CREATE DATABASE \"$scratch\" TEMPLATE template0" >/dev/null
    # Roles and grants of the old server do not exist here: objects are owned by the user that restores.
    if ! pg pg_restore "$scratch" --no-owner --no-privileges --exit-on-error --single-transaction <"$dump"; then
      die "pg_restore failed; $db is unchanged"
    fi

    got="$(counts "$scratch")"
    if [ "$got" != "$(LC_ALL=C sort "$expected")" ]; then
      echo "pg-copy: row counts differ (< expected from the source, > restored):" >&2
      diff <(LC_ALL=C sort "$expected") <(printf '%s\n' "$got") >&2 || true
      die "$db is unchanged"
    fi

    exists="$(psql_at postgres -c "SELECT 1 FROM pg_database WHERE datname = '$db'")"
    # Two copies in the same second (a retry) would otherwise pick the same name and fail after the restore.
    if [ -n "$(psql_at postgres -c "SELECT 1 FROM pg_database WHERE datname = '$before'")" ]; then before="${before}_$$"; fi
    # Nothing may be connected to a database that is renamed (rails and sidekiq are stopped by then). A rename waits
    # 5 s for other sessions and fails if one is left, and clients reconnect at any time (the Postgres exporter every
    # scrape, health checks): new sessions are refused first, then the ones there ended, then both renames and the kept
    # copy's connections allowed again in one transaction; on a failure $db accepts connections again.
    if [ "$exists" = "1" ]; then
      psql_at postgres -c "ALTER DATABASE \"$db\" WITH ALLOW_CONNECTIONS false" >/dev/null
      trap 'psql_at postgres -c "ALTER DATABASE \"$db\" WITH ALLOW_CONNECTIONS true" >/dev/null 2>&1 || true; drop_scratch' EXIT
    fi
    {
      echo "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname IN ('$db', '$scratch') AND pid <> pg_backend_pid();"
      echo "BEGIN;"
      [ "$exists" = "1" ] && echo "ALTER DATABASE \"$db\" RENAME TO \"$before\";"
      echo "ALTER DATABASE \"$scratch\" RENAME TO \"$db\";"
      [ "$exists" = "1" ] && echo "ALTER DATABASE \"$before\" WITH ALLOW_CONNECTIONS true;"
      echo "COMMIT;"
    } | psql_at postgres >/dev/null
    trap - EXIT
    [ "$exists" = "1" ] && echo "pg-copy: $db replaced; the previous one is kept as $before (DROP DATABASE \"$before\" once you are sure)"
    echo "pg-copy: $db restored, $(printf '%s\n' "$got" | grep -c .) tables, row counts verified"
    ;;
  *)
    die "usage: pg-copy.sh counts|dump|restore (see the header of this script)"
    ;;
esac
