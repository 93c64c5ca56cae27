#!/usr/bin/env bash
# Installs one systemd unit file or drop-in, read from standard input, on a running server: what the bootstrap
# (cloud-init) writes on new servers, for servers bootstrapped before it. Written atomically (a temp file beside it,
# then rename) with mode 0644; systemd reloads only when the content changed, so an unchanged re-run touches nothing.
#
# Usage: install-unit-file.sh PATH   (PATH under /etc/systemd/system, ending in .conf, .service, .timer or .scope)
# Environment (the tests point them at a temp dir):
#   VISUALKIT_ROOT    prefix for PATH                      (empty)
#   SYSTEMCTL         systemctl executable                 systemctl
set -euo pipefail

fail() {
  echo "install-unit-file: $1" >&2
  exit 1
}

path="${1:-}"
case "$path" in
  /etc/systemd/system/*.conf | /etc/systemd/system/*.service | /etc/systemd/system/*.timer | /etc/systemd/system/*.scope) ;;
  *) fail "'$path' is not a unit file or drop-in under /etc/systemd/system; nothing changed" ;;
esac
case "$path" in
  *..*) fail "'$path' contains '..'; nothing changed" ;;
esac
target="${VISUALKIT_ROOT:-}$path"

mkdir -p "$(dirname "$target")"
# Not *.conf: systemd never reads the temp file as a drop-in, even if this script dies before the rename.
tmp=$(mktemp "$target.XXXXXX.tmp")
trap 'rm -f "$tmp"' EXIT
cat >"$tmp"
[ -s "$tmp" ] || fail "standard input is empty; nothing changed"
chmod 0644 "$tmp"
if cmp -s "$tmp" "$target"; then
  echo "$path unchanged"
  exit 0
fi
mv "$tmp" "$target"
"${SYSTEMCTL:-systemctl}" daemon-reload
echo "$path installed; systemd reloaded"
