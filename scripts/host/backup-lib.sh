#!/usr/bin/env bash
# Shared by visualkit-backup, visualkit-backup-drill and visualkit-restore (backup.sh, backup-drill.sh, restore.sh):
# reads the settings and the secrets, runs restic with them, turns restic's failures into one line saying which
# failure it is, and keeps the status file the freshness check reads. Sourced, never run.
#
# Files (each overridable, so the tests run the scripts against temporary folders):
#   VISUALKIT_BACKUP_CONF   /etc/visualkit/backup.conf  plain settings, written by the Backups component
#   VISUALKIT_BACKUP_ENV    /etc/visualkit/backup.env   RESTIC_REPOSITORY, RESTIC_PASSWORD, AWS_* (mode 0600)
#   VISUALKIT_BACKUP_STATE  /var/lib/visualkit          status file and the dump's staging folder
# Postgres is reached through `docker exec` into the running container only: the one seam the tests stand in for.
# Variables set here are used by the scripts that source it; jq programs are single-quoted on purpose.
# shellcheck disable=SC2034,SC2016

backup_conf=${VISUALKIT_BACKUP_CONF:-/etc/visualkit/backup.conf}
backup_env=${VISUALKIT_BACKUP_ENV:-/etc/visualkit/backup.env}
state_dir=${VISUALKIT_BACKUP_STATE:-/var/lib/visualkit}
status_file="$state_dir/backup-status.json"
# Where the dump lies while restic reads it; the same path in every snapshot, so a restore knows where to look.
dump_dir="$state_dir/backup-dump"
dump_name=chatwoot.dump

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
  restic_opts=()
  case "$RESTIC_REPOSITORY" in
    sftp:*) sftp_options ;;
    s3:*) ;;
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
  restic_opts=(-o "sftp.command=$cmd $host -s sftp")
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
  sed -E 's#//[^/@]*@#//#' <<<"$RESTIC_REPOSITORY"
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

# The dump inside a snapshot, written to FILE and checked to be a readable archive.
fetch_dump() {
  local snapshot=$1 file=$2
  run_restic dump "$snapshot" "$dump_dir/$dump_name" >"$file" || die "snapshot ${snapshot:0:8} holds no database dump at $dump_dir/$dump_name"
  check_dump "$file" || die "the database dump in snapshot ${snapshot:0:8} is not a readable pg_dump archive"
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

# Merges a jq expression into the status file (written aside and renamed, so a reader never sees half of it).
record_status() {
  local current='{}'
  mkdir -p "$state_dir"
  if [ -s "$status_file" ]; then current=$(cat "$status_file"); fi
  jq "$@" <<<"$current" >"$status_file.tmp" && mv "$status_file.tmp" "$status_file"
}

# One backup, drill or restore at a time: a restore must not race the nightly backup. In the state folder, which
# exists on every host and in every test.
take_lock() {
  mkdir -p "$state_dir"
  exec 9>"$state_dir/backup.lock"
  flock -n 9 || die "another backup, drill or restore is running"
}
