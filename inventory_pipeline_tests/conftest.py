"""Shared fixtures: the sandbox over real HTTP, a real MariaDB server, SQLite, and a pipeline
wired to them through the same environment variables production uses."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from inventory_pipeline.db.engine import make_engine, migrate
from inventory_pipeline_tests.support.pipeline import Pipeline, make_pipeline
from inventory_pipeline_tests.support.servers import MariaDBServer
from marketplace_sandbox import SandboxServer

_db_names = itertools.count()


@pytest.fixture(scope="session")
def mariadb(tmp_path_factory) -> Iterator[MariaDBServer]:
    server = MariaDBServer(tmp_path_factory.mktemp("mariadb")).start()
    yield server
    server.stop()


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(skus=120, seed=7, profile="fast") as server:
        yield server


def _database_url(kind: str, request, tmp_path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'inventory.db'}"
    server = request.getfixturevalue("mariadb")
    return server.create_database(f"inv_{next(_db_names)}_{tmp_path.name[-20:].replace('-', '_')}"[:60])


@pytest.fixture(params=["sqlite", "mariadb"])
def database_url(request, tmp_path) -> str:
    """A fresh, migrated inventory database of each kind."""
    url = _database_url(request.param, request, tmp_path)
    migrate(make_engine(url))
    return url


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'inventory.db'}"
    migrate(make_engine(url))
    return url


@pytest.fixture
def pipeline(monkeypatch, sandbox, database_url) -> Pipeline:
    return make_pipeline(monkeypatch, sandbox, database_url)


@pytest.fixture
def sqlite_pipeline(monkeypatch, sandbox, sqlite_url) -> Pipeline:
    return make_pipeline(monkeypatch, sandbox, sqlite_url)
