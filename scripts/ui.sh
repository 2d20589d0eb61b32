#!/usr/bin/env bash
# `make ui`: the Dagster UI and daemon on the embedded default, against a sandbox started here, behind
# the production front's rules (deploy/nginx/dagster-front.conf, run by inventory_pipeline/front.py):
# a password, no GraphQL by GET, no write from a foreign page. Ports: SANDBOX_PORT (8900) and
# DAGSTER_PORT (3000, the front). The webserver itself listens on a Unix socket only the front opens.
# Ctrl-C, TERM or HUP stops everything it started.
set -euo pipefail
set -m  # each child its own process group, stopped whole with what it started (code servers)
cd "$(dirname "$0")/.."
SANDBOX_PORT=${SANDBOX_PORT:-8900}
DAGSTER_PORT=${DAGSTER_PORT:-3000}
export DAGSTER_UI_URL=${DAGSTER_UI_URL:-http://127.0.0.1:$DAGSTER_PORT}
FRONT="$DAGSTER_HOME/front"
GROUPS_STARTED=()
stop() {
  trap - INT TERM HUP EXIT
  for group in "${GROUPS_STARTED[@]}"; do kill -TERM -- "-$group" 2>/dev/null || true; done
  for _ in $(seq 30); do
    alive=""
    for group in "${GROUPS_STARTED[@]}"; do kill -0 -- "-$group" 2>/dev/null && alive=1; done
    [ -z "$alive" ] && break
    sleep 1
  done
  for group in "${GROUPS_STARTED[@]}"; do kill -KILL -- "-$group" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop INT TERM HUP EXIT
start() {
  "$@" &
  GROUPS_STARTED+=("$!")
}
start .venv/bin/python -m marketplace_sandbox --port "$SANDBOX_PORT" --skus 300 --wix-in-sync
.venv/bin/python -c "from marketplace_sandbox.server import wait_until_up; wait_until_up('http://127.0.0.1:$SANDBOX_PORT')"
eval "$(.venv/bin/python scripts/sandbox_env.py "http://127.0.0.1:$SANDBOX_PORT")"
mkdir -p "$DAGSTER_HOME"
[ -f "$DAGSTER_HOME/dagster.yaml" ] || cp dagster.yaml "$DAGSTER_HOME/dagster.yaml"
# The instance's storage made once here: the daemon and the webserver would both create it at once.
.venv/bin/dagster instance migrate >/dev/null
.venv/bin/inventory-db upgrade
mkdir -p "$FRONT" && chmod 700 "$FRONT"
start .venv/bin/dagster-daemon run -w workspace.yaml
start .venv/bin/python -m inventory_pipeline.front --webserver-socket "$FRONT/webserver.sock" -- -w workspace.yaml
start .venv/bin/python -m inventory_pipeline.front --port "$DAGSTER_PORT" --upstream "unix:$FRONT/webserver.sock" \
  --workdir "$FRONT"
echo "(sandbox: http://127.0.0.1:$SANDBOX_PORT; Ctrl-C stops everything)"
wait -n  # one of them ending ends `make ui`: the EXIT trap stops the others
