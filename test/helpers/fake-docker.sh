#!/usr/bin/env bash
# Stand-in for the `docker` command of the backup scripts' tests, which run where there is no Docker engine. It
# answers only what those scripts use, with Debian's real PostgreSQL in place of the containers' one:
#   exec [-i] [-u USER] NAME CMD...  runs CMD (pg_dump, pg_restore, psql, pg_isready) here against NAME's cluster (its
#                              unix socket; a -h option, the container's own loopback, is dropped); with -u, any
#                              command as USER
#   run -d --name NAME ...     starts a new scratch cluster for NAME (the drill's container); with -e PGDATA=DIR (a
#                              recovery's scratch, its data folder mounted at the same path) the server runs on DIR as
#                              it is, and a server that stops at once (a failed recovery) leaves NAME "exited"
#   rm -f [-v] NAME            stops and deletes it
#   inspect --format FMT NAME  the image of the live Postgres; running/exited for .State.Status of a scratch
#                              container; "healthy" for the others
#   logs [--tail N] NAME       a scratch server's log
#   ps -a --filter name=P ...  the scratch containers whose name starts with P, one name a line
#   stop|start NAME...         recorded in $FAKE_DOCKER_DIR/calls, one line each; stop takes FAKE_DOCKER_STOP_SECONDS
#                              (as stopping rails does), so a test can act while it runs
#   cluster-start DIR USER DB  (the tests' own set-up) creates and starts a cluster in DIR, USER its superuser, with
#                              the lines of the file FAKE_DOCKER_PG_CONF (when set) added to its postgresql.conf
# FAKE_DOCKER_DIR holds one folder per container; FAKE_DOCKER_LIVE names the live Postgres container;
# FAKE_DOCKER_TRUNCATE_DUMP=1 cuts pg_dump's output short (exit 0) as a full disk would.
set -euo pipefail
: "${FAKE_DOCKER_DIR:?}"
pgbin=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
echo "$*" >>"$FAKE_DOCKER_DIR/calls"

# From /, which the postgres user can enter (the caller may sit in /root).
as_postgres() { (cd / && runuser -u postgres -- "$@"); }

cluster_start() {
  local dir=$1 user=$2 db=$3
  mkdir -p "$dir"
  chown postgres "$dir"
  as_postgres "$pgbin/initdb" -D "$dir/data" -U "$user" -A trust -N >/dev/null
  if [ -n "${FAKE_DOCKER_PG_CONF:-}" ]; then cat "$FAKE_DOCKER_PG_CONF" >>"$dir/data/postgresql.conf"; fi
  as_postgres "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -o "-c listen_addresses='' -k $dir -c fsync=off" start >/dev/null
  PGHOST=$dir "$pgbin/psql" -X -q -U "$user" -d postgres -c "CREATE DATABASE \"$db\"" >/dev/null
}

socket_of() {
  local name=$1
  if [ "$name" = "${FAKE_DOCKER_LIVE:-chatwoot-postgres}" ]; then echo "$FAKE_DOCKER_DIR/live"; else echo "$FAKE_DOCKER_DIR/$name"; fi
}

