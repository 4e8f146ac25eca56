#!/usr/bin/env bash
# Prints the path of the nats-server to use, installing one into a project-local cache when needed.
#  1. $NATS_SERVER_BIN, an operator's own server: any version >= 2.10.23 (older ones are unsafe:
#     docs/nats-notes.md). On 2.10-2.13 the task queue's nats-server#6881 check stays on.
#  2. The project cache (.cache/nats-server) or nats-server on PATH, if >= 2.14 (the default line:
#     R3 keeps every acked message across a leader kill and #6881 is fixed; docs/operations.md).
#  3. Otherwise, on Debian-family systems, the newest nats-server of Debian's forky/sid indexes,
#     fetched by name with a private apt state under .cache/apt (no system change, the mirror this
#     machine's apt sources name, the archive's keyring), its SHA256 checked against the index.
#  4. Failing that, nats-server on PATH >= 2.10.23, with a warning.
#
# `ensure-nats-server.sh --suite trixie` instead prints Debian 13's nats-server (the 2.10 line),
# kept in .cache/nats-server-trixie: the tests that hold both server lines to one contract use it.
set -euo pipefail
MIN="2.10.23"
DEFAULT_MIN="2.14.0"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=lib/private-apt.sh
. "$root/scripts/lib/private-apt.sh"
cache="$root/.cache"
suites=(forky sid)
target="$cache/nats-server"
want_min="$DEFAULT_MIN"
only_debian=0
if [ "${1:-}" = "--suite" ]; then
  [ -n "${2:-}" ] || { echo "usage: $0 [--suite SUITE]" >&2; exit 2; }
  suites=("$2"); target="$cache/nats-server-$2"; want_min="$MIN"; only_debian=1
fi

version_of() { "$1" --version 2>/dev/null | sed -n 's/^nats-server: v\([0-9][0-9.]*\).*/\1/p' | head -n1; }
at_least() { # $1 = binary, $2 = minimum version
  local v; v="$(version_of "$1")"; [ -n "$v" ] || return 1
  [ "$(printf '%s\n%s\n' "$2" "$v" | sort -V | head -n1)" = "$2" ]
}
found() { echo "$1"; exit 0; }

local_bin="$target/usr/sbin/nats-server"
on_path=""
if [ "$only_debian" = 0 ]; then
  if [ -n "${NATS_SERVER_BIN:-}" ]; then
    at_least "$NATS_SERVER_BIN" "$MIN" && found "$NATS_SERVER_BIN"
    echo "error: NATS_SERVER_BIN=$NATS_SERVER_BIN is not a nats-server >= $MIN ($(version_of "$NATS_SERVER_BIN" || true))" >&2
    exit 2
  fi
  [ -x "$local_bin" ] && at_least "$local_bin" "$DEFAULT_MIN" && found "$local_bin"
  on_path="$(command -v nats-server 2>/dev/null || true)"
  [ -n "$on_path" ] && at_least "$on_path" "$DEFAULT_MIN" && found "$on_path"
else
  [ -x "$local_bin" ] && at_least "$local_bin" "$MIN" && found "$local_bin"
fi
fallback() { # an older server we already have (PATH, then the cache of an earlier setup), else the error in $1
  for b in "$on_path" "$local_bin"; do
    if [ "$only_debian" = 0 ] && [ -n "$b" ] && [ -x "$b" ] && at_least "$b" "$MIN"; then
      echo "warning: $1; using $b ($(version_of "$b")), older than the default line $DEFAULT_MIN (docs/operations.md)" >&2
      found "$b"
    fi
  done
  echo "error: $1. Install nats-server >= $want_min (https://github.com/nats-io/nats-server/releases)" >&2
  echo "       and put it on PATH, or set NATS_SERVER_BIN=/path/to/nats-server (>= $MIN)." >&2
  exit 2
}

# A fetch that failed less than an hour ago is not tried again on every start (offline machines).
failed_mark="$target.fetch-failed"
if [ -f "$failed_mark" ] && [ -n "$(find "$failed_mark" -mmin -60 2>/dev/null)" ]; then
  fallback "fetching nats-server failed less than an hour ago ($(cat "$failed_mark")); remove $failed_mark to try now"
fi
give_up() { mkdir -p "$cache" && echo "$1" > "$failed_mark"; fallback "$1"; }

if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-deb >/dev/null 2>&1; then
  give_up "no nats-server >= $want_min found and this is no Debian-family system"
fi

# The mirror this machine's own apt sources name; everything else private (scripts/lib/private-apt.sh:
# sources, lists, caches, pins: the system's preferences could hide a suite).
mirror="$(debian_mirror)"
[ -n "$mirror" ] || give_up "no Debian mirror found in /etc/apt sources"
apt="$cache/apt-${suites[0]}"
private_apt "$apt" "$mirror" "${suites[@]}"
opts=("${APT_OPTS[@]}")
echo "fetching the newest nats-server of Debian ${suites[*]} into $target (one time)..." >&2
# A mirror may lack one of the suites: what the others list is still used.
apt-get "${opts[@]}" -qq update >&2 || echo "warning: apt-get update for Debian ${suites[*]} reported errors" >&2
version="$(apt-cache "${opts[@]}" policy nats-server 2>/dev/null | sed -n 's/^ *Candidate: *//p')"
{ [ -n "$version" ] && [ "$version" != "(none)" ]; } || give_up "Debian ${suites[*]} list no nats-server here (network or mirror)"
# The index entry of that version (the index itself is signed): its file name and SHA256.
entry="$(apt-cache "${opts[@]}" show "nats-server=$version" | awk 'BEGIN{RS=""} NR==1')"
want_sha="$(printf '%s\n' "$entry" | sed -n 's/^SHA256: *//p')"
file="$(basename "$(printf '%s\n' "$entry" | sed -n 's/^Filename: *//p')")"
rm -f "$apt/archives"/nats-server_*.deb
( cd "$apt/archives" && apt-get "${opts[@]}" -o APT::Sandbox::User=root -qq download "nats-server=$version" >&2 ) || give_up "could not download nats-server $version"
deb="$apt/archives/$file"
got_sha="$(sha256sum "$deb" | cut -d' ' -f1)"
if [ -z "$want_sha" ] || [ "$got_sha" != "$want_sha" ]; then
  rm -f "$deb"
  give_up "the downloaded $file has SHA256 $got_sha, the index says ${want_sha:-nothing}"
fi
rm -rf "$target.new" && mkdir -p "$target.new"
dpkg-deb -x "$deb" "$target.new"
rm -rf "$apt/lists" "$apt/cache" "$target" "$failed_mark" && mv "$target.new" "$target"
echo "nats-server $version (sha256 $got_sha) is in $target" >&2
at_least "$local_bin" "$want_min" && found "$local_bin"
fallback "the fetched nats-server is older than $want_min ($(version_of "$local_bin" || true))"
