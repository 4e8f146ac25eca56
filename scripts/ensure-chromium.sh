#!/usr/bin/env bash
# Prints the path of a Chromium for the browser tests (test/browser/): $JETJOBS_CHROMIUM, else Debian's
# /usr/bin/chromium, installed with apt-get when missing and this runs as root (as CI does). Fails
# with the reason on stdout when there is none (the browser tests then skip, saying so; the rest of
# the suite runs). Each apt-get step is bounded in time. Never a browser download of a test tool's own
# (`npx playwright install` fetches from hosts this project may not reach).
set -uo pipefail
bin="${JETJOBS_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi
# a Chromium named by the user is theirs to fix: installing Debian's would not make that path work
if [ -n "${JETJOBS_CHROMIUM:-}" ]; then echo "JETJOBS_CHROMIUM=$bin is not an executable file"; exit 1; fi
if [ "$(id -u)" != 0 ]; then echo "no Chromium at $bin, and not root to install it (as root: apt-get install chromium)"; exit 1; fi
if ! command -v apt-get >/dev/null 2>&1; then echo "no Chromium at $bin and no apt-get to install it (set JETJOBS_CHROMIUM to a Chromium binary)"; exit 1; fi
echo "installing Debian's chromium for the browser tests (one time)..." >&2
export DEBIAN_FRONTEND=noninteractive
install() { timeout 600 apt-get install -y --no-install-recommends chromium fonts-liberation >&2; }
# a fresh system may have no package lists yet: update once and try again
install || { timeout 300 apt-get update >&2 && install; }
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi
echo "apt-get could not install chromium (see the output above)"
exit 1
