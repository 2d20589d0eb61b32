#!/usr/bin/env bash
# `make ui`: the Dagster UI and daemon on the embedded default, against a sandbox started here.
# Ports: SANDBOX_PORT (8900) and DAGSTER_PORT (3000). Ctrl-C stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."
SANDBOX_PORT=${SANDBOX_PORT:-8900}
DAGSTER_PORT=${DAGSTER_PORT:-3000}
SANDBOX="" DEV=""
stop() {
  trap - INT TERM EXIT
  # `dg dev` runs in its own process group and gets one interrupt, as from a terminal of its own:
  # it then stops its webserver, daemon and code servers. Whatever outlives 30 s is killed.
  if [ -n "$DEV" ]; then kill -INT "$DEV" 2>/dev/null || true; fi
  if [ -n "$SANDBOX" ]; then kill -TERM "$SANDBOX" 2>/dev/null || true; fi
  for _ in $(seq 30); do
    if [ -z "$DEV" ] || ! kill -0 -- "-$DEV" 2>/dev/null; then break; fi
    sleep 1
  done
  if [ -n "$DEV" ]; then kill -KILL -- "-$DEV" 2>/dev/null || true; fi
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT
.venv/bin/python -m marketplace_sandbox --port "$SANDBOX_PORT" --skus 300 --wix-in-sync &
SANDBOX=$!
.venv/bin/python -c "from marketplace_sandbox.server import wait_until_up; wait_until_up('http://127.0.0.1:$SANDBOX_PORT')"
eval "$(.venv/bin/python scripts/sandbox_env.py "http://127.0.0.1:$SANDBOX_PORT")"
mkdir -p "$DAGSTER_HOME"
[ -f "$DAGSTER_HOME/dagster.yaml" ] || cp dagster.yaml "$DAGSTER_HOME/dagster.yaml"
.venv/bin/inventory-db upgrade
echo "Dagster UI: http://127.0.0.1:$DAGSTER_PORT   (sandbox: http://127.0.0.1:$SANDBOX_PORT; Ctrl-C stops both)"
setsid .venv/bin/dg dev --host 127.0.0.1 --port "$DAGSTER_PORT" &
DEV=$!
wait "$DEV"
