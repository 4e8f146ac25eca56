#!/usr/bin/env bash
# Nightly deterministic simulation: many more seeded runs than CI (test/sim/README.md).
# SIM_RUNS overrides the count; a failure prints SIM_SEED/SIM_PATH to replay it exactly.
# Runs go in chunks of SIM_CHUNK (2,000) per process, each with its own seed (printed first): one
# process grows by about 0.5 MB per run and would run out of heap past ~6,000 runs.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
total="${SIM_RUNS:-20000}"
chunk="${SIM_CHUNK:-2000}"

# Runs `total` seeded runs in chunks, with the extra environment given as arguments.
runs() {
  local left="$total"
  while [ "$left" -gt 0 ]; do
    local n=$(( left < chunk ? left : chunk ))
    env "$@" SIM_RUNS="$n" SIM_TIME_LIMIT_MS=$(( 30000 + n * 200 )) \
      node --import tsx --test --test-name-pattern='seeded runs' test/sim/simulation.test.ts
    left=$(( left - n ))
  done
}

runs
# A small delivery budget makes "every delivery of a task went to a dying worker" common.
runs SIM_MAX_DELIVER=3
# Retention off: the engine without compaction and removal (the CI default has both on).
runs SIM_COMPACT_AFTER_MS=3600000 SIM_REMOVE_AFTER_MS=0
