#!/usr/bin/env bash
# Waits until a new host can take deployments: cloud-init has finished without errors, the Docker daemon and
# Caddy answer. Fails with what is wrong and where to look when that does not happen within the time limit.
# Sent over SSH by the HetznerHost component as the standard input of `bash -s -- TIMEOUT_SECONDS`.
#
# Usage: wait-ready.sh [TIMEOUT_SECONDS]   (default 900)
set -euo pipefail

timeout_seconds=${1:-900}
deadline=$((SECONDS + timeout_seconds))

fail() {
  echo "host not ready: $*" >&2
  echo "look at: cloud-init status --long; tail -n 50 /var/log/cloud-init-output.log; systemctl status docker caddy" >&2
  exit 1
}

left() {
  local n=$((deadline - SECONDS))
  if [ "$n" -lt 1 ]; then echo 1; else echo "$n"; fi
}

status=0
timeout "$(left)" cloud-init status --wait >/dev/null || status=$?
if [ "$status" -eq 124 ]; then
  fail "cloud-init still running after ${timeout_seconds}s"
elif [ "$status" -eq 2 ]; then
  # cloud-init 23.4+ exits 2 for "done with recoverable errors" (deprecated keys and the like): worth a look, not fatal.
  echo "warning: cloud-init finished with recoverable errors: $(cloud-init status --long 2>&1 | tr '\n' ' ')" >&2
elif [ "$status" -ne 0 ]; then
  fail "cloud-init finished with errors: $(cloud-init status --long 2>&1 | tr '\n' ' ')"
fi

until docker info --format '{{.ServerVersion}}' >/dev/null 2>&1; do
  [ "$SECONDS" -lt "$deadline" ] || fail "the Docker daemon does not answer on /var/run/docker.sock after ${timeout_seconds}s"
  sleep 3
done

# Any HTTP answer on port 80 will do: before the platform's Caddyfile is deployed Caddy serves Debian's default
# page, afterwards it answers unknown hosts with an empty response.
until curl --silent --output /dev/null --max-time 5 http://127.0.0.1/; do
  [ "$SECONDS" -lt "$deadline" ] || fail "Caddy does not answer on http://127.0.0.1/ after ${timeout_seconds}s"
  sleep 3
done

echo "host ready: cloud-init done, Docker $(docker info --format '{{.ServerVersion}}'), $(caddy version | cut -d' ' -f1)"
