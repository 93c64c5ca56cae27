#!/usr/bin/env bash
# Makes root's authorized_keys exactly the keys on standard input (visualkit:sshPublicKeys), so a key removed from
# the stack file stops working on a running server too (Hetzner installs keys only when it creates the server).
# Sent over SSH by the HetznerHost component as the command itself, with the keys as its standard input after a
# header naming how many there are: `# visualkit-authorized-keys: <count>`. Refuses, leaving the file as it was, an
# input without a key (that would lock everybody out) and one whose key count differs from the header or that holds
# anything but keys: a line break smuggled into one configured entry would otherwise install a key nobody listed.
set -euo pipefail

ssh_dir=${VISUALKIT_SSH_DIR:-/root/.ssh}
refuse() {
  echo "$1; $ssh_dir/authorized_keys left as it was" >&2
  exit 1
}

IFS= read -r header || true
[[ $header =~ ^\#\ visualkit-authorized-keys:\ ([0-9]+)$ ]] || refuse "the first line is not '# visualkit-authorized-keys: <count>'"
expected=${BASH_REMATCH[1]}
input=$(cat)
keys=$(printf '%s\n' "$input" | grep -E '^(ssh-|ecdsa-|sk-)' || true)
others=$(printf '%s\n' "$input" | grep -vE '^(ssh-|ecdsa-|sk-)' | grep -c . || true)
[ -n "$keys" ] || refuse "no public key on standard input; refusing to empty $ssh_dir/authorized_keys"
[ "$others" -eq 0 ] || refuse "$others line(s) on standard input are not public keys"
count=$(printf '%s\n' "$keys" | wc -l)
[ "$count" -eq "$expected" ] || refuse "$count keys on standard input, $expected expected"
# A carriage return or escape sequence inside a line would hide what the file holds from `cat`; tabs separate fields.
if printf '%s' "$keys" | tr -d '\t\n' | LC_ALL=C grep -q '[[:cntrl:]]'; then
  refuse "a key line holds a control character"
fi

umask 077
mkdir -p "$ssh_dir"
printf '%s\n' "$keys" >"$ssh_dir/authorized_keys.new"
mv "$ssh_dir/authorized_keys.new" "$ssh_dir/authorized_keys"
echo "authorized_keys now holds $count keys"
