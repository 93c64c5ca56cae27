#!/usr/bin/env bash
# The OnFailure= hook of the backup units (visualkit-backup-failed@<unit>.service): a unit that failed for any reason —
# the script's own error, a timeout, the OOM killer, a reboot in the middle — is recorded as a failure in the status
# file (`<job>.lastFailure`, `alarm`) and so in the node-exporter metrics the alerting rules read, and is logged at
# priority err. The freshness check (`npm run smoke -- --backups`, run nightly by the drift workflow) reports it.
# Installed as /usr/local/sbin/visualkit-backup-alarm.
#
# Usage: visualkit-backup-alarm <unit>   (e.g. visualkit-backup.service)
# shellcheck disable=SC2016 # jq programs are single-quoted on purpose
set -euo pipefail
script_name=visualkit-backup-alarm
# shellcheck source=backup-lib.sh
. "$(dirname "$(readlink -f "$0")")/backup-lib.sh"

unit=${1:?usage: $script_name <unit>}
case "$unit" in
  visualkit-backup.service) job=backup ;;
  visualkit-backup-drill.service) job=drill ;;
  visualkit-pitr-push.service) job=pitr ;;
  *) job=other ;;
esac
t=$(now)
# Not under the lock: the failed unit may still hold it while systemd starts this, and a status write is atomic.
record_status --arg t "$t" --arg u "$unit" --arg j "$job" \
  '.alarm = {unit: $u, time: $t}
   | if $j == "other" then .
     # The script recorded why when its failure is newer than its last success; otherwise (killed, timed out, or the
     # retention after a good backup failed) the unit is all there is to say.
     elif ((.[$j].lastFailure // "") > (.[$j].lastSuccess // "")) and ((.[$j].lastError // "") != "") then .[$j].lastFailure = $t
     else .[$j].lastFailure = $t | .[$j].lastError = "the unit \($u) failed (journalctl -u \($u))" end'
logger -p user.err -t "$script_name" "$unit failed at $t; journalctl -u $unit says why" 2>/dev/null || true
echo "$script_name: $unit failed at $t (recorded in $status_file)" >&2
