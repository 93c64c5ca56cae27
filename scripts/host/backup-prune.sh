#!/usr/bin/env bash
# Applies the retention to the repository: restic forget --prune over this stack's tag, keeping every snapshot of the
# last 48 hours, never fewer than 3, and the configured daily/weekly/monthly ones (backup-lib.sh, retention_args).
# Run by the backup timer's unit after the backup (ExecStartPost) when the host's credentials may delete, and by the
# trusted backup-prune workflow with its own credentials when the host's are append-only (then this refuses to run on
# the host: its key cannot delete, and must not be given one that can). Never run by `npm run backup`.
# Installed as /usr/local/sbin/visualkit-backup-prune.
# shellcheck disable=SC2016 # jq programs are single-quoted on purpose
set -euo pipefail
script_name=visualkit-backup-prune
# shellcheck source=backup-lib.sh
. "$(dirname "$(readlink -f "$0")")/backup-lib.sh"

[ "$#" -eq 0 ] || die "usage: $script_name"
load_settings
[ -z "$append_only" ] || die "this host's repository key is append-only: it cannot delete, so it does not prune; the backup-prune workflow does, with its own key (docs/backups.md)"
take_lock

failed() {
  local status=$?
  if [ "$status" -ne 0 ]; then
    record_status --arg t "$(now)" '.prune.lastFailure = $t | .prune.lastError = "restic forget --prune failed"' || true
    echo "$script_name: retention failed; nothing or only part was removed" >&2
  fi
}
trap failed EXIT

# A lock left by a killed run (stale: its process is gone or it is older than 30 minutes) would block the prune.
run_restic unlock >/dev/null
read -r -a keep <<<"$(retention_args)"
run_restic forget --prune --tag "$backup_tag" --group-by host,tags "${keep[@]}"
# Point-in-time recovery's shipments (one a minute while the database writes): each holds pgBackRest's whole repository,
# whose own retention keeps the window, so the newest of each host and one a day are enough. Tagged apart from the
# dumps (restic --tag matches whole tags), so neither retention touches the other's snapshots.
run_restic forget --prune --tag "$backup_tag-pitr" --group-by host,tags --keep-within 2h --keep-last 3 --keep-daily "${VISUALKIT_KEEP_DAILY:-7}"
record_status --arg t "$(now)" '.prune.lastSuccess = $t'
