#!/usr/bin/env bash
# Takes one backup into the restic repository: a pg_dump (custom format) of Chatwoot's database from the running
# Postgres container, Chatwoot's uploaded files and the widget CDN releases. The dump is staged on the data volume
# (VISUALKIT_DUMP_DIR; never the root disk Docker needs) and read back with pg_restore --list before restic sees it, so
# a failed or cut-off dump (full disk, Postgres down) never becomes a snapshot. Records the outcome in the status file
# the freshness check reads; exits non-zero on any failure (the systemd unit then shows failed and its OnFailure=
# raises the alarm). Removes nothing from the repository: retention is visualkit-backup-prune's, run by the timer's
# unit or, with an append-only repository, by the trusted prune workflow — never by an operator's backup.
# Installed as /usr/local/sbin/visualkit-backup; run by visualkit-backup.timer and by `npm run backup`.
#
# Usage: visualkit-backup          take a backup, print `snapshot <id>`
#        visualkit-backup --list   list the snapshots (JSON with --json)
# shellcheck disable=SC2016 # jq programs are single-quoted on purpose
set -euo pipefail
script_name=visualkit-backup
# shellcheck source=backup-lib.sh
. "$(dirname "$(readlink -f "$0")")/backup-lib.sh"

load_settings

if [ "${1:-}" = --list ]; then
  if [ "${2:-}" = --json ]; then snapshot_list; else run_restic snapshots --tag "$backup_tag" || exit 1; fi
  exit 0
fi
[ "$#" -eq 0 ] || die "usage: $script_name [--list [--json]]"

take_lock

failed() {
  local status=$?
  rm -f "$dump_dir/$dump_name.partial"
  if [ "$status" -ne 0 ]; then
    record_status --arg t "$(now)" --arg e "${stage:-backup} failed" '.backup.lastFailure = $t | .backup.lastError = $e' || true
    if [ -n "${snapshot:-}" ]; then
      echo "$script_name: ${stage:-backup} failed after snapshot $snapshot was saved" >&2
    else
      echo "$script_name: backup failed during ${stage:-backup}; no snapshot was taken" >&2
    fi
  fi
}
trap failed EXIT

stage="opening the repository"
open_repository init

stage="the database dump"
mkdir -p "$dump_dir"
chmod 0700 "$dump_dir"
rm -f "$dump_dir/$dump_name"
docker exec "$pg_container" pg_dump -U "$pg_user" -d "$pg_db" -Fc >"$dump_dir/$dump_name.partial"
check_dump "$dump_dir/$dump_name.partial" || die "the dump of $pg_db did not read back with pg_restore --list; not backed up"
mv "$dump_dir/$dump_name.partial" "$dump_dir/$dump_name"

stage="restic backup"
paths=("$dump_dir")
for p in "${backup_paths[@]}"; do
  if [ -e "$p" ] || [ -L "$p" ]; then paths+=("$p"); else echo "$script_name: $p does not exist; skipped" >&2; fi
done
summary=$(run_restic backup --json --tag "$backup_tag" "${paths[@]}" | jq -c 'select(.message_type == "summary")')
short_id=$(jq -r '.snapshot_id // empty' <<<"$summary")
[ -n "$short_id" ] || die "restic reported no snapshot id"
# restic 0.14 reports the short id; the full one is what --snapshot and the status file keep.
list=$(snapshot_list)
snapshot_id=$(resolve_snapshot "$short_id" "$list")
snapshot=$snapshot_id
rm -f "$dump_dir/$dump_name"
record_status --arg t "$(now)" --arg s "$snapshot_id" --argjson b "$(jq '.total_bytes_processed // 0' <<<"$summary")" \
  --arg r "$(shown_repo)" '.backup.lastSuccess = $t | .backup.snapshot = $s | .backup.bytes = $b | .repository = $r'
echo "snapshot $snapshot"
# The nightly base backup of point-in-time recovery (its own lock and status; a failure fails this unit too).
if [ "${VISUALKIT_PITR:-}" = 1 ]; then
  stage="the point-in-time base backup"
  "$(dirname "$(readlink -f "$0")")/pitr.sh" base
fi
