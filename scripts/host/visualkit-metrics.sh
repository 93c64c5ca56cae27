#!/usr/bin/env bash
# visualkit-metrics: what no Debian exporter reports, written as a node-exporter textfile every minute by
# visualkit-metrics.timer. No exporter in bookworm covers these (cAdvisor is not packaged; the blackbox exporter
# reports a certificate's notAfter but not its notBefore, and the lifetime rule needs both):
#   containers   running, restart count, health, memory against its limit (docker inspect + the cgroup files)
#   routes       each public hostname through Caddy on this host (status code) and the certificate it serves
#   janus        whether Janus creates a session, and how many it holds (its admin API)
#   backups      the last successful backup and restore drill (the backup status file)
#
# Usage: visualkit-metrics            collect once, write $VISUALKIT_TEXTFILE_DIR/visualkit.prom
#        visualkit-metrics exporters [postgres|redis]
#                                     write /run/visualkit/<exporter>-exporter.env (the exporter's address and how
#                                     it logs in; each exporter's systemd drop-in runs this before its start)
# The Postgres exporter logs in as its own role, visualkit_monitor (pg_monitor's rights: statistics, no table data),
# to the `postgres` database, never as Chatwoot's superuser nor to the application's database (a restore renames that
# one and must end every session on it). The collector creates the role and sets its password, made once on this host
# and kept root-only in $VISUALKIT_PG_MONITOR_PASSWORD (/var/lib/visualkit/pg-monitor.password); the exporter reads it
# from a password file of its own user (PGPASSFILE), never from its DSN: Debian's exporter (0.11) logs the whole DSN
# whenever a connection fails, so a password there would land in the journal at every Postgres restart.
# Settings: /etc/visualkit/metrics.conf, secrets /etc/visualkit/monitoring.env (both written by the Monitoring
# component). The tests move every path and address with the VISUALKIT_* variables below.
set -uo pipefail

conf=${VISUALKIT_METRICS_CONF:-/etc/visualkit/metrics.conf}
secrets=${VISUALKIT_MONITORING_ENV:-/etc/visualkit/monitoring.env}
run_dir=${VISUALKIT_RUN_DIR:-/run/visualkit}
https_address=${VISUALKIT_HTTPS_ADDRESS:-127.0.0.1}
https_port=${VISUALKIT_HTTPS_PORT:-443}
cgroup_root=${VISUALKIT_CGROUP_ROOT:-/sys/fs/cgroup}
backup_conf=${VISUALKIT_BACKUP_CONF:-/etc/visualkit/backup.conf}
pg_monitor_password_file=${VISUALKIT_PG_MONITOR_PASSWORD:-/var/lib/visualkit/pg-monitor.password}
pg_monitor_pgpass=${VISUALKIT_PG_MONITOR_PGPASS:-/var/lib/prometheus/postgres-exporter.pgpass}
pg_monitor_role=visualkit_monitor
# Caddy's own CA (caddyTls: internal) is trusted beside the system's, so test hosts report their certificates too.
caddy_root_ca=${VISUALKIT_CADDY_ROOT_CA:-/var/lib/caddy/.local/share/caddy/pki/authorities/local/root.crt}
VISUALKIT_HOSTNAMES='' VISUALKIT_TEXTFILE_DIR=/var/lib/prometheus/node-exporter VISUALKIT_BACKUP_STATUS=''
VISUALKIT_JANUS_API='' VISUALKIT_JANUS_ADMIN='' VISUALKIT_PG_CONTAINER='' VISUALKIT_PG_USER=''
VISUALKIT_REDIS_CONTAINER=''
# shellcheck source=/dev/null
[ -r "$conf" ] && . "$conf"
JANUS_ADMIN_SECRET='' JANUS_TOKEN_SECRET='' REDIS_PASSWORD=''
# shellcheck source=/dev/null
[ -r "$secrets" ] && . "$secrets"

