"""Storing a snapshot as it is fetched: pages and rows written by the writer's own thread, in order,
and a storage failure surfaced in the fetch, with the snapshot recorded as failed."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import select, text

from inventory_pipeline.db.engine import make_engine
from inventory_pipeline.db.tables import stock_snapshots
from inventory_pipeline.defs.stock import snapshots
from inventory_pipeline.resources.pages import RawPage
from inventory_pipeline_tests.support.rows import stock


def test_pages_and_rows_are_stored_in_order(database_url):
    engine = make_engine(database_url)
    writer = snapshots.SnapshotWriter(engine, "wb", "main", "run-1")
    for n in range(40):  # more than one flush
        writer.add(RawPage("stocks", b'{"n": %d}' % n, {"n": n}))
        writer.add_rows([stock(f"S{n}", n)])
    writer.finish("accepted", 40, 40, 40, None)
    assert [payload["n"] for _, payload in snapshots.pages(engine, writer.id)] == list(range(40))
    lines = b"".join(snapshots.stored_rows(engine, writer.id)).splitlines()
    assert [line.split(b"\t")[2] for line in lines] == [b'"S%d"' % n for n in range(40)]
    assert snapshots.hashed(engine, writer.id).rows == 40


def test_a_storage_failure_stops_the_fetch_and_fails_the_snapshot(database_url):
    engine = make_engine(database_url)
    writer = snapshots.SnapshotWriter(engine, "wb", "main", "run-1")
    with engine.begin() as conn:  # the database loses the table mid-fetch
        conn.execute(text("DROP TABLE stock_snapshot_pages"))
    big = os.urandom(3 << 20)  # past FLUSH_BYTES: written at once
    with pytest.raises(RuntimeError, match=f"storing snapshot {writer.id} failed"):
        for _ in range(50):
            writer.add(RawPage("stocks", big, None))
    with pytest.raises(RuntimeError):
        writer.finish("accepted", 1, 1, 1, None)
    with engine.connect() as conn:
        status, reason = conn.execute(
            select(stock_snapshots.c.status, stock_snapshots.c.reason).where(stock_snapshots.c.id == writer.id)
        ).one()
    assert status == "failed" and reason.startswith("storing its pages failed:")
