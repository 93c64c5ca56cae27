#!/usr/bin/env bash
# Point-in-time recovery of Chatwoot's database with pgBackRest (docs/backups.md, "Point-in-time recovery"). Sourced
# after backup-lib.sh by visualkit-pitr (pitr.sh), visualkit-backup, visualkit-restore and visualkit-backup-drill;
# never run.
#
# Postgres runs in the pgvector container, which has no pgBackRest: its archive_command copies each finished WAL
# segment into a spool folder on the data volume (catalog/pitr.ts). Here, on the host, pgBackRest pushes the spooled
# segments into its repository on the data volume, takes the nightly base backup (through the container's socket,
# mounted on the volume), and restic ships the whole repository off site, tagged <tag>-pitr, into the same restic
# repository as the dumps — append-only from this host like them. A recovery to a time restores a base backup into a
# scratch folder, replays the WAL in a scratch container of the live image up to the target, and hands back a dump
# of Chatwoot's database: the restore then swaps it in like a snapshot's dump, keeping the previous database.
#
# Settings (backup.conf): VISUALKIT_PITR=1 turns it on; VISUALKIT_PG_DATA (the data folder, at the same path inside
# the container: PGDATA), VISUALKIT_PG_SOCKET (the container's socket folder on the host), VISUALKIT_WAL_SPOOL,
# VISUALKIT_PITR_REPO (pgBackRest's repository), VISUALKIT_PITR_DAYS (the window: full backups kept by age).
# pgBackRest gets every setting from the environment (PGBACKREST_*; no /etc/pgbackrest.conf): no secret among them,
# the repository on the volume is as readable as the data folder beside it, and restic encrypts what leaves the host.
# shellcheck disable=SC2034,SC2016,SC2154 # variables of backup-lib.sh and the sourcing script

pitr_on() { [ "${VISUALKIT_PITR:-}" = 1 ]; }

pitr_settings() {
  pitr_on || die "point-in-time recovery is off on this host (VISUALKIT_PITR in $backup_conf); it comes with visualkit:backupsEnabled"
  : "${VISUALKIT_PG_DATA:?VISUALKIT_PG_DATA missing in $backup_conf}"
  : "${VISUALKIT_PG_SOCKET:?VISUALKIT_PG_SOCKET missing in $backup_conf}"
  : "${VISUALKIT_WAL_SPOOL:?VISUALKIT_WAL_SPOOL missing in $backup_conf}"
  : "${VISUALKIT_PITR_REPO:?VISUALKIT_PITR_REPO missing in $backup_conf}"
  umask 077
  pitr_tag="$backup_tag-pitr"
  pitr_lock_dir="$state_dir/pgbackrest"
  mkdir -p "$pitr_lock_dir"
  export PGBACKREST_CONFIG=/dev/null
  export PGBACKREST_STANZA=${VISUALKIT_PITR_STANZA:-chatwoot}
  export PGBACKREST_REPO1_PATH=$VISUALKIT_PITR_REPO
  export PGBACKREST_PG1_PATH=$VISUALKIT_PG_DATA
  export PGBACKREST_PG1_SOCKET_PATH=$VISUALKIT_PG_SOCKET
  export PGBACKREST_PG1_USER=$pg_user
  export PGBACKREST_LOCK_PATH=$pitr_lock_dir
  export PGBACKREST_LOG_LEVEL_CONSOLE=off PGBACKREST_LOG_LEVEL_STDERR=warn PGBACKREST_LOG_LEVEL_FILE=off
  export PGBACKREST_COMPRESS_TYPE=zst PGBACKREST_START_FAST=y
  # The archive_command is the container's copy to the spool, not pgBackRest's: its check would refuse it. The
  # backup's own WAL is pushed right after it and then fetched back (pitr_base), which checks the same thing.
  export PGBACKREST_ARCHIVE_CHECK=n
  # Full backups kept by age: the newest one older than the window stays, so every moment of the window has one.
  export PGBACKREST_REPO1_RETENTION_FULL_TYPE=time PGBACKREST_REPO1_RETENTION_FULL=${VISUALKIT_PITR_DAYS:-7}
}

pitr_psql() { docker exec -i "$pg_container" psql -X -q -At -v ON_ERROR_STOP=1 -U "$pg_user" -d postgres "$@"; }

