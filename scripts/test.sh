#!/usr/bin/env bash
# Runs the whole test suite (unit, property, integration against a real nats-server).
# Extra arguments are test files to run instead of all of them.
# The tests run on a supported Node LTS: the system's node if it is >= 24, else the pinned one that
# scripts/ensure-node.sh provides, put first on PATH so that every node the tests start (npm start,
# child processes) is that one too. JETJOBS_TEST_NODE=/path/to/node runs them on that node instead
# (CI's Node 20 smoke); without network and cache they run on the system's node, with a warning.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
if [ -n "${JETJOBS_TEST_NODE:-}" ]; then
  node_bin="$JETJOBS_TEST_NODE"
elif ! node_bin="$(bash scripts/ensure-node.sh)"; then
  node_bin="$(command -v node)"
  echo "warning: no Node LTS at hand; the tests run on $node_bin ($("$node_bin" --version))" >&2
fi
[ "$(command -v node)" = "$node_bin" ] || export PATH="$(dirname "$node_bin"):$PATH"
echo "tests on Node $(node --version) ($(command -v node))" >&2
NATS_SERVER_BIN="$(bash scripts/setup.sh)"
# The 2.10 line too, for the tests that hold both server lines to one contract (they skip, saying so, without it).
NATS_SERVER_BIN_2_10="$(bash scripts/ensure-nats-server.sh --suite trixie 2>/dev/null || true)"
export NATS_SERVER_BIN NATS_SERVER_BIN_2_10
if [ "$#" -gt 0 ]; then files=("$@"); else mapfile -t files < <(find test -name '*.test.ts' | sort); fi
# The browser tests drive Debian's chromium: installed when missing (scripts/ensure-chromium.sh); when it
# cannot be, they skip with the reason and everything else runs.
if printf '%s\n' "${files[@]}" | grep -q '^test/browser/'; then
  if chromium="$(bash scripts/ensure-chromium.sh)"; then export JETJOBS_CHROMIUM="$chromium"; else export JETJOBS_CHROMIUM_MISSING="$chromium"; fi
fi
exec node --import tsx --test --test-concurrency=2 --test-timeout=120000 "${files[@]}"
