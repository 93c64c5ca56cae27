#!/usr/bin/env bash
# Continuous WAL archiving of Chatwoot's database (point-in-time recovery; docs/backups.md): pushes the WAL segments
# Postgres spooled on the data volume into pgBackRest's repository and ships that repository off site with restic.
# Run every minute by visualkit-pitr-push.timer (with archive_timeout = 60 s, a commit is off site within ~2 min);
# `base` is the nightly full base backup, run by visualkit-backup. Its own lock: a long nightly dump or a restore must
# not hold up the WAL, and pgBackRest and restic lock their repositories themselves. Records the outcome in the
# status file (`pitr`); a failure fails the unit, whose OnFailure= raises the alarm.
# Installed as /usr/local/sbin/visualkit-pitr.
#
# Usage: visualkit-pitr push [--ship]   push the spooled WAL; ship when anything was pushed (or with --ship)
#        visualkit-pitr base            full base backup, expire, ship
#        visualkit-pitr info            pgBackRest's view of the repository
# shellcheck disable=SC2016 # jq programs are single-quoted on purpose
set -euo pipefail
script_name=visualkit-pitr
here=$(dirname "$(readlink -f "$0")")
# shellcheck source=backup-lib.sh
. "$here/backup-lib.sh"
# shellcheck source=pitr-lib.sh
. "$here/pitr-lib.sh"

load_settings
pitr_settings
action=${1:-}
case "$action" in
  push | base) ;;
  info) exec pgbackrest info ;;
  *) die "usage: $script_name push [--ship] | base | info" ;;
esac

mkdir -p "$state_dir"
exec 8>"$state_dir/pitr.lock"
flock -w 600 8 || die "another visualkit-pitr run has held its lock for 10 minutes"
failed() {
  local status=$?
  if [ "$status" -ne 0 ]; then
    record_status --arg t "$(now)" --arg e "visualkit-pitr $action failed" '.pitr.lastFailure = $t | .pitr.lastError = $e' || true
  fi
}
trap failed EXIT
if [ "$action" = push ]; then pitr_push "${2:-}"; else pitr_base; fi
