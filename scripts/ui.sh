#!/usr/bin/env bash
# `make ui`: the Dagster UI and daemon on the embedded default, against a sandbox started here.
# Ports: SANDBOX_PORT (8900) and DAGSTER_PORT (3000). Ctrl-C stops the sandbox and dagster dev
# (which stops its webserver, daemon and code servers).
set -euo pipefail
cd "$(dirname "$0")/.."
SANDBOX_PORT=${SANDBOX_PORT:-8900}
DAGSTER_PORT=${DAGSTER_PORT:-3000}
children=()
stop() {
  trap - INT TERM EXIT
  for pid in "${children[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT
# Started in the background, so given its own handling of Ctrl-C (a script's background jobs ignore it).
.venv/bin/python -m marketplace_sandbox --port "$SANDBOX_PORT" --skus 300 --wix-in-sync &
children+=($!)
.venv/bin/python -c "from marketplace_sandbox.server import wait_until_up; wait_until_up('http://127.0.0.1:$SANDBOX_PORT')"
eval "$(.venv/bin/python scripts/sandbox_env.py "http://127.0.0.1:$SANDBOX_PORT")"
mkdir -p "$DAGSTER_HOME"
[ -f "$DAGSTER_HOME/dagster.yaml" ] || cp dagster.yaml "$DAGSTER_HOME/dagster.yaml"
.venv/bin/inventory-db upgrade
echo "Dagster UI: http://127.0.0.1:$DAGSTER_PORT   (sandbox: http://127.0.0.1:$SANDBOX_PORT; Ctrl-C stops both)"
.venv/bin/dagster dev -w workspace.yaml -h 127.0.0.1 -p "$DAGSTER_PORT" &
children+=($!)
wait
