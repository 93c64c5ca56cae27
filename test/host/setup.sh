#!/usr/bin/env bash
# Set-up of the real-host tier (`npm run test:host`): the tools it drives, from Debian (systemd-nspawn for the native
# host, QEMU for the VM lane). As root (CI) it installs
# what is missing with apt-get; otherwise it prints the command to run and fails, so nothing is silently skipped.
# The disk images are built (and cached) by build-images.sh, which the tier runs as its first phase.
set -euo pipefail

# command -> Debian package
declare -A tools=(
  [qemu-system-x86_64]=qemu-system-x86
  [qemu-img]=qemu-utils
  [debootstrap]=debootstrap
  [genisoimage]=genisoimage
  [mkfs.ext4]=e2fsprogs
  [ssh]=openssh-client
  [ssh-agent]=openssh-client
  [scp]=openssh-client
  [flock]=util-linux
  [losetup]=mount
  [blkid]=util-linux
  [ip]=iproute2
  [systemd-nspawn]=systemd-container
)

missing=()
for cmd in "${!tools[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${tools[$cmd]}")
done
[ "${#missing[@]}" -eq 0 ] && exit 0
mapfile -t packages < <(printf '%s\n' "${missing[@]}" | sort -u)

if [ "$(id -u)" -ne 0 ]; then
  echo "host-test tools missing: ${packages[*]}" >&2
  echo "install them with: sudo apt-get install -y --no-install-recommends ${packages[*]}" >&2
  exit 1
fi
echo "installing host-test tools: ${packages[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
