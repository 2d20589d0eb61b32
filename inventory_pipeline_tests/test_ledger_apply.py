"""The ledger apply on both databases: atomic, idempotent, history only of real changes."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest
from sqlalchemy import func, select, update

from inventory_pipeline.db.engine import make_engine
from inventory_pipeline.db.tables import accounts, inventory_data, inventory_history, inventory_totals
from inventory_pipeline.defs.stock import ledger, row_diff
from inventory_pipeline.defs.stock.normalize import row
from inventory_pipeline_tests.support.ledger_views import history_count, ledger_state
from inventory_pipeline_tests.support.rows import stock, stored

T1, T2 = datetime(2026, 11, 23, 8, 0), datetime(2026, 11, 23, 12, 0)


def test_first_sync_is_the_baseline_then_changes_are_history(database_url):
    engine = make_engine(database_url)
    first = ledger.apply(engine, "wb", "main", T1, [[stock("A", 5), stock("B", 3), stock("C", 1)]], "run-1")
    assert (first.first_sync, first.inserted, history_count(engine)) == (True, 3, 0)
    second = ledger.apply(engine, "wb", "main", T2, [[stock("A", 5), stock("B", 4, 1), stock("D", 2)]], "run-2")
    assert (second.first_sync, second.inserted, second.changed, second.zeroed) == (False, 1, 1, 1)
    with engine.connect() as conn:
        history = {r.sku: (r.current_before, r.current_after) for r in conn.execute(select(inventory_history))}
        ledger_rows = {
            r.sku: (r.current_stock, r.available_stock, r.last_sync_at) for r in conn.execute(select(inventory_data))
        }
    assert history == {"B": (3, 4), "D": (None, 2), "C": (1, 0)}
    # Only the rows that changed are written; the slice's sync time is kept once, per slice.
    assert ledger_rows == {"A": (5, 5, T1), "B": (4, 3, T2), "C": (0, 0, T2), "D": (2, 2, T2)}
    assert ledger.freshness(engine) == {("wb", "main"): T2}


def test_reapplying_changes_nothing(database_url):
    engine = make_engine(database_url)
    rows = [[stock("A", 5), stock("B", 3)]]
    ledger.apply(engine, "wb", "main", T1, rows, "run-1")
    ledger.apply(engine, "wb", "main", T2, [[stock("A", 6)]], "run-2")
    state, history = ledger_state(engine), history_count(engine)
    again = ledger.apply(engine, "wb", "main", T2, [[stock("A", 6)]], "run-3")
    assert (again.inserted, again.changed, again.zeroed) == (0, 0, 0)
    assert ledger_state(engine) == state and history_count(engine) == history


def test_a_failure_mid_apply_leaves_the_ledger_as_it_was(database_url):
    engine = make_engine(database_url)
    ledger.apply(engine, "wb", "main", T1, [[stock("A", 5), stock("B", 3)]], "run-1")
    state = ledger_state(engine)

    def chunks():
        yield [stock("A", 50)]
        raise ConnectionError("snapshot store went away")

    with pytest.raises(ConnectionError):
        ledger.apply(engine, "wb", "main", T2, chunks(), "run-2")
    assert ledger_state(engine) == state
    ledger.apply(engine, "wb", "main", T2, [[stock("A", 50), stock("B", 3)]], "run-3")
    assert {r[2]: r[5] for r in ledger_state(engine)} == {"A": 50, "B": 3}


def test_awkward_text_survives_the_bulk_path(database_url):
    engine = make_engine(database_url)
    name = "Склад\t«Север»\\2\nкорпус"
    ledger.apply(engine, "wb", "main", T1, [[stock("SKU\\with\ttab", 1, name=name)]], "run-1")
    with engine.connect() as conn:
        stored = conn.execute(select(inventory_data.c.sku, inventory_data.c.warehouse_name)).one()
    # A warehouse's name is display text: its line break becomes a space (a stored row is one line).
    assert tuple(stored) == ("SKU\\with\ttab", "Склад\t«Север»\\2 корпус")


def test_duplicate_keys_are_refused_never_one_wins(database_url):
    """Two rows with one key: whichever were kept, the other's stock would be lost. Refused on every path
    (the first sync's bulk load, the full compare, the steady-state compare) with nothing written."""
    engine = make_engine(database_url)
    twice = [[stock("A", 5), stock("A", 7), stock("B", 1)]]
    with pytest.raises(ledger.StageError, match=r"1 .* keys appear more than once"):
        ledger.apply(engine, "wb", "main", T1, twice, "run-1")
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(inventory_data)).scalar_one() == 0
    first = [[stock("A", 5), stock("B", 1)]]
    ledger.apply(engine, "wb", "main", T1, first, "run-1", snapshot_id=1)
    state = ledger_state(engine)
    with pytest.raises(ledger.StageError):
        ledger.apply(engine, "wb", "main", T2, twice, "run-2")
    with pytest.raises(ledger.StageError):
        comparison = ledger.Comparison(1, stored(*first), stored(*twice))
        ledger.apply(engine, "wb", "main", T2, twice, "run-3", snapshot_id=2, comparison=comparison)
    assert ledger_state(engine) == state


