#!/usr/bin/env bash
# Shared by visualkit-backup, -backup-drill, -backup-prune, -backup-alarm and visualkit-restore (backup.sh,
# backup-drill.sh, backup-prune.sh, backup-alarm.sh, restore.sh):
# reads the settings and the secrets, runs restic with them, turns restic's failures into one line saying which
# failure it is, and keeps the status file the freshness check reads. Sourced, never run.
#
# Files (each overridable, so the tests run the scripts against temporary folders):
#   VISUALKIT_BACKUP_CONF   /etc/visualkit/backup.conf  plain settings, written by the Backups component
#   VISUALKIT_BACKUP_ENV    /etc/visualkit/backup.env   RESTIC_REPOSITORY, RESTIC_PASSWORD, AWS_* (mode 0600)
#   VISUALKIT_BACKUP_STATE  /var/lib/visualkit          status file, lock, restore logs
#   VISUALKIT_DUMP_DIR      $VISUALKIT_BACKUP_STATE/backup-dump  where dumps are staged (backup.conf puts it on the
#                           data volume: a dump as big as the database must not fill the root disk Docker lives on)
#   VISUALKIT_BACKUP_METRICS /var/lib/prometheus/node-exporter/visualkit-backup.prom  the status as Prometheus
#                           metrics for node-exporter's textfile collector (written only when its folder exists)
# Postgres is reached through `docker exec` into the running container only: the one seam the tests stand in for.
# Variables set here are used by the scripts that source it; jq programs are single-quoted on purpose.
# shellcheck disable=SC2034,SC2016

backup_conf=${VISUALKIT_BACKUP_CONF:-/etc/visualkit/backup.conf}
backup_env=${VISUALKIT_BACKUP_ENV:-/etc/visualkit/backup.env}
state_dir=${VISUALKIT_BACKUP_STATE:-/var/lib/visualkit}
status_file="$state_dir/backup-status.json"
metrics_file=${VISUALKIT_BACKUP_METRICS:-/var/lib/prometheus/node-exporter/visualkit-backup.prom}
# Where the dump lies while restic reads it (set from backup.conf by load_settings); snapshots taken before the
# staging folder moved to the data volume hold it at the legacy path, which a restore also looks at.
legacy_dump_dir="$state_dir/backup-dump"
dump_dir=${VISUALKIT_DUMP_DIR:-$legacy_dump_dir}
dump_name=chatwoot.dump
# Retention that never leaves a bad backup alone: every snapshot of the last 48 h and never fewer than 3, on top of
# the configured daily/weekly/monthly ones (a good morning backup survives two bad ones the same day).
keep_within=48h
keep_last=3

die() {
  # shellcheck disable=SC2154 # set by the script that sources this file
  echo "$script_name: $*" >&2
  exit 1
}

load_settings() {
  [ -r "$backup_conf" ] || die "settings $backup_conf missing; run pulumi up with visualkit:backupsEnabled true"
  [ -r "$backup_env" ] || die "secrets $backup_env missing; run pulumi up with visualkit:backupsEnabled true"
  set -a
  # shellcheck source=/dev/null
  . "$backup_env"
  # shellcheck source=/dev/null
  . "$backup_conf"
  set +a
  : "${RESTIC_REPOSITORY:?RESTIC_REPOSITORY missing in $backup_env}"
  : "${RESTIC_PASSWORD:?RESTIC_PASSWORD missing in $backup_env}"
  pg_container=${VISUALKIT_PG_CONTAINER:-chatwoot-postgres}
  pg_user=${VISUALKIT_PG_USER:-chatwoot}
  pg_db=${VISUALKIT_PG_DB:-chatwoot_production}
  read -r -a backup_paths <<<"${VISUALKIT_BACKUP_PATHS:-}"
  read -r -a app_containers <<<"${VISUALKIT_APP_CONTAINERS:-}"
  backup_tag=${VISUALKIT_BACKUP_TAG:-visualkit}
  dump_dir=${VISUALKIT_DUMP_DIR:-$legacy_dump_dir}
  append_only=${VISUALKIT_APPEND_ONLY:-}
  repository_url=$RESTIC_REPOSITORY
  restic_opts=()
  case "$RESTIC_REPOSITORY" in
    sftp:*) sftp_options ;;
    s3:*) [ -z "$append_only" ] || die "VISUALKIT_APPEND_ONLY needs an sftp: repository (the append-only key on the backup box)" ;;
    *) die "RESTIC_REPOSITORY must start with s3: or sftp:, got ${RESTIC_REPOSITORY%%:*}:..." ;;
  esac
}

