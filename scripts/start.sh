#!/usr/bin/env bash
# Starts the service on the embedded default: installs node modules and a nats-server when missing.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
NATS_SERVER_BIN="$(bash scripts/setup.sh)"
export NATS_SERVER_BIN
exec node --import tsx api/main.ts start "$@"
