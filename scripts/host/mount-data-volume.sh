#!/usr/bin/env bash
# Mounts the persistent data volume: waits for the device, creates a filesystem only when the device has none (so
# a volume re-attached to a rebuilt server keeps its data), mounts it by UUID through /etc/fstab, then creates the
# given folders on it. Safe to run again. Installed by cloud-init as /usr/local/sbin/visualkit-mount-data.
#
# Usage: visualkit-mount-data DEVICE MOUNT_POINT [FOLDER...]
#   DEVICE       e.g. /dev/disk/by-id/scsi-0HC_Volume_12345678 (Hetzner's stable path of the volume)
#   MOUNT_POINT  e.g. /mnt/data
#   FOLDER       folders to create under MOUNT_POINT, e.g. postgres redis
set -euo pipefail

if [ "$#" -lt 2 ]; then
  echo "usage: $0 DEVICE MOUNT_POINT [FOLDER...]" >&2
  exit 2
fi
device=$1
mount_point=$2
shift 2
wait_seconds=${VISUALKIT_VOLUME_WAIT_SECONDS:-300}
# Overridable so the tests can run the script against a file instead of the host's fstab.
fstab=${VISUALKIT_FSTAB:-/etc/fstab}

# The volume is attached by a separate API call after the server is created, so it may appear after boot.
waited=0
until [ -e "$device" ]; do
  if [ "$waited" -ge "$wait_seconds" ]; then
    echo "data volume $device did not appear within ${wait_seconds}s; is the volume attached to this server?" >&2
    exit 1
  fi
  sleep 2
  waited=$((waited + 2))
done
udevadm settle || true

# blkid -p probes the device itself (not the cache) and exits 2 when it finds no filesystem and no partition table.
probe=0
blkid -p "$device" >/dev/null 2>&1 || probe=$?
if [ "$probe" -eq 2 ]; then
  echo "formatting empty data volume $device as ext4"
  mkfs.ext4 -q "$device"
elif [ "$probe" -ne 0 ]; then
  echo "could not probe $device (blkid exit $probe); not touching it" >&2
  exit 1
fi

fs_type=$(blkid -p -s TYPE -o value "$device")
uuid=$(blkid -p -s UUID -o value "$device")
if [ "$fs_type" != "ext4" ] || [ -z "$uuid" ]; then
  echo "$device holds '${fs_type:-no filesystem}' (uuid '${uuid}'), not an ext4 filesystem; refusing to mount it" >&2
  exit 1
fi

mkdir -p "$mount_point"
# nofail: a missing volume must not stop the boot (SSH stays reachable for repair); Docker waits for the mount
# through its RequiresMountsFor drop-in, so containers never write into the empty folder on the root disk.
if ! awk -v mp="$mount_point" '$1 !~ /^#/ && $2 == mp { found = 1 } END { exit !found }' "$fstab"; then
  echo "UUID=$uuid $mount_point ext4 discard,nofail,defaults 0 2" >>"$fstab"
  systemctl daemon-reload
fi
mountpoint -q "$mount_point" || mount "$mount_point"

for folder in "$@"; do
  mkdir -p "$mount_point/$folder"
done
echo "data volume $device (UUID $uuid) mounted at $mount_point"
