#!/usr/bin/env bash
# Prints the path of a nats-server >= 2.10.23, installing one into a project-local cache when none
# is found. Order: $NATS_SERVER_BIN, nats-server on PATH, the project cache (.cache/nats-server),
# and on Debian-family systems Debian 13's package fetched by name with apt-get (no system change:
# a private apt state under .cache/apt, using the mirror this machine's apt sources already name).
set -euo pipefail
MIN="2.10.23"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="$root/.cache"

version_of() { "$1" --version 2>/dev/null | sed -n 's/.*v\([0-9][0-9.]*\).*/\1/p' | head -n1; }
new_enough() { # $1 = binary
  local v; v="$(version_of "$1")"; [ -n "$v" ] || return 1
  [ "$(printf '%s\n%s\n' "$MIN" "$v" | sort -V | head -n1)" = "$MIN" ]
}
found() { echo "$1"; exit 0; }

[ -n "${NATS_SERVER_BIN:-}" ] && new_enough "$NATS_SERVER_BIN" && found "$NATS_SERVER_BIN"
if command -v nats-server >/dev/null 2>&1 && new_enough "$(command -v nats-server)"; then found "$(command -v nats-server)"; fi
local_bin="$cache/nats-server/usr/sbin/nats-server"
[ -x "$local_bin" ] && new_enough "$local_bin" && found "$local_bin"

if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-deb >/dev/null 2>&1; then
  echo "error: no nats-server >= $MIN found. Install one (https://github.com/nats-io/nats-server/releases)" >&2
  echo "       and put it on PATH, or set NATS_SERVER_BIN=/path/to/nats-server." >&2
  exit 2
fi

# Derive the Debian mirror from this machine's own apt sources, and ask for Debian 13 (trixie).
mirror=""
for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
  [ -f "$f" ] || continue
  m="$(grep -hE '^[[:space:]]*(URIs:|deb )' "$f" 2>/dev/null | grep -oE 'https?://[^ ]+/debian/?( |$)' | grep -v security | head -n1 | tr -d ' ' || true)"
  [ -n "$m" ] && { mirror="${m%/}"; break; }
done
if [ -z "$mirror" ]; then
  echo "error: no Debian mirror found in /etc/apt sources; install nats-server >= $MIN by hand" >&2
  echo "       or set NATS_SERVER_BIN=/path/to/nats-server." >&2
  exit 2
fi
arch="$(dpkg --print-architecture)"
apt="$cache/apt"
mkdir -p "$apt/lists/partial" "$apt/archives/partial" "$apt/etc" "$cache/nats-server"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
signed=""; [ -f "$keyring" ] && signed="[signed-by=$keyring]"
echo "deb $signed $mirror trixie main" > "$apt/etc/sources.list"
opts=(-o Dir::Etc::SourceList="$apt/etc/sources.list" -o Dir::Etc::SourceParts=/dev/null
      -o Dir::State::Lists="$apt/lists" -o Dir::Cache::Archives="$apt/archives"
      -o Dir::State::Status=/dev/null -o APT::Architecture="$arch" -o Debug::NoLocking=1)
echo "fetching Debian 13's nats-server package into $cache (one time)..." >&2
apt-get "${opts[@]}" -qq update >&2 || { echo "error: apt-get update for trixie failed; install nats-server >= $MIN by hand or set NATS_SERVER_BIN" >&2; exit 2; }
( cd "$apt/archives" && apt-get "${opts[@]}" -o APT::Sandbox::User=root -qq download nats-server >&2 ) || { echo "error: could not download nats-server; install nats-server >= $MIN by hand or set NATS_SERVER_BIN" >&2; exit 2; }
deb="$(ls -t "$apt/archives"/nats-server_*.deb | head -n1)"
dpkg-deb -x "$deb" "$cache/nats-server"
rm -rf "$apt/lists"
if [ -x "$local_bin" ] && new_enough "$local_bin"; then found "$local_bin"; fi
echo "error: the fetched nats-server is older than $MIN ($(version_of "$local_bin" || true))" >&2
exit 2
