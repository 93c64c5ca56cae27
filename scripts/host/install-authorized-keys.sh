#!/usr/bin/env bash
# Makes root's authorized_keys exactly the keys on standard input (visualkit:sshPublicKeys), so a key removed from
# the stack file stops working on a running server too (Hetzner installs keys only when it creates the server).
# Refuses an input without a key: that would lock everybody out. Sent over SSH by the HetznerHost component as the
# command itself, with the keys as its standard input.
set -euo pipefail

ssh_dir=${VISUALKIT_SSH_DIR:-/root/.ssh}
keys=$(grep -E '^(ssh-|ecdsa-|sk-)' || true)
if [ -z "$keys" ]; then
  echo "no public key on standard input; refusing to empty $ssh_dir/authorized_keys" >&2
  exit 1
fi

umask 077
mkdir -p "$ssh_dir"
printf '%s\n' "$keys" >"$ssh_dir/authorized_keys.new"
mv "$ssh_dir/authorized_keys.new" "$ssh_dir/authorized_keys"
echo "authorized_keys now holds $(printf '%s\n' "$keys" | wc -l) keys"
