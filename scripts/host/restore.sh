#!/usr/bin/env bash
# Restores a snapshot into the running platform. Everything that can fail without harm happens first, while Chatwoot
# still runs: the repository opens, the snapshot exists, its dump reads back, its files are unpacked next to the live
# ones on the same disk. Only then are the writers (Chatwoot rails and sidekiq) stopped; the dump is restored into a
# new database that replaces the live one by two renames (the old one is kept as <db>_before_restore until the next
# restore), the folders are swapped the same way (old ones kept as <folder>.before-restore), the writers start again
# and the script waits for their health checks. When the database restore fails, the live database is untouched
# and the writers start again. Exits non-zero on any failure.
# Installed as /usr/local/sbin/visualkit-restore; run by `npm run restore -- <stack>`, which asks first.
#
# Usage: visualkit-restore --yes [--snapshot ID]   (default: the latest snapshot)
set -euo pipefail
script_name=visualkit-restore
# shellcheck source=backup-lib.sh
. "$(dirname "$(readlink -f "$0")")/backup-lib.sh"

want=latest
yes=""
while [ "$#" -gt 0 ]; do
  case "$1" in
    --snapshot) want=${2:?--snapshot needs an id}; shift 2 ;;
    --yes) yes=1; shift ;;
    *) die "usage: $script_name --yes [--snapshot ID]" ;;
  esac
done
[ -n "$yes" ] || die "a restore replaces the live database and files; run it with --yes (npm run restore asks first)"
load_settings
take_lock
health_wait=${VISUALKIT_RESTORE_HEALTH_SECONDS:-300}

work=$(mktemp -d "$state_dir/restore.XXXXXX")
staged=()
stopped=""
finish() {
  local status=$?
  for s in "${staged[@]}"; do rm -rf "$s"; done
  rm -rf "$work"
  if [ -n "$stopped" ]; then
    echo "$script_name: starting ${app_containers[*]} again after the failure" >&2
    docker start "${app_containers[@]}" >/dev/null || true
  fi
  [ "$status" -eq 0 ] || echo "$script_name: restore failed" >&2
}
trap finish EXIT

list=$(snapshot_list) || exit 1
snapshot=$(resolve_snapshot "$want" "$list")
echo "restoring snapshot ${snapshot:0:8}"
fetch_dump "$snapshot" "$work/$dump_name"

# The folders unpacked by one restic restore into a temporary folder beside the first (the data volume), so the
# swap below is a rename.
declare -A restored=()
if [ "${#backup_paths[@]}" -gt 0 ]; then
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
      echo "$script_name: $p is not in snapshot ${snapshot:0:8}; left as it is" >&2
    fi
  done
fi

if [ "${#app_containers[@]}" -gt 0 ]; then
  echo "stopping ${app_containers[*]}"
  stopped=1
  docker stop "${app_containers[@]}" >/dev/null
fi

psql_admin() { docker exec -i "$pg_container" psql -X -q -v ON_ERROR_STOP=1 -U "$pg_user" -d postgres -c "SET client_min_messages = warning" "$@"; }
new_db="${pg_db}_restoring"
old_db="${pg_db}_before_restore"
psql_admin -c "DROP DATABASE IF EXISTS \"$new_db\"" -c "CREATE DATABASE \"$new_db\" OWNER \"$pg_user\""
if ! docker exec -i "$pg_container" pg_restore --exit-on-error --no-owner -U "$pg_user" -d "$new_db" <"$work/$dump_name"; then
  psql_admin -c "DROP DATABASE IF EXISTS \"$new_db\"" || true
  die "pg_restore failed; the live database $pg_db is unchanged"
fi
psql_admin -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '$pg_db' AND pid <> pg_backend_pid()" >/dev/null
psql_admin -c "DROP DATABASE IF EXISTS \"$old_db\"" \
  -c "ALTER DATABASE \"$pg_db\" RENAME TO \"$old_db\"" \
  -c "ALTER DATABASE \"$new_db\" RENAME TO \"$pg_db\""
echo "database $pg_db restored (the previous one is kept as $old_db)"

for p in "${!restored[@]}"; do
  rm -rf "$p.before-restore"
  if [ -e "$p" ] || [ -L "$p" ]; then mv -T "$p" "$p.before-restore"; fi
  mv -T "${restored[$p]}" "$p"
  echo "$p restored (the previous one is kept as $p.before-restore)"
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
echo "restore of snapshot ${snapshot:0:8} done"
