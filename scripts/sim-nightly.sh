#!/usr/bin/env bash
# Nightly deterministic simulation: many more seeded runs than CI (test/sim/README.md).
# SIM_RUNS overrides the count; a failure prints SIM_SEED/SIM_PATH to replay it exactly.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export SIM_RUNS="${SIM_RUNS:-20000}"
node --import tsx --test --test-name-pattern='seeded runs' test/sim/simulation.test.ts
# A small delivery budget makes "every delivery of a task went to a dying worker" common.
SIM_MAX_DELIVER=3 node --import tsx --test --test-name-pattern='seeded runs' test/sim/simulation.test.ts
# Retention off: the engine without compaction and removal (the CI default has both on).
SIM_COMPACT_AFTER_MS=3600000 SIM_REMOVE_AFTER_MS=0 node --import tsx --test --test-name-pattern='seeded runs' test/sim/simulation.test.ts
