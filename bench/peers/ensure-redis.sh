#!/usr/bin/env bash
# Prints the path of a redis-server for the peer bench (bench/peers/run.ts), fetching one when needed:
#  1. $REDIS_SERVER_BIN, if set (an operator's own build);
#  2. redis-server on PATH;
#  3. .cache/redis-<suite>/redis-server from an earlier fetch;
#  4. on Debian-family systems, Debian's redis-server and redis-tools (the binary lives in redis-tools)
#     plus the libraries they need that the system lacks, fetched by name with a private apt state
#     under .cache/apt-redis-<suite> like scripts/ensure-nats-server.sh does (no system change, the
#     mirror this machine's apt sources name, the archive's keyring), each .deb's SHA256 checked
#     against the signed index, unpacked into .cache/redis-<suite>/. The printed path is a small
#     wrapper that sets LD_LIBRARY_PATH and `exec`s the binary (its PID is the server's).
# The suite defaults to this system's own (VERSION_CODENAME), so the libraries match; `--suite S`
# picks another. Exits 2 with a message on stderr when no redis-server can be had.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cache="$root/.cache"
# shellcheck source=../../scripts/lib/private-apt.sh
. "$root/scripts/lib/private-apt.sh"
suite="$( . /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}" || true)"
if [ "${1:-}" = "--suite" ]; then
  [ -n "${2:-}" ] || { echo "usage: $0 [--suite SUITE]" >&2; exit 2; }
  suite="$2"
fi
found() { echo "$1"; exit 0; }
fail() {
  echo "error: no redis-server: $1." >&2
  echo "       Install Redis >= 6.2 (https://redis.io/docs/latest/operate/oss_and_stack/install/) and put" >&2
  echo "       redis-server on PATH, or set REDIS_SERVER_BIN=/path/to/redis-server." >&2
  exit 2
}
works() { "$1" --version >/dev/null 2>&1; }

if [ -n "${REDIS_SERVER_BIN:-}" ]; then
  works "$REDIS_SERVER_BIN" && found "$REDIS_SERVER_BIN"
  fail "REDIS_SERVER_BIN=$REDIS_SERVER_BIN does not run"
fi
on_path="$(command -v redis-server 2>/dev/null || true)"
[ -n "$on_path" ] && works "$on_path" && found "$on_path"
[ -n "$suite" ] || fail "not on PATH, and no Debian suite known (no VERSION_CODENAME in /etc/os-release; try --suite)"
target="$cache/redis-$suite"
wrapper="$target/redis-server"
[ -x "$wrapper" ] && works "$wrapper" && found "$wrapper"

if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-deb >/dev/null 2>&1; then
  fail "not on PATH and this is no Debian-family system"
fi
mirror="$(debian_mirror)"
[ -n "$mirror" ] || fail "not on PATH, and no Debian mirror found in /etc/apt sources"
apt="$cache/apt-redis-$suite"
private_apt "$apt" "$mirror" "$suite"
opts=("${APT_OPTS[@]}")
echo "fetching Debian $suite's redis-server into $target (one time)..." >&2
apt-get "${opts[@]}" -qq update >&2 || echo "warning: apt-get update for Debian $suite reported errors" >&2
apt-cache "${opts[@]}" show redis-tools >/dev/null 2>&1 || fail "Debian $suite lists no redis-tools here (network or mirror)"

# redis-server, redis-tools, and what redis-tools depends on that this system has not installed.
# An alternative (a | b) counts as present when any of its names is installed.
installed() { [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" = "installed" ]; }
pkgs=(redis-server redis-tools)
deps="$(apt-cache "${opts[@]}" show redis-tools | awk 'BEGIN{RS=""} NR==1' | sed -n 's/^\(Pre-\)\?Depends: *//p' | tr ',' '\n')"
while IFS= read -r alt; do
  [ -n "${alt// /}" ] || continue
  have=0; first=""
  for name in $(printf '%s\n' "$alt" | tr '|' '\n' | sed 's/(.*)//; s/:any//' | tr -d ' '); do
    [ -n "$first" ] || first="$name"
    installed "$name" && have=1
  done
  [ "$have" = 1 ] || [ -z "$first" ] || [ "$first" = adduser ] || pkgs+=("$first")
done <<< "$deps"

rm -rf "$target.new" && mkdir -p "$target.new"
for p in "${pkgs[@]}"; do
  entry="$(apt-cache "${opts[@]}" show "$p" 2>/dev/null | awk 'BEGIN{RS=""} NR==1')"
  version="$(printf '%s\n' "$entry" | sed -n 's/^Version: *//p')"
  want_sha="$(printf '%s\n' "$entry" | sed -n 's/^SHA256: *//p')"
  [ -n "$version" ] && [ -n "$want_sha" ] || { rm -rf "$target.new"; fail "Debian $suite has no index entry for $p"; }
  # One package per empty directory: apt names the file with its epoch (%3a), unlike the index.
  rm -rf "$apt/archives/$p" && mkdir -p "$apt/archives/$p"
  ( cd "$apt/archives/$p" && apt-get "${opts[@]}" -o APT::Sandbox::User=root -qq download "$p=$version" >&2 ) \
    || { rm -rf "$target.new"; fail "could not download $p $version"; }
  deb="$(find "$apt/archives/$p" -maxdepth 1 -name '*.deb' | head -n1)"
  got_sha="$( [ -n "$deb" ] && sha256sum "$deb" | cut -d' ' -f1 || true)"
  if [ -z "$deb" ] || [ "$got_sha" != "$want_sha" ]; then
    rm -rf "$apt/archives/$p" "$target.new"
    fail "the downloaded $p ${deb:+$(basename "$deb") }has SHA256 ${got_sha:-nothing}, the index says $want_sha"
  fi
  dpkg-deb -x "$deb" "$target.new/root"
  echo "  $p $version (sha256 $got_sha)" >&2
done
bin="$target/root/usr/bin/redis-server"
[ -x "$target.new/root/usr/bin/redis-server" ] || { rm -rf "$target.new"; fail "the fetched packages hold no usr/bin/redis-server"; }
libs="$target/root/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo "$(uname -m)-linux-gnu"):$target/root/usr/lib"
cat > "$target.new/redis-server" <<EOF
#!/bin/sh
# Debian $suite's redis-server with the libraries fetched beside it (bench/peers/ensure-redis.sh).
LD_LIBRARY_PATH="$libs\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}" exec "$bin" "\$@"
EOF
chmod +x "$target.new/redis-server"
rm -rf "$apt/lists" "$apt/cache" "$apt/archives" "$target" && mv "$target.new" "$target"
works "$wrapper" || fail "the fetched $wrapper does not run ($("$wrapper" --version 2>&1 | head -n1))"
echo "$("$wrapper" --version | head -n1) is in $target" >&2
found "$wrapper"
