#!/usr/bin/env bash
# Runs the whole test suite (unit, property, integration against a real nats-server).
# Extra arguments are test files to run instead of all of them.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
NATS_SERVER_BIN="$(bash scripts/setup.sh)"
# The 2.10 line too, for the tests that hold both server lines to one contract (they skip, saying so, without it).
NATS_SERVER_BIN_2_10="$(bash scripts/ensure-nats-server.sh --suite trixie 2>/dev/null || true)"
export NATS_SERVER_BIN NATS_SERVER_BIN_2_10
if [ "$#" -gt 0 ]; then files=("$@"); else mapfile -t files < <(find test -name '*.test.ts' | sort); fi
exec node --import tsx --test --test-concurrency=2 --test-timeout=120000 "${files[@]}"
