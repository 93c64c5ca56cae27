#!/usr/bin/env bash
# Builds what the real-host tier boots, from Debian's archive only (nothing prebuilt can be downloaded here):
#   base/   a bookworm server disk (ext4, no partitions) with its kernel and initrd, shaped like Hetzner's Debian 12
#           image: cloud-init, openssh, locales (cloud-init without them ends in `status: error`), upgraded.
#   apps/   one root file system for the container images (janus, postgresql, redis, python3, curl) as rootfs.tar,
#           which the tier streams to the native host's `docker import -`.
# Each result is cached under CACHE/<part>-<hash of this script and its inputs>, so a rerun costs nothing and any
# change to the inputs builds afresh. The server disk also ages: one built more than VISUALKIT_BASE_MAX_AGE_DAYS
# (default 3) days ago is built again, since an aged base makes cloud-init's package upgrade do real work in the
# emulated VM (307–393 s with a same-day base, 559–621 s seen in CI); its build date (base/built) is part of the VM
# lane's cache key. Needs root (debootstrap, chroot); run by the tier's first phases.
#
# Usage: build-images.sh CACHE_DIR   prints "base=<dir>" and "apps=<dir>" (VISUALKIT_IMAGE_PARTS="base apps")
set -euo pipefail

cache=${1:?usage: build-images.sh CACHE_DIR}
here="$(cd "$(dirname "$0")" && pwd)"
mirror=${VISUALKIT_DEBIAN_MIRROR:-http://deb.debian.org/debian}
security=${VISUALKIT_DEBIAN_SECURITY:-http://deb.debian.org/debian-security}
mkdir -p "$cache"

base_packages=linux-image-cloud-amd64,systemd-sysv,udev,cloud-init,python3-cffi-backend,openssh-server,ifupdown,isc-dhcp-client,ca-certificates,locales,e2fsprogs,procps,iproute2,curl,dbus
# Everything the test containers run: the real Janus, Postgres and Redis, python3 for the stand-ins, and the tools
# their health checks call (curl, pgrep from procps).
apps_packages=janus,curl,ca-certificates,iproute2,postgresql,redis-server,redis-tools,python3,procps

# The hash covers the functions and package list that make a part, so editing one part leaves the other cached.
hash_of() { { declare -f "$1" upgrade sources in_chroot; echo "$2"; shift 2; cat "$@"; } | sha256sum | cut -c1-16; }

sources() {
  cat >"$1/etc/apt/sources.list" <<SOURCES
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb $security bookworm-security main
SOURCES
}

in_chroot() {
  local root=$1
  shift
  mount --bind /proc "$root/proc"
  mount --bind /dev "$root/dev"
  mount --bind /sys "$root/sys"
  local rc=0
  chroot "$root" /usr/bin/env DEBIAN_FRONTEND=noninteractive LC_ALL=C "$@" || rc=$?
  umount "$root/sys" "$root/dev" "$root/proc"
  return "$rc"
}

upgrade() {
  sources "$1"
  in_chroot "$1" apt-get update -qq
  in_chroot "$1" apt-get -y -qq -o Dpkg::Options::=--force-confold dist-upgrade >/dev/null
  in_chroot "$1" apt-get clean
  rm -rf "$1"/var/lib/apt/lists/*
}

build_base() {
  local out=$1 work=$1.tmp
  rm -rf "$work"
  mkdir -p "$work"
  debootstrap --variant=minbase --include="$base_packages" bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    { tail -n 30 "$work/debootstrap.log" >&2; exit 1; }
  upgrade "$work/rootfs"
  echo "en_US.UTF-8 UTF-8" >"$work/rootfs/etc/locale.gen"
  in_chroot "$work/rootfs" locale-gen >/dev/null
  echo "LANG=en_US.UTF-8" >"$work/rootfs/etc/default/locale"
  # An empty machine-id: systemd makes a new one on first boot, like a fresh cloud image.
  : >"$work/rootfs/etc/machine-id"
  rm -f "$work/rootfs/var/lib/dbus/machine-id"
  echo "LABEL=root / ext4 defaults 0 1" >"$work/rootfs/etc/fstab"
  cat >"$work/rootfs/etc/network/interfaces" <<'NET'
auto lo
iface lo inet loopback
auto eth0
iface eth0 inet dhcp
NET
  # Only NoCloud is attached; probing for every cloud's metadata service costs minutes under emulation.
  echo "datasource_list: [ NoCloud, None ]" >"$work/rootfs/etc/cloud/cloud.cfg.d/90-visualkit-test.cfg"
  rm -f "$work"/rootfs/etc/ssh/ssh_host_*
  cp -L "$work/rootfs/vmlinuz" "$work/vmlinuz"
  cp -L "$work/rootfs/initrd.img" "$work/initrd.img"
  mkfs.ext4 -q -L root -d "$work/rootfs" "$work/base.raw" 8G
  rm -rf "$work/rootfs"
  mv "$work" "$out"
}

build_apps() {
  local out=$1 work=$1.tmp root
  rm -rf "$work"
  mkdir -p "$work"
  root=$work/rootfs
  # Like the Dockerfiles' `apt-get install --no-install-recommends` on bookworm-slim: debootstrap's --include does
  # not resolve alternatives (janus's glib pulls dconf, which wants "a" session bus), apt does.
  debootstrap --variant=minbase bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    { tail -n 30 "$work/debootstrap.log" >&2; exit 1; }
  upgrade "$root"
  sources "$root"
  in_chroot "$root" apt-get update -qq
  # shellcheck disable=SC2086 # a list of package names
  in_chroot "$root" apt-get install -y -qq --no-install-recommends ${apps_packages//,/ } >"$work/apt.log" 2>&1 ||
    { tail -n 30 "$work/apt.log" >&2; exit 1; }
  in_chroot "$root" apt-get clean
  rm -rf "$root"/var/lib/apt/lists/*
  # The shape images/janus/Dockerfile gives the production Janus image (its RUN step, without apt): the multiarch
  # link, no sample configs, the uid 10001 that owns the uploaded configs.
  # shellcheck disable=SC2016 # expanded by the chroot's shell
  in_chroot "$root" sh -euc '
    multiarch="$(dirname "$(dpkg -L janus | grep -m1 "/janus/plugins$")")"
    ln -s "$multiarch" /usr/lib/janus
    test -e /usr/lib/janus/transports/libjanus_websockets.so
    mkdir -p /usr/share/doc/janus/examples
    mv /etc/janus/*.jcfg /usr/share/doc/janus/examples/
    useradd --system --uid 10001 --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin janus
  '
  install -m 0755 "$here/images/entrypoint.sh" "$root/usr/local/bin/visualkit-entrypoint"
  install -m 0755 "$here/images/standin.py" "$root/usr/local/bin/visualkit-standin"
  # The Janus image's own entry point (images/janus/Dockerfile COPYs it to the same path).
  install -m 0755 "$here/../../images/janus/start-janus.sh" "$root/usr/local/bin/start-janus"
  # Chatwoot's image layout the program relies on: WORKDIR /app, docker/entrypoints/rails.sh, `bundle exec ...`.
  ln -s visualkit-standin "$root/usr/local/bin/bundle"
  mkdir -p "$root/app/docker/entrypoints" "$root/app/config"
  printf '#!/bin/sh\nset -e\nrm -f /app/tmp/pids/server.pid\nexec "$@"\n' >"$root/app/docker/entrypoints/rails.sh"
  chmod 0755 "$root/app/docker/entrypoints/rails.sh"
  # Smaller is faster to import: no docs or translations, no default cluster (the entry point makes
  # one on the volume), no JIT for Postgres (its LLVM is a third of the file system; without llvmjit.so Postgres
  # simply runs without JIT).
  rm -rf "$root"/usr/share/doc/* "$root"/usr/share/man "$root"/usr/share/info "$root"/usr/share/locale/* "$root"/usr/share/i18n \
    "$root"/var/cache/apt/*.bin "$root"/var/lib/postgresql/* "$root"/etc/postgresql/*
  rm -f "$root"/usr/lib/postgresql/*/lib/llvmjit*.so "$root"/usr/lib/x86_64-linux-gnu/libLLVM-*.so* "$root"/usr/lib/x86_64-linux-gnu/libz3.so*
  rm -rf "$root"/usr/lib/postgresql/*/lib/bitcode
  tar -C "$root" --numeric-owner -cf "$work/rootfs.tar" .
  rm -rf "$root"
  mv "$work" "$out"
}

need_root() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "building the $1 image needs root (debootstrap, chroot); run once: sudo bash $0 $cache" >&2
    exit 1
  fi
}

# Builds of other inputs are stale once this one exists (best effort: a non-root run may not remove them).
prune() {
  local old
  for old in "$cache/$1"-*; do
    [ "$old" = "$2" ] || rm -rf "$old" 2>/dev/null || true
  done
}

# One build at a time: a second run waits, then finds the cache filled.
exec 9>>"$cache/.lock"
flock 9
parts=${VISUALKIT_IMAGE_PARTS:-base apps}
for part in $parts; do
  case $part in
    base)
      base="$cache/base-$(hash_of build_base "$base_packages $mirror")"
      if [ -f "$base/base.raw" ] && [ -n "$(find "$base/built" -mtime "+$((${VISUALKIT_BASE_MAX_AGE_DAYS:-3} - 1))" 2>/dev/null)" ]; then
        echo "the server disk was built $(cat "$base/built"), more than ${VISUALKIT_BASE_MAX_AGE_DAYS:-3} days ago: building it again" >&2
        rm -rf "$base"
      fi
      if [ ! -f "$base/base.raw" ]; then
        need_root base
        build_base "$base"
        date -u +%FT%TZ >"$base/built"
      fi
      [ -f "$base/built" ] || date -u -r "$base/base.raw" +%FT%TZ >"$base/built"
      prune base "$base"
      echo "base=$base"
      ;;
    apps)
      apps="$cache/apps-$(hash_of build_apps "$apps_packages $mirror" "$here/images/entrypoint.sh" "$here/images/standin.py" "$here/../../images/janus/start-janus.sh")"
      [ -f "$apps/rootfs.tar" ] || { need_root apps; build_apps "$apps"; }
      prune apps "$apps"
      echo "apps=$apps"
      ;;
  esac
done