# The spool belongs to the container's postgres user (the owner of the data folder), and the marker turns copying on.
pitr_spool_ready() {
  local owner
  owner=$(stat -c %u:%g "$VISUALKIT_PG_DATA") || die "the data folder $VISUALKIT_PG_DATA does not exist; is chatwoot-postgres deployed?"
  mkdir -p "$VISUALKIT_WAL_SPOOL"
  chown "$owner" "$VISUALKIT_WAL_SPOOL"
  chmod 0700 "$VISUALKIT_WAL_SPOOL"
  if [ ! -f "$VISUALKIT_WAL_SPOOL/.on" ]; then
    touch "$VISUALKIT_WAL_SPOOL/.on"
    chown "$owner" "$VISUALKIT_WAL_SPOOL/.on"
  fi
  # The archive_command skips the copy when it does not see the marker (catalog/pitr.ts), so check that Postgres's own
  # user sees it where the command looks: a container started before the spool was mounted would lose WAL silently.
  docker exec -u postgres "$pg_container" test -f "$VISUALKIT_WAL_SPOOL/.on" ||
    die "$pg_container does not see $VISUALKIT_WAL_SPOOL/.on as its postgres user: the WAL is not archived; pulumi up recreates the container with the spool mounted"
}

pitr_has_stanza() { [ -s "$VISUALKIT_PITR_REPO/backup/$PGBACKREST_STANZA/backup.info" ]; }

pitr_stanza() {
  pitr_has_stanza && return 0
  echo "$script_name: creating the pgBackRest stanza $PGBACKREST_STANZA in $VISUALKIT_PITR_REPO"
  pgbackrest stanza-create || die "pgbackrest stanza-create failed (is $pg_container running, its socket in $VISUALKIT_PG_SOCKET?)"
}

# pgBackRest's view of the repository (JSON); the first stanza.
pitr_info() { pgbackrest info --output=json | jq '.[0]'; }

# Pushes every spooled segment, oldest first, and removes it once pushed. Prints how many.
pitr_push_spool() {
  local n=0 f
  while IFS= read -r f; do
    pgbackrest archive-push "$VISUALKIT_WAL_SPOOL/$f" || die "pgbackrest archive-push of $f failed; it stays in $VISUALKIT_WAL_SPOOL"
    rm -f "$VISUALKIT_WAL_SPOOL/$f"
    n=$((n + 1))
  done < <(find "$VISUALKIT_WAL_SPOOL" -maxdepth 1 -type f -printf '%f\n' | grep -E '^([0-9A-F]{24}(\.[0-9A-F]{8}\.backup|\.partial)?|[0-9A-F]{8}\.history)$' | LC_ALL=C sort)
  echo "$n"
}

# Ships pgBackRest's repository into the restic repository (tag <tag>-pitr). Every snapshot holds the whole local
# repository, so the newest one alone recovers any moment of the window.
pitr_ship() {
  local summary id
  if [ -z "${pitr_repository_open:-}" ]; then
    open_repository init
    pitr_repository_open=1
  fi
  summary=$(run_restic backup --json --tag "$pitr_tag" "$VISUALKIT_PITR_REPO" | jq -c 'select(.message_type == "summary")') || die "restic backup of $VISUALKIT_PITR_REPO failed"
  id=$(jq -r '.snapshot_id // empty' <<<"$summary")
  [ -n "$id" ] || die "restic reported no snapshot id for $VISUALKIT_PITR_REPO"
  record_status --arg t "$(now)" --arg s "$id" '.pitr.lastShip = $t | .pitr.snapshot = $s'
}

# Postgres's archiver state: fails when its last attempt failed (the spool is not writable, the disk is full), since
# the segments then pile up in pg_wal and the recovery point grows.
pitr_archiver_ok() {
  local row
  row=$(pitr_psql -F ' ' -c "SELECT coalesce(extract(epoch FROM last_failed_time)::bigint, 0), coalesce(extract(epoch FROM last_archived_time)::bigint, 0), coalesce(last_failed_wal, '') FROM pg_stat_archiver") || die "cannot ask $pg_container for its archiver state"
  read -r failed archived wal <<<"$row"
  if [ "$failed" -gt "$archived" ]; then
    die "Postgres failed to archive $wal into $VISUALKIT_WAL_SPOOL (its last success is older): WAL piles up in pg_wal; docker logs $pg_container says why"
  fi
}

# One run of the push timer: the stanza (first run), the spooled segments, the first base backup when there is none
# yet, and the shipment when anything new was pushed.
pitr_push() {
  local pushed
  pitr_spool_ready
  pitr_stanza
  pushed=$(pitr_push_spool)
  if [ "$(pitr_info | jq '.backup | length')" = 0 ]; then
    pitr_base
    return 0
  fi
  if [ "$pushed" -gt 0 ] || [ "${1:-}" = --ship ]; then pitr_ship; fi
  pitr_archiver_ok
  record_status --arg t "$(now)" --argjson n "$pushed" '.pitr.lastSuccess = $t | .pitr.lastPushed = $n'
  echo "pushed $pushed WAL segments"
}

