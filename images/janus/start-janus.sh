#!/bin/sh
# Entry point of the Janus image: waits until every address the uploaded transport configs bind to (ip, admin_ip,
# ws_ip, admin_ws_ip) sits on an interface that has carrier, then execs Janus with the given arguments.
#
# Why: Janus 1.1.2's HTTP transport binds its `ip` only when that address is on an interface that is up and running;
# otherwise it logs "Error binding to IP" and Janus runs on without its HTTP and admin APIs (its health check then
# fails for good, nobody restarts it). The program binds them to the Docker bridge gateway, and a Docker bridge has
# no carrier until a container's veth on it is up: on a first deploy Janus raced the other containers' creation, and
# after a reboot Docker starts all containers at once (both found by the real-host tier, test/host).
# When the wait runs out the script exits 1 and Docker's restart policy starts it again.
#
# Usage: start-janus.sh JANUS [ARG...]   e.g. start-janus.sh /usr/bin/janus --configs-folder=/etc/janus
#   VISUALKIT_JANUS_CONFIGS     folder of the transport configs (default: the --configs-folder argument, else /etc/janus)
#   VISUALKIT_JANUS_BIND_WAIT   seconds to wait before giving up (default 120)
#   VISUALKIT_SYS_CLASS_NET     where interfaces' carrier is read (default /sys/class/net; the tests point it elsewhere)
set -eu

if [ "$#" -eq 0 ]; then
  echo "usage: $0 JANUS [ARG...]" >&2
  exit 2
fi

configs=${VISUALKIT_JANUS_CONFIGS:-}
if [ -z "$configs" ]; then
  configs=/etc/janus
  for arg in "$@"; do
    case $arg in --configs-folder=*) configs=${arg#--configs-folder=} ;; esac
  done
fi
wait_seconds=${VISUALKIT_JANUS_BIND_WAIT:-120}
sys_net=${VISUALKIT_SYS_CLASS_NET:-/sys/class/net}

# `ip = "172.18.0.1"`-style lines of the transports; 0.0.0.0 and :: need no interface.
addresses=$(sed -n 's/^[[:space:]]*\(ip\|admin_ip\|ws_ip\|admin_ws_ip\)[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\2/p' \
  "$configs"/janus.transport.*.jcfg 2>/dev/null | grep -v -x -e '0.0.0.0' -e '::' | sort -u || true)

# Prints the interface holding the address when it has carrier; fails otherwise.
carrier_of() {
  dev=$(ip -o addr show to "$1" 2>/dev/null | awk '{ print $2; exit }')
  [ -n "$dev" ] || return 1
  [ "$(cat "$sys_net/$dev/carrier" 2>/dev/null || echo 0)" = 1 ] || return 1
  echo "$dev"
}

waited=0
for address in $addresses; do
  until dev=$(carrier_of "$address"); do
    if [ "$waited" -ge "$wait_seconds" ]; then
      echo "start-janus: $address is not on an interface with carrier after ${waited} s; exiting so Docker restarts Janus" >&2
      exit 1
    fi
    [ $((waited % 10)) -eq 0 ] && echo "start-janus: waiting for $address to be on an interface with carrier (Janus cannot bind it before)" >&2
    sleep 1
    waited=$((waited + 1))
  done
  echo "start-janus: $address is on $dev"
done
exec "$@"
