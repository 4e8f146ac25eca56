#!/usr/bin/env bash
# Installs what the project needs and is missing: node modules, the dashboard's build, and a nats-server >= 2.10.23.
# Prints the nats-server path on stdout (everything else goes to stderr).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
if [ "$major" -lt 20 ]; then echo "error: Node.js >= 20 is required (found $(node --version 2>/dev/null || echo none))" >&2; exit 2; fi
# Node 20 still works (CI smoke-tests it) but gets no fixes since 2026-04-30 (docs/decisions/0006-node-lts.md).
if [ "$major" -lt 24 ]; then echo "note: Node.js $(node --version) is past its end of life; the supported line is Node 24 LTS or newer (README)" >&2; fi
# One setup at a time per tree: two test runs started together would both run `npm ci` into the same
# node_modules (ENOTEMPTY, a tree left with a few packages). The lock is held until this script ends.
mkdir -p .cache
if command -v flock >/dev/null 2>&1; then exec 9>.cache/setup.lock; flock 9; fi
stamp=node_modules/.install-stamp
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  echo "installing node modules..." >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
  touch "$stamp"
fi
# The web dashboard (dashboard/ → .cache/dashboard/, served under /ui/), rebuilt only when its sources
# or the lockfile changed. Without it the service still starts: /ui/ then says how to build it.
node --import tsx scripts/buildDashboard.ts --if-changed >&2 || echo "warning: the dashboard was not built (see above); the API works without it" >&2
bash scripts/ensure-nats-server.sh
