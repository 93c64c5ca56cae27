#!/usr/bin/env bash
# Makes sure the real tools the tests drive are installed: each generated file is checked by the program that
# will consume it on the server. As root (CI, containers) it installs what is missing from Debian; otherwise it
# prints the command to run and fails, so no test is silently skipped.
set -euo pipefail

# command -> Debian package
declare -A tools=(
  [caddy]=caddy
  [janus]=janus
  [janus-cfgconv]=janus
  [cloud-init]=cloud-init
  [shellcheck]=shellcheck
  # The takeover's database copy (scripts/host/pg-copy.sh) is tested between two real databases.
  [pg_ctlcluster]=postgresql
  [pg_restore]=postgresql-client
  # The backup tests: restic against a local sshd (SFTP) and s3rver (over TLS, certificate from openssl), Debian's
  # PostgreSQL in place of the container's.
  [restic]=restic
  # The append-only repository key: rclone serve restic --append-only, forced on the sshd's key (docs/backups.md).
  [rclone]=rclone
  # Point-in-time recovery (scripts/host/pitr.sh): Debian's pgBackRest against the test's PostgreSQL.
  [pgbackrest]=pgbackrest
  [sshd]=openssh-server
  [ssh]=openssh-client
  [jq]=jq
  [openssl]=openssl
  [runuser]=util-linux
  # The Janus image's entry point (images/janus/start-janus.sh) finds the interface of its bind address.
  [ip]=iproute2
  # test/sequence: remote steps on an overlay copy of this machine (unshare), the host timers and the backup timers' OnCalendar subset (config/calendar.ts) (systemd-analyze), the
  # image delete and prune rules against a real Docker engine with a busybox image.
  [unshare]=util-linux
  [systemd-analyze]=systemd
  [docker]=docker.io
  # Host key pinning (test/lib/ssh-host-key.test.ts): an SSH client built from golang.org/x/crypto/ssh as the command
  # provider builds its connection, in GOPATH mode against Debian's copy of the library (no module download).
  [go]=golang-go
  # Chatwoot's Redis health check against a real Redis (test/components/redis-health.test.ts).
  [redis-server]=redis-server
  [redis-cli]=redis-tools
  # Container limits against a real Docker Engine started by the test (test/components/container-limits-docker.test.ts).
  [dockerd]=docker.io
  [busybox]=busybox-static
  # Monitoring (docs/monitoring.md): the alert rules and configs are checked by the tools the host runs, and the
  # collector's metrics by promtool; the exporters' own metric names are read from the real binaries.
  [promtool]=prometheus
  [amtool]=prometheus-alertmanager
  [prometheus-node-exporter]=prometheus-node-exporter
  [prometheus-postgres-exporter]=prometheus-postgres-exporter
  [prometheus-redis-exporter]=prometheus-redis-exporter
  # The TURN tests (test/render/coturn*.test.ts): Debian's coturn with its turnutils clients, iptables to drop a
  # caller namespace's UDP, nftables for the host's TCP 443 redirect (scripts/host/install-coturn.sh), curl.
  [turnserver]=coturn
  [turnutils_uclient]=coturn
  [turnutils_peer]=coturn
  [iptables]=iptables
  [nft]=nftables
  [curl]=curl
)

missing=()
for cmd in "${!tools[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${tools[$cmd]}")
done
# The server binaries of PostgreSQL are not on PATH.
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
[ -d /usr/share/gocode/src/golang.org/x/crypto/ssh ] || missing+=(golang-golang-x-crypto-dev)
[ "${#missing[@]}" -eq 0 ] && exit 0
mapfile -t packages < <(printf '%s\n' "${missing[@]}" | sort -u)

if [ "$(id -u)" -ne 0 ]; then
  echo "test tools missing: ${packages[*]}" >&2
  echo "install them with: sudo apt-get install -y --no-install-recommends ${packages[*]}" >&2
  exit 1
fi
echo "installing test tools: ${packages[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
# The Debian packages start services on install where an init system runs; the tests start their own.
for svc in caddy janus ssh postgresql redis-server docker containerd prometheus prometheus-alertmanager prometheus-node-exporter prometheus-postgres-exporter prometheus-redis-exporter coturn; do
  systemctl disable --now "$svc" >/dev/null 2>&1 || true
done
