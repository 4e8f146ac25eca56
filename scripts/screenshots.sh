#!/usr/bin/env bash
# `npm run screenshots`: the dashboard's pages as PNGs into docs/images/ (scripts/screenshots.ts), in
# Debian's headless chromium (installed when missing: scripts/ensure-chromium.sh).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
NATS_SERVER_BIN="$(bash scripts/setup.sh)"
chromium="$(bash scripts/ensure-chromium.sh)" || { echo "no chromium: $chromium" >&2; exit 1; }
export NATS_SERVER_BIN JETJOBS_CHROMIUM="$chromium"
exec node --import tsx scripts/screenshots.ts "$@"