# A full base backup (then pgBackRest expires what the window no longer needs), its WAL pushed and read back, shipped.
pitr_base() {
  local label stop tmp
  pitr_spool_ready
  pitr_stanza
  pgbackrest backup --type=full || die "pgbackrest backup failed"
  label=$(pitr_info | jq -r '.backup | last | .label')
  stop=$(pitr_info | jq -r '.backup | last | .archive.stop')
  # Without pgBackRest's own archive check its backup does not wait for its last segment to be archived.
  pitr_wait_archived "$stop"
  pitr_push_spool >/dev/null
  tmp=$(mktemp -d)
  pgbackrest archive-get "$stop" "$tmp/$stop" || die "the base backup $label is not recoverable: its last WAL $stop is not in the repository"
  rm -rf "$tmp"
  pitr_ship
  record_status --arg t "$(now)" --arg l "$label" '.pitr.lastSuccess = $t | .pitr.lastBase = $t | .pitr.base = $l'
  echo "base backup $label"
}

# Closes the current WAL segment with a commit after this moment in it, waits until Postgres spooled it, and pushes
# it: afterwards the repository reaches every commit made before the call. (Recovery to a time stops at the first
# commit after the target; without one after it, Postgres refuses to end the recovery.)
pitr_catch_up() {
  local wal
  wal=$(pitr_psql -c "SELECT pg_current_xact_id()" -c "SELECT pg_walfile_name(pg_switch_wal())" | tail -n 1) || die "cannot switch the WAL of $pg_container"
  pitr_wait_archived "$wal"
  pitr_push_spool >/dev/null
}

# Waits until Postgres has archived (spooled) the segment WAL.
pitr_wait_archived() {
  local wal=$1 i
  for i in $(seq 1 60); do
    if [ "$(pitr_psql -c "SELECT coalesce(last_archived_wal, '') >= '$wal' FROM pg_stat_archiver")" = t ]; then return 0; fi
    [ "$i" -lt 60 ] || die "Postgres did not archive $wal within 60 s (pg_stat_archiver); see docker logs $pg_container"
    sleep 1
  done
}

# A timestamp as given (--to-time) to seconds since the epoch, or exit naming the accepted forms. A zone is required:
# a restore to the wrong hour is worse than a refusal.
pitr_parse_time() {
  local t=$1 e
  if ! [[ $t =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}[T\ ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)$ ]] ||
    ! e=$(date -u -d "$t" +%s.%6N 2>/dev/null); then
    die "--to-time '$t' is not a timestamp with a zone: give it as 2026-12-05T14:30:00Z (UTC) or 2026-12-05T15:30:00+01:00"
  fi
  echo "$e"
}

# The start of the window (seconds since the epoch): the end of the oldest base backup in the repository.
pitr_window_start() { pitr_info | jq -r '[.backup[].timestamp.stop] | min // empty'; }
utc() { date -u -d "@${1%.*}" +%Y-%m-%dT%H:%M:%SZ; }

# Makes a pgBackRest repository whose window holds TARGET (as given) usable for the recovery, or exits with the window:
# the local one when its oldest base backup ended before the target (then caught up to now, so its window ends now);
# otherwise the copies shipped off site, the newest of each host first (after the server was lost, the new host's own
# repository starts after the target), each restored into WORK. Sets pitr_target (epoch) and PGBACKREST_REPO1_PATH.
pitr_prepare() {
  local given=$1 work=$2 start="" end list snap time i=0 shown_window=""
  pitr_target=$(pitr_parse_time "$given")
  # Now to the nanosecond: a target given to the millisecond within the current second is not in the future.
  end=$(date -u +%s.%N)
  if awk -v t="$pitr_target" -v e="$end" 'BEGIN { exit !(t > e) }'; then
    die "--to-time $given is in the future (now is $(utc "$end")): nothing is archived after now"
  fi
  if pitr_has_stanza; then start=$(pitr_window_start 2>/dev/null || true); fi
  if [ -n "$start" ]; then
    shown_window="$(utc "$start") to $(utc "$end")"
    if ! awk -v t="$pitr_target" -v s="$start" 'BEGIN { exit !(t < s) }'; then
      pitr_catch_up
      return 0
    fi
  fi
  list=$(run_restic snapshots --json --tag "$pitr_tag") || exit 1
  while read -r snap time; do
    [ -n "$snap" ] || continue
    i=$((i + 1))
    run_restic restore "$snap" --target "$work/offsite-$i" --include "$VISUALKIT_PITR_REPO" >/dev/null || die "restic restore of the point-in-time copy ${snap:0:8} failed"
    export PGBACKREST_REPO1_PATH="$work/offsite-$i$VISUALKIT_PITR_REPO"
    start=$(pitr_window_start 2>/dev/null || true)
    end=$(date -u -d "$time" +%s)
    [ -n "$shown_window" ] || shown_window="$(utc "${start:-$end}") to $(utc "$end")"
    if [ -n "$start" ] && awk -v t="$pitr_target" -v s="$start" -v e="$end" 'BEGIN { exit !(t >= s && t <= e) }'; then
      echo "$script_name: recovering from the copy shipped off site at $(utc "$end") (snapshot ${snap:0:8})"
      return 0
    fi
  done < <(jq -r 'group_by(.hostname) | map(max_by(.time)) | sort_by(.time) | reverse | .[] | "\(.id) \(.time)"' <<<"$list")
  [ -n "$shown_window" ] || die "no base backup in pgBackRest's repository nor off site (tag $pitr_tag) yet: nothing to recover to $given"
  die "--to-time $given is outside the recovery window ($shown_window): no base backup ended before it"
}