# restic's sftp backend runs plain `ssh`; this names the key, keeps host keys in our own file (the first connection
# records the Storage Box's key, a changed key fails from then on) and never prompts.
sftp_options() {
  local rest=${RESTIC_REPOSITORY#sftp:} user="" host port=22
  if [[ $rest == //* ]]; then
    rest=${rest#//}
    host=${rest%%/*}
  else
    host=${rest%%:*}
  fi
  if [[ $host == *@* ]]; then
    user=${host%%@*}
    host=${host#*@}
  fi
  if [[ $RESTIC_REPOSITORY == sftp://* && $host == *:* ]]; then
    port=${host##*:}
    host=${host%:*}
  fi
  local cmd="ssh -o BatchMode=yes -o StrictHostKeyChecking=accept-new -o UserKnownHostsFile=$state_dir/backup-known_hosts -p $port"
  if [ -n "${VISUALKIT_SFTP_KEY:-}" ]; then cmd="$cmd -i $VISUALKIT_SFTP_KEY -o IdentitiesOnly=yes"; fi
  if [ -n "$user" ]; then cmd="$cmd -l $user"; fi
  if [ -n "$append_only" ]; then
    # The backup box forces this key to `rclone serve restic --stdio --append-only <path>` (docs/backups.md): restic
    # speaks its REST protocol over the SSH session, and whatever restic asks, the box adds files and deletes none.
    # The remote name after rclone: is ignored by the forced command.
    export RESTIC_REPOSITORY=rclone:append-only
    restic_opts=(-o "rclone.program=$cmd $host")
  else
    restic_opts=(-o "sftp.command=$cmd $host -s sftp")
  fi
}

# Runs restic; on failure prints one line saying which failure it was (wrong password, no repository, repository
# unreachable) followed by restic's own words, and returns restic's status. Standard output is restic's.
run_restic() {
  local err status=0
  err=$(mktemp)
  restic "${restic_opts[@]}" "$@" 2>"$err" || status=$?
  if [ "$status" -ne 0 ]; then
    echo "$script_name: $(restic_failure "$err")" >&2
    sed 's/^/  restic: /' "$err" >&2
  fi
  rm -f "$err"
  return "$status"
}

restic_failure() {
  if grep -q 'wrong password' "$1"; then
    echo "wrong password: the repository at $(shown_repo) does not open with RESTIC_PASSWORD (visualkit:backupPassword)"
  elif grep -Eqi 'dial tcp|connection refused|no such host|i/o timeout|timed out|connect to host|ssh command exited|unable to start the sftp session|network is unreachable|permission denied \(publickey|access denied|forbidden|signature' "$1"; then
    echo "repository unreachable: $(shown_repo) did not answer or refused the credentials"
  elif grep -q 'Is there a repository at the following location' "$1"; then
    echo "no repository at $(shown_repo) (visualkit:backupRepository); the first backup creates it"
  else
    echo "restic failed"
  fi
}

# The repository without anything secret that a URL could carry.
shown_repo() {
  sed -E 's#//[^/@]*@#//#' <<<"${repository_url:-$RESTIC_REPOSITORY}"
}

# restic forget's options for the retention (the prune script and its test use the same).
retention_args() {
  echo --keep-within "$keep_within" --keep-last "$keep_last" \
    --keep-daily "${VISUALKIT_KEEP_DAILY:-7}" --keep-weekly "${VISUALKIT_KEEP_WEEKLY:-4}" --keep-monthly "${VISUALKIT_KEEP_MONTHLY:-6}"
}

# Opens the repository before anything else is done (exit 1 with the reason when it cannot); with `init`, creates it
# when it does not exist yet.
open_repository() {
  local err status=0
  err=$(mktemp)
  restic "${restic_opts[@]}" cat config >/dev/null 2>"$err" || status=$?
  if [ "$status" -ne 0 ] && [ "$1" = init ] && [[ "$(restic_failure "$err")" == "no repository"* ]]; then
    echo "$script_name: no repository at $(shown_repo) yet; creating it"
    rm -f "$err"
    run_restic init >/dev/null || exit 1
    return 0
  fi
  if [ "$status" -ne 0 ]; then
    echo "$script_name: $(restic_failure "$err")" >&2
    sed 's/^/  restic: /' "$err" >&2
    rm -f "$err"
    exit 1
  fi
  rm -f "$err"
}

# Our snapshots as JSON; it is also what opens the repository (exit 1 with the reason when it does not open), so a
# script that lists first needs no separate check: each restic command pays the repository key's derivation again.
snapshot_list() {
  run_restic snapshots --json --tag "$backup_tag" || exit 1
}

# Full id of the snapshot ID (a prefix is enough) or of the newest one with our tag for `latest`, looked up in LIST
# (snapshot_list); exit 1 naming the snapshot when there is none.
resolve_snapshot() {
  local want=$1 list=$2 id
  if [ "$want" = latest ]; then
    id=$(jq -r 'sort_by(.time) | last | .id // empty' <<<"$list")
    [ -n "$id" ] || die "snapshot not found: the repository $(shown_repo) has no snapshot tagged $backup_tag yet"
  else
    id=$(jq -r --arg w "$want" '[.[] | select(.id | startswith($w))] | if length == 1 then .[0].id else empty end' <<<"$list")
    [ -n "$id" ] || die "snapshot not found: no single snapshot $want tagged $backup_tag in $(shown_repo) (npm run backup -- <stack> --list shows them)"
  fi
  echo "$id"
}

# The dump inside a snapshot, written to FILE and checked to be a readable archive. Looks at the staging folder's
# path and then at the legacy one (snapshots taken before the staging moved to the data volume).
fetch_dump() {
  local snapshot=$1 file=$2 dir
  for dir in "$dump_dir" "$legacy_dump_dir"; do
    if restic "${restic_opts[@]}" dump "$snapshot" "$dir/$dump_name" >"$file" 2>/dev/null; then
      check_dump "$file" || die "the database dump in snapshot ${snapshot:0:8} is not a readable pg_dump archive"
      return 0
    fi
    [ "$dir" != "$legacy_dump_dir" ] || break
  done
  run_restic dump "$snapshot" "$dump_dir/$dump_name" >"$file" || die "snapshot ${snapshot:0:8} holds no database dump at $dump_dir/$dump_name"
}

# A private folder for one run's large files (dumps), beside the staged dump on the data volume.
work_dir() {
  mkdir -p "$dump_dir"
  chmod 0700 "$dump_dir"
  mktemp -d "$dump_dir/$1.XXXXXX"
}

# pg_restore --list reads the whole table of contents: a truncated or empty dump fails here.
check_dump() {
  [ -s "$1" ] && docker exec -i "$pg_container" pg_restore --list <"$1" >/dev/null
}

# Row count of every table, `schema.table<TAB>rows`, sorted: what the drill compares.
row_counts() {
  local container=$1 user=$2 db=$3
  docker exec -i "$container" psql -X -q -At -F $'\t' -v ON_ERROR_STOP=1 -U "$user" -d "$db" <<'SQL'
SELECT format('%I.%I', table_schema, table_name),
       (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I', table_schema, table_name), false, true, '')))[1]::text
  FROM information_schema.tables
 WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')
 ORDER BY 1;
SQL
}

now() { date -u +%Y-%m-%dT%H:%M:%SZ; }

# Merges a jq expression into the status file (written aside and renamed, so a reader never sees half of it), then
# writes the metrics. A status file that is not a JSON object (a full disk, a hand edit) is kept aside and started
# anew: it must never fail the backup that would record the next outcome. Writers take turns (status.lock, not the
# backup lock: the WAL push records itself every minute while a backup or drill runs): two at once lost one's update
# and failed the other on the shared temp file (seen: a drill failed with "mv: cannot stat …tmp").
record_status() {
  mkdir -p "$state_dir"
  (
    # Waits for the other writer (a jq merge takes milliseconds); after 30 s it writes anyway rather than fail.
    flock -w 30 8 || echo "$script_name: $state_dir/status.lock still held after 30 s; writing anyway" >&2
    local current='{}' tmp
    if [ -s "$status_file" ]; then
      if jq -e 'type == "object"' "$status_file" >/dev/null 2>&1; then
        current=$(cat "$status_file")
      else
        echo "$script_name: $status_file was not a JSON object; kept as $status_file.corrupt, started anew" >&2
        mv -f "$status_file" "$status_file.corrupt"
      fi
    fi
    tmp=$(mktemp "$status_file.XXXXXX")
    if jq "$@" <<<"$current" >"$tmp"; then
      chmod 0644 "$tmp"
      mv -f "$tmp" "$status_file"
    else
      rm -f "$tmp"
      exit 1
    fi
    write_metrics
  ) 8>"$state_dir/status.lock"
}

# The status file as node-exporter textfile metrics (seconds since the epoch), for the alerting rules: a backup whose
# last success is old, or whose last failure is newer than its last success, is an alarm.
# Its own temp file (not .prom: node-exporter reads only those), and never a failure of the run it records.
write_metrics() {
  local dir tmp
  dir=$(dirname "$metrics_file")
  [ -d "$dir" ] || return 0
  tmp=$(mktemp "$metrics_file.XXXXXX") || return 0
  if jq -r '
    def ts: if type == "string" then (sub("\\.[0-9]+"; "") | fromdateiso8601) else empty end;
    "# HELP visualkit_backup_last_success_timestamp_seconds Last successful run of the backup, drill or prune.",
    "# TYPE visualkit_backup_last_success_timestamp_seconds gauge",
    (to_entries[] | select(.value | type == "object") | select(.value.lastSuccess) | "visualkit_backup_last_success_timestamp_seconds{job=\"\(.key)\"} \(.value.lastSuccess | ts)"),
    "# HELP visualkit_backup_last_failure_timestamp_seconds Last failed run (the script or its systemd unit).",
    "# TYPE visualkit_backup_last_failure_timestamp_seconds gauge",
    (to_entries[] | select(.value | type == "object") | select(.value.lastFailure) | "visualkit_backup_last_failure_timestamp_seconds{job=\"\(.key)\"} \(.value.lastFailure | ts)")
  ' "$status_file" >"$tmp" 2>/dev/null && chmod 0644 "$tmp" && mv -f "$tmp" "$metrics_file"; then
    return 0
  fi
  rm -f "$tmp"
  echo "$script_name: could not write $metrics_file" >&2
}

# One backup, drill or restore at a time: a restore must not race the nightly backup. In the state folder, which
# exists on every host and in every test.
take_lock() {
  mkdir -p "$state_dir"
  exec 9>"$state_dir/backup.lock"
  flock -n 9 || die "another backup, drill or restore is running"
}