def test_slices_do_not_touch_each_other(database_url):
    engine = make_engine(database_url)
    ledger.apply(engine, "wb", "main", T1, [[stock("A", 5)]], "run-1")
    ozon = row(
        "ozon", "main", "A", "", "fbo", product_id="9", marketplace_sku="9", warehouse_name="", present=7, reserved=0
    )
    ledger.apply(engine, "ozon", "main", T2, [[ozon]], "run-2")
    assert {(r[0], r[5]) for r in ledger_state(engine)} == {("wb", 5), ("ozon", 7)}


def test_totals_per_sku_sum_every_warehouse_and_type(database_url):
    engine = make_engine(database_url)
    rows = [
        row("ozon", "main", "A", w, t, product_id="1", marketplace_sku="1", warehouse_name="", present=p, reserved=r)
        for w, t, p, r in (("", "fbo", 10, 2), ("7", "fbs", 5, 1), ("8", "rfbs", 3, 0))
    ]
    ledger.apply(engine, "ozon", "main", T1, [rows], "run-1")
    with engine.connect() as conn:
        total = conn.execute(select(inventory_totals).where(inventory_totals.c.sku == "A")).one()
    assert (total.current_stock, total.reserved_stock, total.available_stock) == (18, 3, 15)


def test_two_runs_of_one_slice_at_once_queue_instead_of_deadlocking(database_url):
    """Two runs of one partition apply the same slice at the same moment, four times over."""
    engine = make_engine(database_url)
    ledger.apply(engine, "wb", "main", T1, [[stock(f"S{n}", 1) for n in range(3000)]], "run-0")
    for attempt in range(4):
        results: dict[str, object] = {}
        start = threading.Barrier(2)

        def run(name: str, units: int, results=results, start=start) -> None:
            start.wait()
            try:
                results[name] = ledger.apply(
                    engine, "wb", "main", T2, [[stock(f"S{n}", units) for n in range(3000)]], name
                )
            except Exception as exc:  # the assertion below shows it
                results[name] = exc

        threads = [
            threading.Thread(target=run, args=(f"a{attempt}", 10 + attempt)),
            threading.Thread(target=run, args=(f"b{attempt}", 20 + attempt)),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert all(isinstance(r, ledger.ApplyResult) for r in results.values()), results
        assert {r[5] for r in ledger_state(engine)} in ({10 + attempt}, {20 + attempt})


def test_the_migrations_build_exactly_the_schema_the_code_queries(database_url):
    """No drift between Alembic's migrations and db/tables.py (indexes included), on both databases."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from inventory_pipeline.db.tables import metadata

    engine = make_engine(database_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        drift = compare_metadata(context, metadata)
    assert drift == []


def test_an_existing_ledger_keeps_its_sync_times_across_the_slice_freshness_migration(database_url):
    """0007 moves a slice's sync time to ``accounts``: a ledger synced before it stays as fresh."""
    from alembic import command

    from inventory_pipeline.db.engine import _alembic_config

    engine = make_engine(database_url)  # at head; step back to 0006 and sync the old way
    config = _alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0006")
    with engine.begin() as conn:
        for sku, at in (("A", T1), ("B", T2)):
            values = stock(sku, 4, 1) | {"last_sync_at": at, "updated_at": at, "first_seen_at": T1}
            conn.execute(inventory_data.insert().values(**values))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    assert ledger.freshness(engine) == {("wb", "main"): T2}
    with engine.connect() as conn:
        totals = {r.sku: (r.current_stock, r.last_sync_at) for r in conn.execute(select(inventory_totals))}
    assert totals == {"A": (4, T2), "B": (4, T2)}  # a row's slice time, whenever the row last changed


def test_anomalies_stored_before_severities_get_theirs_by_rule(database_url):
    """0014: the weekly report counts what meant trouble; rows stored before it get a severity from
    their rule, and the old "jump" rows (rises and falls alike) are listed findings."""
    from alembic import command
    from sqlalchemy import column, table

    from inventory_pipeline.db.engine import _alembic_config
    from inventory_pipeline.db.tables import stock_anomalies

    engine = make_engine(database_url)
    config = _alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0013")
    key = {
        "run_id": "r",
        "detected_at": T1,
        "source": "wb",
        "account": "main",
        "warehouse_id": "1",
        "stock_type": "fbs",
    }
    # The table as 0013 left it: no severity column.
    before = table("stock_anomalies", *(column(c) for c in [*key, "sku", "rule", "value", "detail"]))
    with engine.begin() as conn:
        for sku, rule in (("a", "negative"), ("b", "reserved_over_present"), ("c", "jump"), ("d", "vanished")):
            conn.execute(before.insert().values(**key, sku=sku, rule=rule, value=1, detail=""))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    with engine.connect() as conn:
        found = dict(conn.execute(select(stock_anomalies.c.sku, stock_anomalies.c.severity)).all())
    assert found == {"a": "error", "b": "warn", "c": "info", "d": "info"}


def compare(previous_id: int, previous: list[list[dict]], new: list[list[dict]]) -> ledger.Comparison:
    return ledger.Comparison(previous_id, stored(*previous), stored(*new))


def figures(engine) -> tuple[str, str]:
    """The figures recorded for the slice, and the slice's own."""
    with engine.connect() as conn:
        return conn.execute(select(accounts.c.row_figures)).scalar_one(), ledger._scan(conn, "wb", "main", 10, T2)[0]


def test_a_steady_state_sync_compares_snapshots_and_writes_only_what_changed(database_url):
    """Given the snapshot the slice was last made equal to, only the changes since are staged and
    written, with the same history and the same result as comparing every ledger row."""
    engine = make_engine(database_url)
    first = [stock("A", 5), stock("B", 3), stock("C", 1), stock("E", 0)]
    ledger.apply(engine, "wb", "main", T1, [first], "run-1", snapshot_id=1)
    second = [[stock("A", 5), stock("B", 4, 1)], [stock("D", 2), stock("E", 0)]]
    result = ledger.apply(engine, "wb", "main", T2, [], "run-2", snapshot_id=2, comparison=compare(1, [first], second))
    assert (result.compared, result.not_compared) == ("snapshots", None)
    assert (result.staged, result.inserted, result.changed, result.zeroed) == (4, 1, 1, 1)
    with engine.connect() as conn:
        history = {
            r.sku: (r.current_before, r.current_after, r.change) for r in conn.execute(select(inventory_history))
        }
        rows = {
            r.sku: (r.current_stock, r.available_stock, r.last_sync_at) for r in conn.execute(select(inventory_data))
        }
    assert history == {"B": (3, 4, "changed"), "D": (None, 2, "new"), "C": (1, 0, "vanished")}
    assert rows == {"A": (5, 5, T1), "B": (4, 3, T2), "C": (0, 0, T2), "D": (2, 2, T2), "E": (0, 0, T1)}
    assert ledger.freshness(engine) == {("wb", "main"): T2} and ledger.last_applied(engine, "wb", "main") == 2
    # The figures recorded after a compared sync are the slice's own, so the next sync compares again.
    assert figures(engine) == ("3,11,1,10", "3,11,1,10")
    assert (result.health.rows, result.health.total_present, result.health.reserved_over_present) == (5, 11, 0)
    third = ledger.apply(engine, "wb", "main", T2, [], "run-3", snapshot_id=3, comparison=compare(2, second, [first]))
    assert third.compared == "snapshots" and (third.inserted, third.changed, third.zeroed) == (0, 2, 1)
    assert {r[2]: r[5] for r in ledger_state(engine)} == {"A": 5, "B": 3, "C": 1, "D": 0, "E": 0}
    assert figures(engine)[0] == figures(engine)[1]


def test_a_slice_changed_behind_the_ledgers_back_is_compared_row_by_row(database_url):
    engine = make_engine(database_url)
    rows = [stock("A", 5), stock("B", 3)]
    ledger.apply(engine, "wb", "main", T1, [rows], "run-1", snapshot_id=1)
    with engine.begin() as conn:  # an old script, or a hand, still writes to the ledger
        conn.execute(update(inventory_data).where(inventory_data.c.sku == "A").values(current_stock=9))
    newer = [stock("A", 5), stock("B", 4)]  # B changed: the shortcut writes it, then finds A's change
    again = ledger.apply(
        engine, "wb", "main", T2, [newer], "run-2", snapshot_id=2, comparison=compare(1, [rows], [newer])
    )
    assert again.compared == "ledger" and again.changed == 2
    assert again.not_compared == "the slice was changed since snapshot 1 was applied"
    assert {r[2]: r[5] for r in ledger_state(engine)} == {"A": 5, "B": 4}
    with engine.connect() as conn:  # the shortcut's writes were rolled back: B's change is recorded once
        assert conn.execute(select(func.count()).select_from(inventory_history)).scalar_one() == 2
    resync = ledger.apply(
        engine, "wb", "main", T2, [newer], "run-3", True, snapshot_id=2, comparison=compare(2, [newer], [newer])
    )
    assert resync.compared == "ledger"  # a full resync always compares every row


def test_snapshots_without_their_hashes_are_compared_row_by_row(database_url):
    engine = make_engine(database_url)
    rows = [stock("A", 5), stock("B", 3)]
    ledger.apply(engine, "wb", "main", T1, [rows], "run-1", snapshot_id=1)
    unhashed = row_diff.Stored(2, lambda keys: [], lambda chunk_nos: [])  # stored before the hashes were
    again = ledger.apply(
        engine,
        "wb",
        "main",
        T2,
        [[stock("A", 6), stock("B", 3)]],
        "run-2",
        snapshot_id=2,
        comparison=ledger.Comparison(1, unhashed, stored([stock("A", 6), stock("B", 3)])),
    )
    assert again.compared == "ledger" and again.changed == 1
    assert again.not_compared == "the stored hashes do not hold the snapshot's 2 rows"
    wrong_slice = ledger.apply(
        engine,
        "wb",
        "main",
        T2,
        [[stock("A", 7)]],
        "run-3",
        snapshot_id=3,
        comparison=compare(1, [rows], [[stock("A", 7)]]),
    )
    assert wrong_slice.not_compared == "the slice was not last made equal to snapshot 1"
    assert {r[2]: r[5] for r in ledger_state(engine)} == {"A": 7, "B": 0}


TWINS = ["ABC", "abc", "ABC ", "Ёлка", "Елка", "ёлка"]


def test_skus_that_differ_by_case_space_or_yo_are_separate_keys_on_every_database(database_url):
    """Under MySQL's default collation these six were two keys, and every identical re-sync flipped
    the survivor's value and wrote false history. They compare exactly on both databases."""
    engine = make_engine(database_url)
    rows = [[stock(sku, n + 1) for n, sku in enumerate(TWINS)]]
    first = ledger.apply(engine, "wb", "main", T1, rows, "run-1")
    assert first.inserted == 6
    assert {r[2]: r[5] for r in ledger_state(engine)} == {sku: n + 1 for n, sku in enumerate(TWINS)}
    again = ledger.apply(engine, "wb", "main", T2, [[stock(sku, n + 1) for n, sku in enumerate(TWINS)]], "run-2")
    assert (again.inserted, again.changed, again.zeroed) == (0, 0, 0)
    assert history_count(engine) == 0
    # The steady-state path (snapshots compared by hashes) keeps them apart as well.
    changed = [[stock(sku, 10 if sku == "abc" else n + 1) for n, sku in enumerate(TWINS)]]
    result = ledger.apply(
        engine,
        "wb",
        "main",
        T2,
        changed,
        "run-3",
        snapshot_id=2,
        comparison=ledger.Comparison(1, stored(*rows), stored(*changed)),
    )
    assert result.not_compared  # the slice was last made equal to no snapshot: every row compared
    assert {r[2]: r[5] for r in ledger_state(engine)}["ABC"] == 1
    assert {r[2]: r[5] for r in ledger_state(engine)}["abc"] == 10


def test_a_targeted_read_touches_only_its_skus_and_an_older_full_read_never_overwrites_it(database_url):
    """The fast path's partial snapshot: only the SKUs it read change, a row goes to zero only within
    the SKUs whose answer was complete, the slice's figures stay its own, and a full sync that read
    before it does not put the older figures back."""
    engine = make_engine(database_url)
    T3 = datetime(2026, 11, 23, 12, 5)
    ledger.apply(
        engine,
        "ozon",
        "main",
        T1,
        [[ozon("A", 5), ozon("B", 3), ozon("B", 2, "rfbs"), ozon("C", 1)]],
        "run-1",
        snapshot_id=1,
    )
    result = ledger.apply_partial(engine, "ozon", "main", T3, [ozon("A", 4), ozon("B", 6)], "fast-1", {"sku": ["B"]})
    assert (result.changed, result.zeroed) == (2, 1)  # A and B changed; B's rfbs row not in its answer
    state = {(r[2], r[4]): r[5] for r in ledger_state(engine)}
    assert state == {("A", "fbs"): 4, ("B", "fbs"): 6, ("B", "rfbs"): 0, ("C", "fbs"): 1}
    with engine.connect() as conn:
        mark = conn.execute(select(accounts.c.snapshot_id, accounts.c.row_figures)).one()
        scanned = ledger._scan(conn, "ozon", "main", 10_000, T3)[0]
    assert mark.snapshot_id is None and mark.row_figures == scanned  # the next sync compares with the ledger
    # A full sync that fetched before the targeted read: its older A and B are not written, C is.
    ledger.apply(
        engine,
        "ozon",
        "main",
        T2,
        [[ozon("A", 5), ozon("B", 3), ozon("B", 2, "rfbs"), ozon("C", 0)]],
        "run-2",
        snapshot_id=2,
    )
    state = {(r[2], r[4]): r[5] for r in ledger_state(engine)}
    assert state == {("A", "fbs"): 4, ("B", "fbs"): 6, ("B", "rfbs"): 0, ("C", "fbs"): 0}
    # It kept rows newer than its own read, so the slice does not hold its snapshot: not recorded as such.
    assert ledger.last_applied(engine, "ozon", "main") is None
    # A later full read wins again.
    ledger.apply(
        engine,
        "ozon",
        "main",
        datetime(2026, 11, 23, 13, 0),
        [[ozon("A", 5), ozon("B", 3), ozon("C", 0)]],
        "run-3",
        snapshot_id=3,
    )
    state = {(r[2], r[4]): r[5] for r in ledger_state(engine)}
    assert state == {("A", "fbs"): 5, ("B", "fbs"): 3, ("B", "rfbs"): 0, ("C", "fbs"): 0}
    assert ledger.last_applied(engine, "ozon", "main") == 3


def ozon(sku: str, present: int, stock_type: str = "fbs") -> dict:
    return row(
        "ozon",
        "main",
        sku,
        "",
        stock_type,
        product_id="1",
        marketplace_sku="1",
        warehouse_name="w",
        present=present,
        reserved=0,
    )


def test_anomalies_read_what_the_last_sync_wrote_and_a_stale_slice_whole(database_url):
    from datetime import timedelta

    from inventory_pipeline.clock import utcnow
    from inventory_pipeline.defs.monitoring import store
    from inventory_pipeline.defs.monitoring.anomalies import AnomalyRules

    engine = make_engine(database_url)
    rules = AnomalyRules(max_stock=100)
    first = utcnow() - timedelta(minutes=10)  # a sync's rows are written after its fetch began
    rows = [stock("NEG", -1), stock("BIG", 500), stock("OK", 3)]
    ledger.apply(engine, "wb", "main", first, [rows], "run-1", snapshot_id=1)
    current, _ = store.anomaly_inputs(engine, "main", first + timedelta(minutes=15), rules, "run-1")
    assert sorted(current.sku) == ["BIG", "NEG"]
    fetched = utcnow() + timedelta(seconds=1)  # the next sync's fetch began after the first was written
    rows = [stock("NEG", -1), stock("BIG", 500), stock("OK", 2)]
    second = ledger.apply(engine, "wb", "main", fetched, [rows], "run-2", snapshot_id=2)
    current, changes = store.anomaly_inputs(engine, "main", fetched + timedelta(minutes=5), rules, "run-2")
    # Judged when they were written; the ledger's own checks still count them in the whole slice.
    assert current.empty and list(changes.sku) == ["OK"]
    assert second.health.negative == 1
    assert store.slice_units(engine, "main") == {"wb": 501}
    later = fetched + timedelta(hours=9)  # the slice is stale: every row of it is a finding
    current, _ = store.anomaly_inputs(engine, "main", later, rules, "run-3")
    assert sorted(current.sku) == ["BIG", "NEG", "OK"]


def test_cover_is_evaluated_for_the_skus_whose_stock_changed_since_the_last_evaluation(database_url):
    from inventory_pipeline.defs.monitoring import store

    engine = make_engine(database_url)
    ledger.apply(engine, "wb", "main", T1, [[stock("A", 5), stock("B", 3)]], "run-1")
    assert store.changed_skus(engine, "main") is None  # the first evaluation judges every SKU
    assert store.changed_skus(engine, "main") == set()
    ledger.apply(engine, "wb", "main", T2, [[stock("A", 4), stock("B", 3)]], "run-2")
    assert store.changed_skus(engine, "main") == {"A"}
    assert store.changed_skus(engine, "main") == set()
