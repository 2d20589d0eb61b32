#!/usr/bin/env bash
# `make ui`: the Dagster UI and daemon on the embedded default, against a sandbox started here.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${SANDBOX_PORT:-8900}
.venv/bin/python -m marketplace_sandbox --port "$PORT" --skus 300 &
SANDBOX=$!
trap 'kill $SANDBOX 2>/dev/null || true' EXIT
sleep 2
eval "$(.venv/bin/python scripts/sandbox_env.py "http://127.0.0.1:$PORT")"
mkdir -p "$DAGSTER_HOME"; touch "$DAGSTER_HOME/dagster.yaml"
.venv/bin/inventory-db upgrade
.venv/bin/dagster dev -w workspace.yaml -h 127.0.0.1 -p "${DAGSTER_PORT:-3000}"