cmd=$1
shift
case "$cmd" in
  cluster-start) cluster_start "$@" ;;
  exec)
    [ "$1" = -i ] && shift
    # -u USER: the tool runs as that user (the container's postgres user), from its own view of the folders.
    as=()
    if [ "$1" = -u ]; then as=(runuser -u "$2" --); shift 2; fi
    name=$1
    shift
    dir=$(socket_of "$name")
    [ -d "$dir/data" ] || [ -f "$dir/pgdata" ] || { echo "Error response from daemon: No such container: $name" >&2; exit 1; }
    tool=$1
    shift
    # Inside a container -h 127.0.0.1 is that container's own server; here each "container" is a socket folder.
    args=()
    while [ "$#" -gt 0 ]; do
      if [ "$1" = -h ]; then shift 2; else args+=("$1"); shift; fi
    done
    set -- "${args[@]}"
    # Where the dump goes (the backup's staging file): the disk it lands on is part of what is tested.
    if [ "$tool" = pg_dump ]; then echo "pg_dump > $(readlink /proc/$$/fd/1)" >>"$FAKE_DOCKER_DIR/calls"; fi
    if [ "$tool" = pg_dump ] && [ "${FAKE_DOCKER_TRUNCATE_DUMP:-}" = 1 ]; then
      { PGHOST=$dir "$pgbin/pg_dump" "$@" || true; } | head -c 200
      exit 0
    fi
    if [ "${#as[@]}" -gt 0 ]; then cd / && PGHOST=$dir exec "${as[@]}" "$tool" "$@"; fi
    PGHOST=$dir exec "$pgbin/$tool" "$@"
    ;;
  run)
    name=""
    pgdata=""
    while [ "$#" -gt 1 ]; do
      if [ "$1" = --name ]; then name=$2; shift; fi
      if [ "$1" = -e ] && [[ $2 == PGDATA=* ]]; then pgdata=${2#PGDATA=}; shift; fi
      shift
    done
    if [ -n "$pgdata" ]; then
      dir="$FAKE_DOCKER_DIR/$name"
      mkdir -p "$dir"
      chown postgres "$dir"
      echo "$pgdata" >"$dir/pgdata"
      # Like `docker run -d`: the server's own failure shows later, as an exited container.
      as_postgres "$pgbin/pg_ctl" -D "$pgdata" -l "$dir/log" -w -o "-c listen_addresses='' -k $dir -c fsync=off" start >/dev/null 2>&1 || touch "$dir/exited"
    else
      cluster_start "$FAKE_DOCKER_DIR/$name" drill drill
    fi
    echo "fake-$name"
    ;;
  rm)
    while [ "${1:-}" = -f ] || [ "${1:-}" = -v ]; do shift; done
    dir="$FAKE_DOCKER_DIR/$1"
    if [ -f "$dir/pgdata" ]; then
      as_postgres "$pgbin/pg_ctl" -D "$(cat "$dir/pgdata")" -m immediate stop >/dev/null 2>&1 || true
      rm -rf "$dir"
      exit 0
    fi
    [ -d "$dir/data" ] || exit 1
    as_postgres "$pgbin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null
    rm -rf "$dir"
    ;;
  inspect)
    name=${*: -1}
    if [ "$name" = "${FAKE_DOCKER_LIVE:-chatwoot-postgres}" ]; then
      echo "pgvector/pgvector:pg16"
    elif [ -f "$FAKE_DOCKER_DIR/$name/pgdata" ]; then
      if [ -f "$FAKE_DOCKER_DIR/$name/exited" ] || ! as_postgres "$pgbin/pg_ctl" -D "$(cat "$FAKE_DOCKER_DIR/$name/pgdata")" status >/dev/null 2>&1; then echo exited; else echo running; fi
    else
      echo healthy
    fi
    ;;
  logs)
    name=${*: -1}
    tail -n "${2:-5}" "$FAKE_DOCKER_DIR/$name/log" 2>/dev/null || true
    ;;
  ps)
    prefix=""
    while [ "$#" -gt 0 ]; do
      if [ "$1" = --filter ]; then prefix=${2#name=}; shift; fi
      shift
    done
    for d in "$FAKE_DOCKER_DIR"/"$prefix"*; do
      if [ -d "$d/data" ] || [ -f "$d/pgdata" ]; then basename "$d"; fi
    done
    ;;
  stop)
    # The test may set it through a file too (the operator commands' tests reach the scripts through sshd).
    sleep "${FAKE_DOCKER_STOP_SECONDS:-$(cat "$FAKE_DOCKER_DIR/stop-seconds" 2>/dev/null || echo 0)}"
    printf '%s\n' "$@"
    ;;
  start) printf '%s\n' "$@" ;;
  *) echo "fake docker: $cmd is not stood in for" >&2; exit 1 ;;
esac