out=''
declare -A described=()
# metric NAME TYPE HELP VALUE [LABELS]
metric() {
  if [ -z "${described[$1]:-}" ]; then
    out+="# HELP $1 $3"$'\n'"# TYPE $1 $2"$'\n'
    described[$1]=1
  fi
  out+="$1${5:+{$5\}} $4"$'\n'
}
# A label value as the exposition format wants it.
label() { local v=${1//\\/\\\\}; v=${v//\"/\\\"}; printf '%s' "${v//$'\n'/\\n}"; }
epoch() { [ -n "$1" ] && date -u -d "$1" +%s 2>/dev/null; }

containers() {
  local ids rows name id running restarts health limit usage path
  ids=$(docker ps -aq 2>/dev/null) || return 0
  [ -n "$ids" ] || return 0
  # shellcheck disable=SC2086
  rows=$(docker inspect $ids | jq -r '.[] | select((.HostConfig.RestartPolicy.Name // "no") | . != "no" and . != "")
    | [(.Name | ltrimstr("/")), .Id, (if .State.Running then 1 else 0 end), .RestartCount, (.State.Health.Status // "none"), (.HostConfig.Memory // 0)] | @tsv') || return 0
  while IFS=$'\t' read -r name id running restarts health limit; do
    [ -n "$name" ] || continue
    local l
    l="name=\"$(label "$name")\""
    metric visualkit_container_running gauge "1 when the container runs (containers with a restart policy only)" "$running" "$l"
    metric visualkit_container_restarts_total counter "Docker's restart count of the container (starts again at 0 when it is replaced)" "$restarts" "$l"
    metric visualkit_container_health gauge "the container's health check status" 1 "$l,status=\"$health\""
    metric visualkit_container_memory_limit_bytes gauge "the container's memory limit; 0 without one" "$limit" "$l"
    usage=''
    for path in "$cgroup_root/system.slice/docker-$id.scope/memory.current" "$cgroup_root/docker/$id/memory.current"; do
      [ -r "$path" ] && { usage=$(<"$path"); break; }
    done
    [ -n "$usage" ] && metric visualkit_container_memory_bytes gauge "memory the container uses (cgroup memory.current)" "$usage" "$l"
  done <<<"$rows"
}

routes() {
  local h code up verify text before after ok ca=()
  [ -r "$caddy_root_ca" ] && ca=(-CAfile "$caddy_root_ca")
  for h in $VISUALKIT_HOSTNAMES; do
    local l="hostname=\"$h\""
    # Status only: the certificate is judged below. 4xx still means Caddy and the upstream answered.
    code=$(curl -sk -o /dev/null -w '%{http_code}' --max-time 10 --resolve "$h:$https_port:$https_address" "https://$h:$https_port/") || true
    up=0; [ "${code:-0}" -ge 200 ] 2>/dev/null && [ "$code" -lt 500 ] && up=1
    metric visualkit_route_up gauge "1 when the hostname answers through Caddy on this host with a status below 500" "$up" "$l"
    metric visualkit_route_status_code gauge "HTTP status of the hostname's / through Caddy on this host (0: no answer)" "${code:-0}" "$l"
    text=$(timeout 10 openssl s_client -connect "$https_address:$https_port" -servername "$h" -verify_hostname "$h" "${ca[@]}" </dev/null 2>/dev/null) || true
    verify=$(sed -n 's/^ *Verify return code: \([0-9]*\).*/\1/p' <<<"$text" | tail -n 1)
    ok=0; [ "$verify" = 0 ] && ok=1
    metric visualkit_tls_probe_success gauge "1 when the certificate served for the hostname verifies (chain, name, dates)" "$ok" "$l"
    text=$(openssl x509 -noout -startdate -enddate <<<"$text" 2>/dev/null) || continue
    before=$(epoch "$(sed -n 's/^notBefore=//p' <<<"$text")") || continue
    after=$(epoch "$(sed -n 's/^notAfter=//p' <<<"$text")") || continue
    metric visualkit_tls_cert_not_before_timestamp_seconds gauge "notBefore of the certificate served for the hostname" "$before" "$l"
    metric visualkit_tls_cert_not_after_timestamp_seconds gauge "notAfter of the certificate served for the hostname" "$after" "$l"
  done
}

# POST standard input to a Janus endpoint; the body (with the admin secret) never appears on a command line.
janus_post() { curl -s --max-time 5 -H 'Content-Type: application/json' --data-binary @- "$1"; }

janus() {
  [ -n "$VISUALKIT_JANUS_API" ] || return 0
  local reply session ok=0 count auth='' data sig
  # Janus checks a signed token on every request (janus.jcfg token_auth with token_auth_secret; src/auth.c at v1.1.2):
  # "<expiry>,janus:<base64 HMAC-SHA1 of the part before the colon>", as platform-api mints them for callers. This one
  # lives a minute and names no plugin: it may create and destroy a session, nothing else.
  if [ -n "$JANUS_TOKEN_SECRET" ]; then
    data="$(($(date +%s) + 60)),janus"
    sig=$(printf '%s' "$data" | openssl dgst -sha1 -hmac "$JANUS_TOKEN_SECRET" -binary | base64)
    auth=$(printf ',"token":"%s"' "$(label "$data:$sig")")
  fi
  reply=$(printf '{"janus":"create","transaction":"visualkit-metrics"%s}' "$auth" | janus_post "$VISUALKIT_JANUS_API") || true
  session=$(jq -r 'select(.janus == "success") | .data.id' <<<"$reply" 2>/dev/null) || true
  if [ -n "$session" ]; then
    ok=1
    printf '{"janus":"destroy","transaction":"visualkit-metrics"%s}' "$auth" | janus_post "$VISUALKIT_JANUS_API/$session" >/dev/null || true
  fi
  metric visualkit_janus_session_create_success gauge "1 when Janus created (and this collector destroyed) a session" "$ok"
  [ -n "$VISUALKIT_JANUS_ADMIN" ] || return 0
  reply=$(printf '{"janus":"list_sessions","transaction":"visualkit-metrics","admin_secret":"%s"}' "$(label "$JANUS_ADMIN_SECRET")" | janus_post "$VISUALKIT_JANUS_ADMIN") || true
  count=$(jq -r 'select(.janus == "success") | .sessions | length' <<<"$reply" 2>/dev/null) || true
  [ -n "$count" ] && metric visualkit_janus_sessions gauge "sessions Janus holds (admin API list_sessions)" "$count"
}

backups() {
  if [ -z "$VISUALKIT_BACKUP_STATUS" ]; then
    metric visualkit_backup_enabled gauge "1 when backups are configured on this host" 0
    return 0
  fi
  metric visualkit_backup_enabled gauge "1 when backups are configured on this host" 1
  local status='{}' since=0 t
  [ -r "$VISUALKIT_BACKUP_STATUS" ] && status=$(<"$VISUALKIT_BACKUP_STATUS")
  # Never succeeded: counted from when backups were installed, so a new host is not reported before its first night.
  [ -e "$backup_conf" ] && since=$(stat -c %Y "$backup_conf")
  t=$(epoch "$(jq -r '.backup.lastSuccess // empty' <<<"$status" 2>/dev/null)") || t=$since
  metric visualkit_backup_last_success_timestamp_seconds gauge "when the last backup succeeded (or backups were installed, before the first)" "${t:-$since}"
  t=$(epoch "$(jq -r '.drill.lastSuccess // empty' <<<"$status" 2>/dev/null)") || t=$since
  metric visualkit_backup_drill_last_success_timestamp_seconds gauge "when the last restore drill passed (or backups were installed, before the first)" "${t:-$since}"
  t=$(epoch "$(jq -r '.pitr.lastSuccess // empty' <<<"$status" 2>/dev/null)") || t=$since
  metric visualkit_backup_wal_push_last_success_timestamp_seconds gauge "when the WAL push timer last pushed the spooled WAL (or backups were installed, before the first)" "${t:-$since}"
}

address_of() { docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}' "$1" 2>/dev/null | awk '{print $1}'; }
# A value inside double quotes of a systemd EnvironmentFile.
env_value() { local v=${1//\\/\\\\}; printf '"%s"' "${v//\"/\\\"}"; }

# The exporter role's password (hex: nothing to quote in SQL or the password file), made on the first call. Starts
# that meet (the exporter's and the minute's run) agree: a new password is linked into place, never over another.
pg_monitor_password() {
  if [ ! -s "$pg_monitor_password_file" ]; then
    local new
    mkdir -p "$(dirname "$pg_monitor_password_file")" && new=$(umask 077 && mktemp "$pg_monitor_password_file.XXXXXX") || return 1
    openssl rand -hex 24 >"$new" && ln "$new" "$pg_monitor_password_file" 2>/dev/null
    rm -f "$new"
  fi
  local pw
  pw=$(cat "$pg_monitor_password_file") || return 1
  if ! [[ $pw =~ ^[0-9a-f]{32,}$ ]]; then
    echo "visualkit-metrics: $pg_monitor_password_file is not a password it made; delete it and a new one is made" >&2
    return 1
  fi
  printf '%s' "$pw"
}

# ensure_pg_monitor_role PASSWORD: creates the exporter's role when missing and sets its rights and password (through
# standard input, never on a command line). Safe to run again; a replaced or rebuilt Postgres gets it at its next address.
ensure_pg_monitor_role() {
  printf '%s\n' "\\set pw '$1'" "SET client_min_messages = warning;" \
    "SELECT 'CREATE ROLE $pg_monitor_role' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$pg_monitor_role') \\gexec" \
    "ALTER ROLE $pg_monitor_role WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS CONNECTION LIMIT 5 PASSWORD :'pw';" \
    "GRANT pg_monitor TO $pg_monitor_role;" |
    docker exec -i "$VISUALKIT_PG_CONTAINER" psql -X -q -v ON_ERROR_STOP=1 -U "$VISUALKIT_PG_USER" -d postgres >/dev/null
}

# write_pgpass PASSWORD: the exporter's password file (libpq's format), readable only by the exporter's user.
write_pgpass() {
  local tmp
  tmp=$(umask 077 && mktemp "$pg_monitor_pgpass.XXXXXX") || return 1
  if printf '*:*:*:%s:%s\n' "$pg_monitor_role" "$1" >"$tmp" &&
    { ! id -u prometheus >/dev/null 2>&1 || chown prometheus: "$tmp"; } && mv -f "$tmp" "$pg_monitor_pgpass"; then
    return 0
  fi
  rm -f "$tmp"
  return 1
}

# exporter_env postgres|redis: what that exporter's environment file must hold now (nothing without its container).
exporter_env() {
  local address
  case $1 in
    postgres)
      if [ -n "$VISUALKIT_PG_CONTAINER" ] && address=$(address_of "$VISUALKIT_PG_CONTAINER") && [ -n "$address" ]; then
        echo "DATA_SOURCE_NAME=$(env_value "host=$address port=5432 user=$pg_monitor_role dbname=postgres sslmode=disable")"
        echo "PGPASSFILE=$(env_value "$pg_monitor_pgpass")"
      fi
      ;;
    redis)
      if [ -n "$VISUALKIT_REDIS_CONTAINER" ] && address=$(address_of "$VISUALKIT_REDIS_CONTAINER") && [ -n "$address" ]; then
        # host:port: Debian's exporter (1.45) refuses the redis:// form ("dial redis: unknown network redis").
        echo "REDIS_ADDR=$(env_value "$address:6379")"
        echo "REDIS_PASSWORD=$(env_value "$REDIS_PASSWORD")"
      fi
      ;;
  esac
}

# Without its role the Postgres exporter gets no address (it exits, and systemd starts it again in 30 s): the file then
# differs from what exporter_env prints and the next minute's run tries again (no role while Postgres starts up).
write_exporter_env() {
  local env file="$run_dir/$1-exporter.env" pw tmp
  env=$(exporter_env "$1")
  # One read of the password for the role and the exporter's file, so the two cannot disagree.
  if [ "$1" = postgres ] && [ -n "$env" ] && ! { pw=$(pg_monitor_password) && ensure_pg_monitor_role "$pw" && write_pgpass "$pw"; }; then
    echo "visualkit-metrics: could not set up the role $pg_monitor_role in $VISUALKIT_PG_CONTAINER; trying again in a minute" >&2
    env=""
  fi
  # Its own temp file: the exporter's start and the minute's run may write at once.
  tmp=$(umask 077 && mkdir -p "$run_dir" && mktemp "$file.XXXXXX") || return 1
  if printf '%s' "${env:+$env$'\n'}" >"$tmp" && mv -f "$tmp" "$file"; then
    return 0
  fi
  rm -f "$tmp"
  return 1
}

if [ "${1:-}" = exporters ]; then
  # The one file both exporters shared before (it held the Redis password): gone with the first start of either.
  rm -f "$run_dir/exporters.env"
  case "${2:-}" in
    postgres | redis) write_exporter_env "$2" ;;
    "") write_exporter_env postgres && write_exporter_env redis ;;
    *)
      echo "usage: visualkit-metrics exporters [postgres|redis]" >&2
      exit 2
      ;;
  esac
  exit 0
fi

# A replaced Postgres or Redis container has a new address: each exporter follows it within a minute. Also the retry of
# a role that could not be made: an exporter is restarted only when its file did change.
for exporter in postgres redis; do
  exporter_file="$run_dir/$exporter-exporter.env"
  if [ -e "$exporter_file" ] && ! cmp -s <(exporter_env "$exporter") "$exporter_file"; then
    written=$(cat "$exporter_file")
    write_exporter_env "$exporter" && [ "$(cat "$exporter_file")" != "$written" ] &&
      systemctl try-restart "prometheus-$exporter-exporter" 2>/dev/null
  fi
done

containers
routes
janus
backups
metric visualkit_metrics_collector_last_run_timestamp_seconds gauge "when visualkit-metrics last wrote this file" "$(date +%s)"
mkdir -p "$VISUALKIT_TEXTFILE_DIR"
printf '%s' "$out" >"$VISUALKIT_TEXTFILE_DIR/visualkit.prom.$$" && mv -f "$VISUALKIT_TEXTFILE_DIR/visualkit.prom.$$" "$VISUALKIT_TEXTFILE_DIR/visualkit.prom"
