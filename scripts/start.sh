#!/usr/bin/env bash
# Starts the service on the embedded default: installs node modules and a nats-server when missing.
# Ends in `exec`, as package.json's `start` does: npm forwards SIGINT/SIGTERM only to its own child,
# and a shell in between would not pass them on, so node must be that child (docs/operations.md).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
NATS_SERVER_BIN="$(bash scripts/setup.sh)"
export NATS_SERVER_BIN
exec node --import tsx api/main.ts start "$@"
