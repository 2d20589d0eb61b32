# Every target does its own set-up; a fresh machine needs only `make demo` or `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
# Ports of `make ui` / `make sandbox` (and `make demo`'s sandbox, a free port when unset).
export SANDBOX_PORT ?=
export DAGSTER_PORT ?= 3000

.PHONY: setup lock demo test mariadb chromium nginx migrate ui sandbox receiver lint bench clean

# Exact versions with their hashes from requirements.lock, then the project itself (no deps).
$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet --require-hashes -r requirements.lock
	$(VENV)/bin/pip install --quiet --no-deps -e ".[dev]"
	touch $@

# After changing dependencies in pyproject.toml: pin them again, with hashes.
lock: setup
	$(VENV)/bin/pip install --quiet uv
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 -o requirements.lock

setup: $(VENV)/.installed

mariadb:
	bash scripts/ensure_debian.sh /usr/sbin/mariadbd mariadb-server mariadb-client

chromium:
	bash scripts/ensure_debian.sh /usr/bin/chromium chromium

nginx:
	bash scripts/ensure_debian.sh /usr/sbin/nginx nginx-light

demo: setup
	$(PY) scripts/demo.py

test: setup mariadb chromium nginx
	$(VENV)/bin/pytest -q -p no:cacheprovider

migrate: setup
	$(VENV)/bin/inventory-db upgrade

ui: setup nginx
	bash scripts/ui.sh

sandbox: setup
	$(PY) -m marketplace_sandbox --port $(or $(SANDBOX_PORT),8900) --skus 300 --wix-in-sync

# The Ozon push receiver (POST /ozon/push), for the production front to forward Ozon's pushes to.
receiver: migrate
	$(PY) -m inventory_pipeline.defs.signals.receiver --port $(or $(OZON_PUSH_PORT),8081)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/dg check defs

bench: setup mariadb
	$(PY) -m benchmarks.sandbox_pages
	$(PY) -m benchmarks.stock_sync --skus 10000 100000
	$(PY) -m benchmarks.wix_push

clean:
	rm -rf $(VENV) data .dagster_home test-artifacts