# Recovers the cluster to pitr_target in a scratch container NAME of the live image, its data and the WAL it replays in
# WORK (the data volume). Returns when the scratch server has ended its recovery and accepts connections; exits
# (the live database untouched) when the archive does not reach the target.
pitr_recover() {
  local name=$1 work=$2 set target wal_start n image i state
  target=$(date -u -d "@$pitr_target" '+%Y-%m-%d %H:%M:%S.%6N+00')
  # The newest backup that ended before the target; its first WAL segment is where the replay starts.
  set=$(pitr_info | jq -r --argjson t "$pitr_target" '[.backup[] | select(.timestamp.stop <= $t)] | last | .label // empty')
  [ -n "$set" ] || die "no base backup ended before $(utc "$pitr_target")"
  wal_start=$(pitr_info | jq -r --arg l "$set" '.backup[] | select(.label == $l) | .archive.start')
  mkdir -p "$work/data" "$work/wal"
  # The recovering server (the image's postgres user) reaches these two folders through their bind mounts; a server
  # started on the host's own paths (the tests' stand-in for Docker) needs to pass through the folders above them.
  # Everything else in them is root's alone (umask 077, pitr_settings).
  chmod 0711 "$dump_dir" "$work"
  # archive-get checks the segments against this cluster: the restored one (the live one may be a new cluster).
  export PGBACKREST_PG1_PATH="$work/data"
  echo "recovering to $(utc "$pitr_target") from base backup $set"
  pgbackrest restore --pg1-path="$work/data" --set="$set" --type=time --target="$target" --target-action=promote \
    --recovery-option="restore_command=cp $work/wal/%f %p" || die "pgbackrest restore of $set failed"
  # Every segment from the backup's first on, and the timeline histories, for the scratch server's restore_command.
  while IFS= read -r n; do
    pgbackrest archive-get "$n" "$work/wal/$n" || die "pgbackrest archive-get $n failed"
  done < <(find "$PGBACKREST_REPO1_PATH/archive/$PGBACKREST_STANZA" -type f -printf '%f\n' | sed -E 's/-[0-9a-f]{40}(\..*)?$//' |
    grep -E '^([0-9A-F]{24}|[0-9A-F]{8}\.history)$' | LC_ALL=C sort -u | awk -v s="$wal_start" '/history/ || $0 >= s')
  chown -R "$(stat -c %u:%g "$VISUALKIT_PG_DATA")" "$work/data" "$work/wal"
  chmod 0700 "$work/data"
  image=$(docker inspect --format '{{.Config.Image}}' "$pg_container")
  # No network: nothing reaches the scratch server but docker exec, and it archives nothing (no archive settings).
  # The image ignores POSTGRES_HOST_AUTH_METHOD for an existing data folder; it only spares the password check of
  # entrypoints that make it regardless (the real-host tier's stand-in image did).
  docker run -d --name "$name" --network none -e POSTGRES_HOST_AUTH_METHOD=trust -e PGDATA="$work/data" -v "$work/data:$work/data" -v "$work/wal:$work/wal:ro" "$image" >/dev/null
  for i in $(seq 1 "${VISUALKIT_PITR_RECOVERY_SECONDS:-1800}"); do
    if [ "$(docker exec "$name" psql -X -q -At -U "$pg_user" -d postgres -c 'SELECT pg_is_in_recovery()' 2>/dev/null)" = f ]; then
      echo "recovered to $(utc "$pitr_target")"
      return 0
    fi
    state=$(docker inspect --format '{{.State.Status}}' "$name" 2>/dev/null || echo gone)
    if [ "$state" = exited ] || [ "$state" = gone ]; then
      docker logs --tail 30 "$name" 2>&1 | sed 's/^/  postgres: /' >&2 || true
      die "the recovery to $(utc "$pitr_target") did not complete (the archive may end before it); the live database is unchanged"
    fi
    sleep 1
  done
  die "the recovery to $(utc "$pitr_target") did not finish within ${VISUALKIT_PITR_RECOVERY_SECONDS:-1800} s"
}
