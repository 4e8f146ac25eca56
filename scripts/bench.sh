#!/usr/bin/env bash
# Runs the benchmarks and prints figures (see bench/README.md). Extra args go to bench/e2e.ts.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
NATS_SERVER_BIN="$(bash scripts/setup.sh)"
export NATS_SERVER_BIN
exec node --import tsx bench/e2e.ts "$@"
