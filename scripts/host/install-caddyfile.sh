#!/usr/bin/env bash
# Installs a new Caddyfile without ever leaving Caddy on a broken one:
#   validate a temp copy → keep the current file as a backup → move the new one in place → reload (not restart,
#   so open connections and certificates stay) → on failure put the backup back, reload it, exit non-zero.
# A failed reload is atomic in Caddy (the running config stays), so the site keeps serving the old config either way.
#
# Usage: install-caddyfile.sh [FILE]   (FILE or "-" = stdin; default stdin)
# Environment (defaults are the Debian package's layout; the tests point them at a temp dir):
#   CADDYFILE         target file                      /etc/caddy/Caddyfile
#   CADDYFILE_BACKUP  copy of the previous file        $CADDYFILE.previous
#   CADDY_ADMIN         admin endpoint for the reload  (empty: the socket below when Caddy listens there, else
#                       CADDY_ADMIN_LEGACY: a Caddy that has never loaded a rendered file, e.g. Debian's default)
#   CADDY_ADMIN_SOCKET  the admin socket the rendered Caddyfile sets      /var/lib/caddy/admin/caddy.sock
#   CADDY_ADMIN_LEGACY  Caddy's default TCP admin endpoint                localhost:2019
#   CADDY_USER          owner of the socket's folder (mode 0700)          caddy
#   CADDY_BIN           caddy executable                                  caddy
#
# The admin API is a unix socket in a folder only root and Caddy can enter (the Caddyfile renderer's CADDY_ADMIN_SOCKET says
# why); this script creates that folder before the first reload moves the endpoint there from localhost:2019.
set -euo pipefail

source_file="${1:--}"
target="${CADDYFILE:-/etc/caddy/Caddyfile}"
backup="${CADDYFILE_BACKUP:-$target.previous}"
caddy="${CADDY_BIN:-caddy}"
socket="${CADDY_ADMIN_SOCKET:-/var/lib/caddy/admin/caddy.sock}"
owner="${CADDY_USER:-caddy}"

fail() {
  echo "install-caddyfile: $1" >&2
  exit 1
}

command -v "$caddy" >/dev/null 2>&1 || fail "caddy executable '$caddy' not found"
target_dir="$(dirname "$target")"
mkdir -p "$target_dir"

# Whoever can open the socket controls Caddy: its folder is Caddy's alone (root passes anyway). Re-applied every run.
socket_dir="$(dirname "$socket")"
mkdir -p "$(dirname "$socket_dir")"
install -d -m 0700 -o "$owner" -g "$owner" "$socket_dir"
# The endpoint the running Caddy listens on: the socket once a rendered file is live, the TCP default before. A failed
# reload leaves the running config (and so its endpoint) in place, so the rollback below talks to the same one.
if [ -n "${CADDY_ADMIN:-}" ]; then
  admin="$CADDY_ADMIN"
elif ss -xlH 2>/dev/null | awk '{ print $5 }' | grep -qxF -- "$socket"; then
  # Something listens on the socket (a stale file left by a crash does not count; Caddy unlinks it when it listens).
  admin="unix/$socket"
else
  admin="${CADDY_ADMIN_LEGACY:-localhost:2019}"
fi

# The work folder sits next to the target so each final mv is an atomic rename on the same filesystem.
work="$(mktemp -d "$target_dir/.caddyfile-install.XXXXXX")"
trap 'rm -rf -- "$work"' EXIT
new_file="$work/Caddyfile"

if [ "$source_file" = "-" ]; then
  cat >"$new_file"
else
  cat -- "$source_file" >"$new_file"
fi
[ -s "$new_file" ] || fail "the new Caddyfile is empty; nothing installed"
chmod 0644 "$new_file"

reload() {
  "$caddy" reload --config "$target" --adapter caddyfile --address "$admin" 2>&1
}

if ! output="$("$caddy" validate --config "$new_file" --adapter caddyfile 2>&1)"; then
  printf '%s\n' "$output" >&2
  fail "caddy validate rejected the new Caddyfile; $target was not changed and Caddy keeps its running config"
fi

had_previous=false
if [ -f "$target" ]; then
  cp -p -- "$target" "$backup"
  had_previous=true
fi
mv -f -- "$new_file" "$target"

if output="$(reload)"; then
  printf '%s\n' "$output"
  echo "install-caddyfile: $target installed and Caddy reloaded (previous file kept as $backup)"
  exit 0
fi
printf '%s\n' "$output" >&2

if [ "$had_previous" = false ]; then
  rm -f -- "$target"
  fail "caddy reload rejected the new Caddyfile; it was removed again (there was no previous file)"
fi
cp -p -- "$backup" "$work/Caddyfile.restore"
mv -f -- "$work/Caddyfile.restore" "$target"
# Caddy already rolled back in memory; reloading the restored file makes sure disk and memory agree.
if ! restored="$(reload)"; then
  printf '%s\n' "$restored" >&2
  echo "install-caddyfile: warning: reloading the restored file also failed; Caddy keeps the config it was running" >&2
fi
fail "caddy reload rejected the new Caddyfile; the previous $target was restored"
