#!/usr/bin/env bash
# Restore drill: restores a snapshot's database dump into a scratch Postgres container (same image as the live one,
# its data in an anonymous volume, removed afterwards; scratch containers a killed drill left behind are removed
# first), counts the rows of every table there and in the live database, and prints both. Never touches the live
# database. Passes when the dump restores without an error, holds every table the live database has, and holds at
# least half the rows of the live database and of the last passed drill (VISUALKIT_DRILL_MIN_ROWS_RATIO): row counts
# that differ are shown, not failed (the live database has moved on since the snapshot), but a snapshot of an
# emptied database fails. Records the result in the status file the freshness check reads.
# Installed as /usr/local/sbin/visualkit-backup-drill; run by visualkit-backup-drill.timer and by
# `npm run restore -- <stack> --drill`.
#
# With --to-time TIMESTAMP (or `now`) the drill recovers the database to that moment instead (point-in-time recovery,
# pitr-lib.sh: base backup and WAL replay in the scratch container) and compares the same way; the weekly timer runs
# both, so the WAL archive is proven as often as the dumps.
#
# Usage: visualkit-backup-drill [--snapshot ID | --to-time TIMESTAMP|now]   (default: the latest snapshot)
# shellcheck disable=SC2016 # jq programs are single-quoted on purpose
set -euo pipefail
script_name=visualkit-backup-drill
here=$(dirname "$(readlink -f "$0")")
# shellcheck source=backup-lib.sh
. "$here/backup-lib.sh"
# shellcheck source=pitr-lib.sh
. "$here/pitr-lib.sh"

want=latest
to_time=""
case "${1:-}" in
  --snapshot) want=${2:?--snapshot needs an id} ;;
  --to-time) to_time=${2:?--to-time needs a timestamp or now} ;;
  "") ;;
  *) die "usage: $script_name [--snapshot ID | --to-time TIMESTAMP|now]" ;;
esac
if [ "$to_time" = now ]; then to_time=$(date -u +%Y-%m-%dT%H:%M:%SZ); fi
load_settings
take_lock

# A drill killed by SIGKILL (systemd's stop timeout, a reboot) ran no trap: its scratch container, a full copy of
# the database, would stay. Each drill removes what earlier ones left (the lock says none of them still runs).
for old in $(docker ps -a --filter name=visualkit-drill- --format '{{.Names}}'); do
  echo "$script_name: removing $old, left behind by an interrupted drill" >&2
  docker rm -f -v "$old" >/dev/null 2>&1 || true
done
rm -rf "$dump_dir"/drill.*

scratch="visualkit-drill-$$"
work=$(work_dir drill)
trap 'exit 1' HUP INT TERM
finish() {
  local status=$?
  docker rm -f -v "$scratch" >/dev/null 2>&1 || true
  rm -rf "$work"
  if [ "$status" -ne 0 ]; then
    record_status --arg t "$(now)" --arg e "${reason:-drill failed}" '.drill.lastFailure = $t | .drill.lastError = $e' || true
    echo "$script_name: drill failed: ${reason:-see above}" >&2
  fi
}
trap finish EXIT

if [ -n "$to_time" ]; then
  reason="the recovery to $to_time failed"
  pitr_settings
  pitr_prepare "$to_time" "$work"
  pitr_recover "$scratch" "$work"
  shown="the recovery to $(utc "$pitr_target")"
  snapshot="time:$(utc "$pitr_target")"
  count_as=("$scratch" "$pg_user" "$pg_db")
else
reason="the repository did not open"
list=$(snapshot_list) || exit 1
reason="snapshot $want not found"
snapshot=$(resolve_snapshot "$want" "$list")
reason="the dump did not come out of snapshot ${snapshot:0:8}"
fetch_dump "$snapshot" "$work/$dump_name"

reason="the scratch Postgres container did not start"
image=$(docker inspect --format '{{.Config.Image}}' "$pg_container")
# No network: the scratch server publishes nothing, so trusting every local connection is safe. Its data goes to the
# image's anonymous volume on disk (not a tmpfs: a large database would eat the host's memory); rm -v deletes it.
docker run -d --name "$scratch" --network none \
  -e POSTGRES_HOST_AUTH_METHOD=trust -e POSTGRES_USER=drill -e POSTGRES_DB=drill "$image" >/dev/null
for _ in $(seq 1 90); do
  # The image's entrypoint sets the database up on a socket-only server, then restarts it listening on TCP: only an
  # answer over TCP (the container's own loopback) means the final server is up.
  if docker exec "$scratch" pg_isready -q -h 127.0.0.1 -U drill -d drill && docker exec "$scratch" psql -X -q -h 127.0.0.1 -U drill -d drill -c 'SELECT 1' >/dev/null 2>&1; then
    ready=1
    break
  fi
  sleep 1
done
[ -n "${ready:-}" ] || die "scratch Postgres $scratch did not accept connections within 90 s"

reason="pg_restore of snapshot ${snapshot:0:8} failed"
docker exec -i "$scratch" pg_restore --exit-on-error --no-owner --no-acl -U drill -d drill <"$work/$dump_name"
count_as=("$scratch" drill drill)
shown=${snapshot:0:8}
fi

reason="counting rows failed"
row_counts "${count_as[@]}" | LC_ALL=C sort >"$work/restored.tsv"
row_counts "$pg_container" "$pg_user" "$pg_db" | LC_ALL=C sort >"$work/live.tsv"

# One line per table: name, rows live, rows in the snapshot; a table missing on one side shows "-".
report=$(LC_ALL=C join -t $'\t' -a 1 -a 2 -e - -o 0,1.2,2.2 "$work/live.tsv" "$work/restored.tsv")
printf '%-48s %12s %12s\n' table live snapshot
awk -F'\t' '{ mark = ($2 == $3) ? "" : "  differs"; printf "%-48s %12s %12s%s\n", $1, $2, $3, mark }' <<<"$report"
tables=$(wc -l <"$work/restored.tsv")
rows=$(awk -F'\t' '{ s += $2 } END { print s + 0 }' "$work/restored.tsv")
live_rows=$(awk -F'\t' '{ s += $2 } END { print s + 0 }' "$work/live.tsv")
last_rows=$(jq -r '.drill.rows // 0' "$status_file" 2>/dev/null || echo 0)
missing=$(awk -F'\t' '$3 == "-" { print $1 }' <<<"$report" | paste -sd, -)
echo "$shown: $tables tables, $rows rows restored"

reason="the snapshot restored no table"
[ "$tables" -gt 0 ] || die "$reason"
reason="tables missing from $shown: $missing"
[ -z "$missing" ] || die "$reason"
# An emptied database backs up and restores without an error; only the counts show it. Against the live database
# (the snapshot was emptied) and against the last passed drill (the live database was emptied too).
ratio=${VISUALKIT_DRILL_MIN_ROWS_RATIO:-0.5}
for pair in "live database:$live_rows" "last passed drill:$last_rows"; do
  what=${pair%%:*} n=${pair##*:}
  if awk -v r="$rows" -v n="$n" -v q="$ratio" 'BEGIN { exit !(n > 0 && r < n * q) }'; then
    reason="$shown holds $rows rows, under $ratio of the $what's $n: an emptied or truncated database"
    die "$reason"
  fi
done

record_status --arg t "$(now)" --arg s "$snapshot" --argjson n "$tables" --argjson r "$rows" \
  '.drill.lastSuccess = $t | .drill.snapshot = $s | .drill.tables = $n | .drill.rows = $r'
echo "drill passed"
