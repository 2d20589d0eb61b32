"""The inventory database as a Dagster resource: one SQLAlchemy engine per process and URL."""

from __future__ import annotations

from functools import cache

from dagster import ConfigurableResource
from sqlalchemy import Engine

from inventory_pipeline.db.engine import make_engine, schema_revision


class SchemaNotMigratedError(RuntimeError):
    pass


@cache
def _engine(url: str) -> Engine:
    return make_engine(url)


@cache
def _checked(url: str) -> bool:
    current, head = schema_revision(_engine(url))
    if current != head:
        target = _engine(url).url.render_as_string(hide_password=True)
        raise SchemaNotMigratedError(
            f"the inventory database at {target} is at revision {current or 'none'}, the code needs {head}: "
            "run `make migrate` (or `.venv/bin/inventory-db upgrade`) with the same INVENTORY_DB_URL"
        )
    return True


def checked_engine(url: str) -> Engine:
    """The process's engine for ``url``, once its schema is known to be the code's."""
    _checked(url)
    return _engine(url)


class InventoryDatabase(ConfigurableResource):
    """MySQL/MariaDB through PyMySQL in production, SQLite as the embedded default
    (``INVENTORY_DB_URL``; the URL carries the password, so it arrives through ``EnvVar``)."""

    url: str

    @property
    def engine(self) -> Engine:
        return checked_engine(self.url)

    def describe(self) -> str:
        """The URL without its password, for logs and metadata."""
        return _engine(self.url).url.render_as_string(hide_password=True)
