#!/usr/bin/env bash
# Installs the host key the program generated (lib/ssh-host-key.ts) on a server created before host keys were
# pinned, so every later connection finds the key it pins. Sent by `npm run install-host-key` as the command itself,
# over a connection that pins the key the server presents now; the private key arrives on standard input, never on a
# command line. Safe to re-run: the same key is written again. The server keeps its other host keys (clients offer
# only ssh-ed25519 when they pin, so those are never used by the program).
set -euo pipefail

etc=${VISUALKIT_SSH_ETC:-/etc/ssh}
config=${VISUALKIT_SSHD_CONFIG:-/etc/ssh/sshd_config}
reload=${VISUALKIT_SSHD_RELOAD:-systemctl reload ssh}

umask 077
tmp=$(mktemp "$etc/.visualkit-host-key.XXXXXX")
trap 'rm -f "$tmp" "$tmp.pub" "$tmp.old" "$tmp.old.pub"' EXIT
cat >"$tmp"
if ! pub=$(ssh-keygen -y -f "$tmp" 2>/dev/null) || [ "${pub%% *}" != "ssh-ed25519" ]; then
  echo "standard input is not an OpenSSH ed25519 private key; nothing changed" >&2
  exit 1
fi
printf '%s\n' "$pub" >"$tmp.pub"
chmod 0644 "$tmp.pub"
cp -p "$etc/ssh_host_ed25519_key" "$tmp.old" 2>/dev/null || true
cp -p "$etc/ssh_host_ed25519_key.pub" "$tmp.old.pub" 2>/dev/null || true
mv "$tmp" "$etc/ssh_host_ed25519_key"
mv "$tmp.pub" "$etc/ssh_host_ed25519_key.pub"
# sshd refuses to start on a broken configuration: check before the reload, and put the old key back if it fails.
if ! sshd -t -f "$config"; then
  [ -f "$tmp.old" ] && mv "$tmp.old" "$etc/ssh_host_ed25519_key"
  [ -f "$tmp.old.pub" ] && mv "$tmp.old.pub" "$etc/ssh_host_ed25519_key.pub"
  echo "sshd -t failed with the new key; the old one is back" >&2
  exit 1
fi
sh -c "$reload"
echo "host key installed: $(ssh-keygen -l -f "$etc/ssh_host_ed25519_key.pub")"
