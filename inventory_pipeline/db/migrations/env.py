"""Alembic environment: migrates the database the caller's engine (or INVENTORY_DB_URL) points at."""

from alembic import context
from sqlalchemy import create_engine

from inventory_pipeline.db.tables import metadata

config = context.config
connection = config.attributes.get("connection")

if connection is not None:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    from inventory_pipeline.db.engine import database_url

    engine = create_engine(database_url())
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
