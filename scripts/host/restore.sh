#!/usr/bin/env bash
# Restores a snapshot into the running platform. Everything that can fail without harm happens first, while Chatwoot
# still runs: the repository opens, the snapshot exists, its dump reads back, its files are unpacked next to the live
# ones on the same disk. Only then are the writers (Chatwoot rails and sidekiq) stopped; the dump is restored into a
# new database that replaces the live one by two renames in one transaction (the old one is kept as
# <db>_before_<UTC stamp>), the folders are swapped the same way (old ones kept as <folder>.before-<stamp>), the writers
# start again and the script waits for their health checks. Nothing earlier is ever dropped or deleted by a restore:
# every previous database and folder stays until an operator removes it. Exits non-zero on any failure; the writers
# are started again on every path out (an error, SIGHUP, SIGTERM, SIGINT, SIGPIPE).
#
# The restore runs detached from the caller's session (its own session, no terminal, its output in a log file under
# the state folder) and the caller follows the log: an operator whose SSH connection drops right after "stopping"
# leaves a restore that still runs to its end. The exit status is the restore's when the follower sees the end.
# Installed as /usr/local/sbin/visualkit-restore; run by `npm run restore -- <stack>`, which asks first.
#
# With --to-time the database is recovered to that moment instead (point-in-time recovery, pitr-lib.sh): the base
# backup and WAL replay happen in a scratch container while Chatwoot runs, and the result is swapped in the same way;
# the files stay as they are (they have no history between snapshots). A target that is malformed or outside the
# recovery window is refused before anything is stopped.
#
# Usage: visualkit-restore --yes [--snapshot ID | --to-time TIMESTAMP]   (default: the latest snapshot)
set -euo pipefail
script_name=visualkit-restore
here=$(dirname "$(readlink -f "$0")")
# shellcheck source=backup-lib.sh
. "$here/backup-lib.sh"
# shellcheck source=pitr-lib.sh
. "$here/pitr-lib.sh"

want=latest
to_time=""
yes=""
log=""
while [ "$#" -gt 0 ]; do
  case "$1" in
    --snapshot) want=${2:?--snapshot needs an id}; shift 2 ;;
    --to-time) to_time=${2:?--to-time needs a timestamp}; shift 2 ;;
    --yes) yes=1; shift ;;
    --detached) log=${2:?--detached needs the log path}; shift 2 ;;
    *) die "usage: $script_name --yes [--snapshot ID | --to-time TIMESTAMP]" ;;
  esac
done
[ -z "$to_time" ] || [ "$want" = latest ] || die "--snapshot and --to-time exclude each other: a snapshot is one moment, --to-time another"
# A malformed time is refused here, before the detached restore starts (its window is checked there, before any stop).
[ -z "$to_time" ] || pitr_parse_time "$to_time" >/dev/null
[ -n "$yes" ] || die "a restore replaces the live database and files; run it with --yes (npm run restore asks first)"

stamp=$(date -u +%Y%m%d%H%M%S)
if [ -z "$log" ]; then
  # The caller: start the restore in its own session with no terminal, then follow its log. Killing this (a closed
  # SSH session: SIGHUP, or SIGPIPE on the next write) ends only the following.
  mkdir -p "$state_dir"
  log="$state_dir/restore-$stamp-$$.log"
  : >"$log.out"
  : >"$log.err"
  if [ -n "$to_time" ]; then what=(--to-time "$to_time"); else what=(--snapshot "$want"); fi
  setsid bash "$(readlink -f "$0")" --detached "$log" --yes "${what[@]}" </dev/null >>"$log.out" 2>>"$log.err" &
  pid=$!
  echo "$script_name: the restore runs detached (PID $pid); its log: $log.out, $log.err; closing this session does not stop it"
  tail -n +1 --pid="$pid" -f "$log.err" >&2 &
  tail -n +1 --pid="$pid" -f "$log.out"
  wait
  [ -s "$log.rc" ] || die "the restore (PID $pid) ended without recording its status; see $log.err"
  exit "$(cat "$log.rc")"
fi

# The detached restore from here on. The terminal is gone or may go: a hang-up is ignored, a write to a closed pipe
# cannot happen (output goes to the log), and any other end runs `finish`.
trap '' HUP PIPE
load_settings
take_lock
health_wait=${VISUALKIT_RESTORE_HEALTH_SECONDS:-300}

# Work files a killed restore left (the lock says none still runs): a dump as big as the database each.
rm -rf "$dump_dir"/restore.*
work=$(work_dir restore)
staged=()
stopped=""
scratch=""
finish() {
  local status=$?
  trap '' INT TERM
  if [ -n "$scratch" ]; then docker rm -f -v "$scratch" >/dev/null 2>&1 || true; fi
  for s in "${staged[@]}"; do rm -rf "$s"; done
  rm -rf "$work"
  if [ -n "$stopped" ]; then
    echo "$script_name: starting ${app_containers[*]} again after the failure" >&2
    docker start "${app_containers[@]}" >/dev/null || true
  fi
  [ "$status" -eq 0 ] || echo "$script_name: restore failed" >&2
  echo "$status" >"$log.rc"
}
trap finish EXIT
trap 'exit 1' INT TERM

if [ -n "$to_time" ]; then
  pitr_settings
  # A scratch server a killed recovery left (the lock says none still runs): a full copy of the database.
  for old in $(docker ps -a --filter name=visualkit-pitr- --format '{{.Names}}'); do docker rm -f -v "$old" >/dev/null 2>&1 || true; done
  pitr_prepare "$to_time" "$work"
  scratch="visualkit-pitr-$$"
  pitr_recover "$scratch" "$work"
  docker exec "$scratch" pg_dump -U "$pg_user" -d "$pg_db" -Fc >"$work/$dump_name"
  check_dump "$work/$dump_name" || die "the dump of the recovered database did not read back"
  docker rm -f -v "$scratch" >/dev/null
  scratch=""
  rm -rf "$work/data" "$work/wal" "$work"/offsite-*
  label="the recovery to $(utc "$pitr_target")"
else
  list=$(snapshot_list) || exit 1
  snapshot=$(resolve_snapshot "$want" "$list")
  echo "restoring snapshot ${snapshot:0:8}"
  fetch_dump "$snapshot" "$work/$dump_name"
  label="snapshot ${snapshot:0:8}"
fi

# The folders unpacked by one restic restore into a temporary folder beside the first (the data volume), so the
# swap below is a rename.
declare -A restored=()
if [ -z "$to_time" ] && [ "${#backup_paths[@]}" -gt 0 ]; then
  parent=$(dirname "${backup_paths[0]}")
  mkdir -p "$parent"
  staging=$(mktemp -d "$parent/.visualkit-restore.XXXXXX")
  staged+=("$staging")
  includes=()
  for p in "${backup_paths[@]}"; do includes+=(--include "$p"); done
  run_restic restore "$snapshot" --target "$staging" "${includes[@]}" >/dev/null
  for p in "${backup_paths[@]}"; do
    if [ -e "$staging$p" ] || [ -L "$staging$p" ]; then
      restored[$p]="$staging$p"
    else
      echo "$script_name: $p is not in $label; left as it is" >&2
    fi
  done
fi

if [ "${#app_containers[@]}" -gt 0 ]; then
  echo "stopping ${app_containers[*]}"
  stopped=1
  docker stop "${app_containers[@]}" >/dev/null
fi

psql_admin() { docker exec -i "$pg_container" psql -X -q -At -v ON_ERROR_STOP=1 -U "$pg_user" -d postgres -c "SET client_min_messages = warning" "$@"; }
new_db="${pg_db}_restoring"
old_db="${pg_db}_before_$stamp"
if [ -n "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$old_db'")" ]; then old_db="${old_db}_$$"; fi
# The scratch database of an interrupted restore is ours and holds nothing else: it may go.
psql_admin -c "DROP DATABASE IF EXISTS \"$new_db\"" -c "CREATE DATABASE \"$new_db\" OWNER \"$pg_user\""
if ! docker exec -i "$pg_container" pg_restore --exit-on-error --no-owner -U "$pg_user" -d "$new_db" <"$work/$dump_name"; then
  psql_admin -c "DROP DATABASE IF EXISTS \"$new_db\"" || true
  die "pg_restore failed; the live database $pg_db is unchanged"
fi
# Both renames or neither: nothing can see a moment without $pg_db. A rename waits 5 s for the database's other
# sessions and fails if one is left, and clients reconnect at any time (the Postgres exporter every scrape, health
# checks): so new sessions are refused first, then the ones there are ended, then the renames and the kept copy's
# connections allowed again, in one transaction (a swap that succeeded cannot be reported as failed); on a failure
# $pg_db accepts connections again (the application starts on it again).
if ! psql_admin -c "ALTER DATABASE \"$pg_db\" WITH ALLOW_CONNECTIONS false" \
  -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '$pg_db' AND pid <> pg_backend_pid()" >/dev/null ||
  ! psql_admin -1 -c "ALTER DATABASE \"$pg_db\" RENAME TO \"$old_db\"" -c "ALTER DATABASE \"$new_db\" RENAME TO \"$pg_db\"" \
    -c "ALTER DATABASE \"$old_db\" WITH ALLOW_CONNECTIONS true"; then
  psql_admin -c "ALTER DATABASE \"$pg_db\" WITH ALLOW_CONNECTIONS true" || true
  psql_admin -c "DROP DATABASE IF EXISTS \"$new_db\"" || true
  die "swapping in the restored database failed; the live database $pg_db is unchanged"
fi
echo "database $pg_db restored (the previous one is kept as $old_db; DROP DATABASE \"$old_db\" once you are sure)"

for p in "${!restored[@]}"; do
  kept="$p.before-$stamp"
  if [ -e "$kept" ] || [ -L "$kept" ]; then kept="$kept-$$"; fi
  if [ -e "$p" ] || [ -L "$p" ]; then mv -T "$p" "$kept"; fi
  mv -T "${restored[$p]}" "$p"
  echo "$p restored (the previous one is kept as $kept)"
done

if [ -n "$stopped" ]; then
  echo "starting ${app_containers[*]}"
  docker start "${app_containers[@]}" >/dev/null
  stopped=""
  deadline=$((SECONDS + health_wait))
  for c in "${app_containers[@]}"; do
    until [ "$(docker inspect --format '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "$c")" = healthy ] ||
      [ "$(docker inspect --format '{{if .State.Health}}none{{else}}{{.State.Status}}{{end}}' "$c")" = running ]; do
      [ "$SECONDS" -lt "$deadline" ] || die "$c is not healthy ${health_wait}s after the restore; look at: docker logs $c"
      sleep 2
    done
  done
  echo "${app_containers[*]} healthy"
fi
echo "restore of $label done"
