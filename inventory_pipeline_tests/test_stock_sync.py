"""End to end: the sandbox over HTTP → snapshots → ledger, on MariaDB and on SQLite."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import requests
from dagster import AssetKey, DagsterInstance, DagsterRunStatus
from sqlalchemy import delete, func, insert, select, update

from inventory_pipeline.db.engine import migrate
from inventory_pipeline.db.tables import (
    accounts,
    inventory_data,
    inventory_history,
    notifications,
    pacing_buckets,
    stock_signals,
    stock_snapshot_pages,
    stock_snapshot_rows,
    stock_snapshots,
    sync_logs,
)
from inventory_pipeline.definitions import build_definitions
from inventory_pipeline.settings import load_settings
from inventory_pipeline_tests.support.ledger_views import (
    assert_ledger_matches,
    history_count,
    ledger_state,
    ledger_view,
    truth_view,
)
from inventory_pipeline_tests.support.metadata import shown_table
from inventory_pipeline_tests.support.pipeline import make_pipeline
from marketplace_sandbox.world import WB_WAREHOUSES

ROOT = Path(__file__).resolve().parent.parent


def check_results(result) -> dict[tuple[str, str], bool]:
    return {(e.asset_key.path[-1], e.check_name): e.passed for e in result.get_asset_check_evaluations()}


def slice_metadata(result, source: str) -> dict:
    return result.asset_materializations_for_node(f"{source}_ledger_slice")[0].metadata


def test_ledger_equals_ground_truth_and_follows_time(pipeline):
    result = pipeline.run()
    assert result.success
    for source in ("ozon", "wb"):
        assert_ledger_matches(pipeline.engine, pipeline.truth(source), source)
    checks = check_results(result)
    assert all(v for k, v in checks.items() if k[0] != "stock_anomalies"), [k for k, v in checks.items() if not v]
    # The sandbox serves a few rows with more reserved than present, as real feeds do: the report says so.
    oversold = sum(1 for r in pipeline.truth("ozon") if r["reserved"] > r["present"])
    anomalies = result.asset_materializations_for_node("stock_anomalies")[0].metadata
    flagged = anomalies["rule_reserved_over_present"].value if "rule_reserved_over_present" in anomalies else 0
    assert flagged == oversold

    pipeline.advance(12)
    later = pipeline.run()
    assert later.success
    for source in ("ozon", "wb"):
        assert_ledger_matches(pipeline.engine, pipeline.truth(source), source)
    # The steady state: only what changed since the last applied snapshot was staged and written.
    compared = {s: slice_metadata(later, s)["compared_with"].value for s in ("ozon", "wb")}
    assert compared == {"ozon": "snapshots", "wb": "snapshots"}
    # The rows behind each slice's counts, largest moves first; the ledger shows the whole sync's.
    written = 0
    for source in ("ozon", "wb"):
        figures = slice_metadata(later, source)
        shown, total, rows = shown_table(figures["largest_changes"])
        assert total == sum(figures[k].value for k in ("inserted", "changed", "zeroed")) > 0
        assert shown == len(rows) == min(30, total) and {r["source"] for r in rows} == {source}
        moves = [abs(int(r["moved"])) for r in rows]
        assert moves == sorted(moves, reverse=True)
        written += total
    ledger_figures = later.asset_materializations_for_node("inventory_data")[0].metadata
    assert shown_table(ledger_figures["largest_changes"])[1] == written


def test_snapshots_stored_in_older_formats_are_migrated_once_to_the_one_format(pipeline):
    """Chunks stored before 0010 had no hashes, snapshots before 0008 no rows, and WB's warehouse part
    was counted in rows before 0006: migration 0013 brings them to today's format, so the ledger keeps
    one reading path. A slice made equal to a rowless snapshot compares with the ledger once."""
    p = pipeline
    assert p.run().success
    r = stock_snapshot_rows
    with p.engine.begin() as conn:
        original = conn.execute(select(r.c.snapshot_id, r.c.line_hashes, r.c.key_hashes)).all()
        conn.execute(update(r).values(line_hashes=None, key_hashes=None))  # as before 0010
        wb = conn.execute(select(accounts.c.snapshot_id).where(accounts.c.marketplace == "wb")).scalar_one()
        conn.execute(delete(r).where(r.c.snapshot_id == wb))  # as before 0008
        conn.execute(update(stock_snapshots).where(stock_snapshots.c.id == wb).values(part_rows='{"wb_warehouses": 9}'))
        conn.exec_driver_sql("ALTER TABLE stock_anomalies DROP COLUMN severity")  # as before 0014
        next(i for i in inventory_history.indexes if i.name == "idx_history_run").drop(conn)  # as before 0015
        for index in ("idx_marketplace_sku", "idx_slice_written"):  # as before 0016
            next(i for i in inventory_data.indexes if i.name == index).drop(conn)
        stock_signals.drop(conn)
        pacing_buckets.drop(conn)  # as before 0017
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0012'")
    migrate(p.engine)
    with p.engine.connect() as conn:
        migrated = conn.execute(select(r.c.snapshot_id, r.c.line_hashes, r.c.key_hashes)).all()
        slice_of_wb = conn.execute(select(accounts.c.snapshot_id).where(accounts.c.marketplace == "wb")).scalar_one()
        parts = conn.execute(select(stock_snapshots.c.part_rows).where(stock_snapshots.c.id == wb)).scalar_one()
    assert sorted(migrated) == sorted(row for row in original if row[0] != wb)  # what 0010 would have stored
    assert slice_of_wb is None and "wb_warehouses" not in parts
    p.advance(6)
    later = p.run()
    assert later.success
    assert slice_metadata(later, "ozon")["compared_with"].value == "snapshots"
    assert slice_metadata(later, "wb")["compared_with"].value == "ledger"
    for source in ("ozon", "wb"):
        assert_ledger_matches(p.engine, p.truth(source), source)


def test_rerun_changes_nothing(pipeline):
    assert pipeline.run().success
    state, history = ledger_state(pipeline.engine), history_count(pipeline.engine)
    assert pipeline.run().success
    assert ledger_state(pipeline.engine)[0][:8] == state[0][:8]
    assert [r[:8] for r in ledger_state(pipeline.engine)] == [r[:8] for r in state]
    assert history_count(pipeline.engine) == history


def test_sync_logs_answer_seed_000_queries(pipeline):
    result = pipeline.run()
    with pipeline.engine.connect() as conn:
        rows = conn.execute(
            select(
                sync_logs.c.source,
                sync_logs.c.status,
                sync_logs.c.records_processed,
                sync_logs.c.run_id,
                sync_logs.c.duration_seconds,
            )
        ).all()
    assert sorted(r.source for r in rows) == ["ozon", "wb"]
    with pipeline.engine.connect() as conn:
        skipped = dict(conn.execute(select(stock_snapshots.c.source, stock_snapshots.c.skipped_count)).all())
    # A sync that skipped the sandbox's odd unreadable row is "partial", as seed 004 names it.
    assert {r.source: r.status for r in rows} == {s: "partial" if n else "success" for s, n in skipped.items()}
    assert all(r.records_processed > 0 and r.run_id == result.run_id for r in rows)
    assert all(r.duration_seconds is not None for r in rows)


def test_sku_gone_from_a_complete_snapshot_goes_to_zero(sqlite_pipeline):
    p = sqlite_pipeline
    assert p.run().success
    with p.engine.begin() as conn:
        conn.execute(
            insert(inventory_data).values(
                source="ozon",
                account="main",
                sku="DELISTED-1",
                warehouse_id="",
                stock_type="fbo",
                product_id="1",
                marketplace_sku="1",
                warehouse_name="x",
                current_stock=7,
                reserved_stock=1,
                available_stock=6,
                last_sync_at=conn.execute(select(inventory_data.c.last_sync_at).limit(1))
                .scalar_one()
                .replace(year=2020),
                updated_at=conn.execute(select(inventory_data.c.updated_at).limit(1)).scalar_one(),
            )
        )
    p.advance(1)
    assert p.run("stock_sync_ozon").success
    with p.engine.connect() as conn:
        row = conn.execute(select(inventory_data).where(inventory_data.c.sku == "DELISTED-1")).one()
    assert (row.current_stock, row.reserved_stock, row.available_stock) == (0, 0, 0)


def test_server_error_halfway_through_paging_writes_nothing_and_rerun_converges(sqlite_pipeline, monkeypatch):
    p = sqlite_pipeline
    assert p.run().success
    before = ledger_state(p.engine)
    p.advance(24)
    monkeypatch.setenv("API_RETRY_COUNT", "1")
    monkeypatch.setenv("OZON_PAGE_SIZE", "20")  # several pages, so the failure lands mid-paging
    p.defs = build_definitions(load_settings())
    p.faults("500@/ozon/v4/product/info/stocks+2")
    result = p.run("stock_sync_ozon")
    assert not result.success
    failure = str(result.get_step_failure_events()[0].step_failure_data.error)
    assert "Ozon POST /v4/product/info/stocks failed after 2 attempts" in failure
    assert ledger_state(p.engine) == before
    with p.engine.connect() as conn:
        statuses = conn.execute(select(stock_snapshots.c.status).order_by(stock_snapshots.c.id)).scalars().all()
        log = conn.execute(select(sync_logs).order_by(sync_logs.c.id.desc()).limit(1)).one()
    assert statuses[-1] == "failed" and log.status == "failed" and "failed after 2 attempts" in log.error_message
    p.faults("")
    assert p.run("stock_sync_ozon").success
    assert_ledger_matches(p.engine, p.truth("ozon"), "ozon")


def test_empty_snapshot_is_blocked_and_ledger_untouched(sqlite_pipeline):
    p = sqlite_pipeline
    assert p.run().success
    before = ledger_state(p.engine)
    p.faults("empty@/ozon/v4/product/info/stocks")
    result = p.run()
    assert not result.success
    checks = check_results(result)
    assert checks[("ozon_stock_snapshot", "enough_products")] is False
    assert checks[("ozon_stock_snapshot", "no_collapse")] is False
    assert checks[("wb_stock_snapshot", "enough_products")] is True
    assert "inventory_data" not in {m.asset_key.path[-1] for m in result.get_asset_materialization_events()}
    assert [r for r in ledger_state(p.engine) if r[0] == "ozon"] == [r for r in before if r[0] == "ozon"]
    p.faults("")
    assert p.run().success


def test_collapse_is_blocked_until_an_operator_accepts_it(sqlite_pipeline):
    p = sqlite_pipeline
    assert p.run().success
    requests.post(f"{p.sandbox.url}/_sandbox/collapse", json={"channel": "wb", "keep_share": 0.3}, timeout=5)
    blocked = p.run()
    assert not blocked.success and check_results(blocked)[("wb_stock_snapshot", "no_collapse")] is False
    accepted = p.run(config={"ops": {"wb_stock_snapshot": {"config": {"accept_collapse": True}}}})
    assert accepted.success
    assert_ledger_matches(p.engine, p.truth("wb"), "wb")


def test_malformed_json_is_retried_then_reported(sqlite_pipeline):
    p = sqlite_pipeline
    p.faults("malformed@/wb/content+0*1")
    assert p.run().success  # one malformed page is retried and the sync converges
    assert_ledger_matches(p.engine, p.truth("wb"), "wb")
    p.faults("malformed@/wb/content")
    result = p.run("stock_sync_wb")
    assert not result.success
    assert "malformed JSON" in str(result.get_step_failure_events()[0].step_failure_data.error)


def test_wrong_key_fails_once_with_the_variable_to_fix(sqlite_pipeline, monkeypatch):
    p = sqlite_pipeline
    monkeypatch.setenv("OZON_API_KEY", "wrong-key")
    requests.delete(f"{p.sandbox.url}/_sandbox/calls", timeout=5)
    result = p.run("stock_sync_ozon")
    assert not result.success
    message = str(result.get_step_failure_events()[0].step_failure_data.error)
    assert "Fix OZON_API_KEY / OZON_CLIENT_ID (Ozon account 'main')" in message
    assert "wrong-key" not in message
    calls = requests.get(f"{p.sandbox.url}/_sandbox/calls", timeout=5).json()
    assert calls == {"POST /ozon/v4/product/info/stocks": 1}  # no retry storm


def test_429_storm_finishes_obeying_the_hints(sqlite_pipeline):
    p = sqlite_pipeline
    p.faults("429=0.5@/ozon")
    result = p.run("stock_sync_ozon")
    assert result.success
    assert_ledger_matches(p.engine, p.truth("ozon"), "ozon")
    # The waits are in the run's own event log, with their reason, not only in a process log.
    waits = [
        e.message
        for e in p.instance.all_logs(result.run_id)
        if e.step_key == "ozon_stock_snapshot" and "waiting" in (e.message or "")
    ]
    assert waits and all("HTTP 429" in w and "before retry" in w for w in waits)


def test_full_resync_removes_corrupt_rows_in_one_go(sqlite_pipeline):
    p = sqlite_pipeline
    assert p.run().success
    _corrupt_one_row(p.engine)
    result = p.run("stock_full_resync")
    assert result.success
    with p.engine.connect() as conn:
        assert conn.execute(select(inventory_data).where(inventory_data.c.current_stock < 0)).first() is None
    assert_ledger_matches(p.engine, p.truth("ozon"), "ozon")


def test_dry_run_reports_and_writes_nothing(sqlite_pipeline):
    p = sqlite_pipeline
    result = p.run("stock_sync_dry_run")
    assert result.success
    report = result.output_for_node("preview_stock_sync")
    assert report["ozon"]["new"] == sum(1 for _ in truth_view(p.truth("ozon"), "ozon")) or report["ozon"]["new"] > 0
    assert ledger_state(p.engine) == []


def test_each_account_is_its_own_partition(sqlite_pipeline):
    p = sqlite_pipeline
    assert p.run(account="second").success
    assert_ledger_matches(p.engine, p.truth("ozon", "second"), "ozon", "second")
    assert ledger_view(p.engine, "ozon", "main") == {}


def test_dropped_connection_and_timeout_mid_paging_are_retried(sqlite_pipeline, monkeypatch):
    p = sqlite_pipeline
    monkeypatch.setenv("OZON_PAGE_SIZE", "20")
    monkeypatch.setenv("API_TIMEOUT", "0.5")
    p.defs = build_definitions(load_settings())
    p.faults("drop@/ozon/v4/product/info/stocks+1*1,slow@/ozon/v4/product/info/stocks+3*1", slow_seconds=1.5)
    assert p.run("stock_sync_ozon").success
    assert_ledger_matches(p.engine, p.truth("ozon"), "ozon")


def test_truncated_paging_fails_the_completeness_check(sqlite_pipeline, monkeypatch):
    p = sqlite_pipeline
    monkeypatch.setenv("OZON_PAGE_SIZE", "20")
    p.defs = build_definitions(load_settings())
    p.faults("truncate@/ozon/v4/product/info/stocks+1*1")
    result = p.run("stock_sync_ozon")
    assert not result.success
    assert check_results(result)[("ozon_stock_snapshot", "complete")] is False
    assert ledger_state(p.engine) == []
    with p.engine.connect() as conn:
        assert conn.execute(select(stock_snapshots.c.status)).scalars().all() == ["rejected"]


def test_unreadable_rows_are_skipped_counted_and_the_sync_is_partial(sqlite_pipeline):
    p = sqlite_pipeline
    requests.put(f"{p.sandbox.url}/_sandbox/config", json={"ozon_bad_rows": ["HR-000003", "HR-000004"]}, timeout=5)
    result = p.run("stock_sync_ozon")
    assert result.success
    with p.engine.connect() as conn:
        log = conn.execute(select(sync_logs).where(sync_logs.c.source == "ozon")).one()
        skus = set(conn.execute(select(inventory_data.c.sku)).scalars())
    assert log.status == "partial" and log.records_failed >= 1
    assert "HR-000003" not in skus and "HR-000005" in skus


def test_hostile_values_are_refused_with_a_reason_never_stored_changed(pipeline):
    """A SKU longer than the column, a SKU named NULL, a count beyond INT: on MariaDB LOAD DATA would
    cut, blank or clamp them silently. Each is stored exactly or refused with a counted reason."""
    p = pipeline
    items = p.sandbox.sandbox.world.ozon["main"]
    long_sku = "L" * 130
    items[0].offer_id, items[1].offer_id = long_sku, long_sku + "B"  # cut to 128 they would be one key
    items[2].offer_id = "NULL"
    items[3].offer_id = 'quote"and\ttab'
    items[4].fbs = [10**12, 0]
    result = p.run("stock_sync_ozon")
    assert result.success
    with p.engine.connect() as conn:
        skus = set(conn.execute(select(inventory_data.c.sku)).scalars())
        log = conn.execute(select(sync_logs).where(sync_logs.c.source == "ozon")).one()
        biggest = conn.execute(select(func.max(inventory_data.c.current_stock))).scalar_one()
        fbs_of_4 = conn.execute(
            select(inventory_data.c.current_stock).where(
                inventory_data.c.sku == items[4].offer_id, inventory_data.c.stock_type == "fbs"
            )
        ).all()
    assert "NULL" in skus and "" not in skus and 'quote"and\ttab' in skus
    assert not any(s.startswith("LLLL") for s in skus)
    assert biggest < 2**31 - 1 and fbs_of_4 == []
    skipped = result.asset_materializations_for_node("ozon_stock_snapshot")[0].metadata["skipped_rows"].value
    assert log.status == "partial" and log.records_failed == skipped >= 3  # both long SKUs' rows and the huge one


def _corrupt_one_row(engine) -> None:
    with engine.begin() as conn:
        first = conn.execute(select(func.min(inventory_data.c.id)).where(inventory_data.c.source == "ozon")).scalar()
        conn.execute(update(inventory_data).where(inventory_data.c.id == first).values(current_stock=-5))
        assert conn.execute(select(func.count()).where(inventory_data.c.current_stock < 0)).scalar() == 1


def test_full_resync_that_dies_mid_apply_leaves_the_ledger_as_it_was(pipeline):
    """One transaction per source on MariaDB too: a failure after the corrupt-row DELETE undoes it."""
    p = pipeline
    assert p.run().success
    _corrupt_one_row(p.engine)
    before = ledger_state(p.engine)
    with p.engine.connect() as conn:
        snapshot_id = conn.execute(
            select(func.max(stock_snapshots.c.id)).where(stock_snapshots.c.source == "ozon")
        ).scalar_one()
    with p.engine.begin() as conn:  # the last rows of the newest snapshot cannot be read back
        rows = stock_snapshot_rows
        last = conn.execute(select(func.max(rows.c.chunk_no)).where(rows.c.snapshot_id == snapshot_id)).scalar_one()
        conn.execute(
            update(rows).where(rows.c.snapshot_id == snapshot_id, rows.c.chunk_no == last).values(rows_gzip=b"not gzip")
        )
    result = p.defs.resolve_job_def("stock_full_resync").execute_in_process(
        partition_key="main", instance=p.instance, raise_on_error=False, asset_selection=[AssetKey("ozon_ledger_slice")]
    )
    assert not result.success
    assert ledger_state(p.engine) == before  # the negative row is still there: nothing half-done


def test_full_resync_launched_from_the_cli_carries_its_own_config(monkeypatch, sandbox, sqlite_url, tmp_path):
    """As the README launches it: a backfill from the CLI, whose runs get no run config."""
    p = make_pipeline(monkeypatch, sandbox, sqlite_url)
    assert p.run().success
    _corrupt_one_row(p.engine)
    home = tmp_path / "home"
    home.mkdir()
    # Runs start at once (no daemon in this test), as with the production queue once it picks them up.
    (home / "dagster.yaml").write_text(
        "run_coordinator:\n  module: dagster._core.run_coordinator\n  class: DefaultRunCoordinator\n"
    )
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("dagster")),
            *("job", "backfill", "-w", "workspace.yaml", "-j", "stock_full_resync"),
            *("--partitions", "main", "--noprompt"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with DagsterInstance.get() as instance:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            runs = instance.get_runs()
            if runs and all(r.is_finished for r in runs):
                break
            time.sleep(1)
        assert [r.status for r in runs] == [DagsterRunStatus.SUCCESS]
        assert runs[0].tags.get("inventory/full_resync") == "true"
    with p.engine.connect() as conn:
        assert conn.execute(select(inventory_data).where(inventory_data.c.current_stock < 0)).first() is None
    assert_ledger_matches(p.engine, p.truth("ozon"), "ozon")


def _fbw_by_warehouse(engine) -> dict[tuple[str, str], tuple[int, int]]:
    d = inventory_data
    with engine.connect() as conn:
        rows = conn.execute(
            select(d.c.sku, d.c.warehouse_name, d.c.current_stock, d.c.reserved_stock).where(
                d.c.source == "wb", d.c.stock_type == "fbw", d.c.current_stock != 0
            )
        ).all()
    return {(sku, name): (present, reserved) for sku, name, present, reserved in rows}


def test_wb_fbw_per_warehouse_from_the_remains_report_or_one_aggregate(monkeypatch, sandbox, database_url):
    """The stocks report serves one aggregate per size today; the remains report gives each WB
    warehouse. Switching between them changes the rows, not the sums, and raises no FBO event."""
    aggregate = make_pipeline(monkeypatch, sandbox, database_url, WB_FBW_BY_WAREHOUSE="false")
    assert aggregate.run("stock_sync_wb").success
    truth = aggregate.truth("wb")
    assert {name for _, name in _fbw_by_warehouse(aggregate.engine)} == {"Склад WB"}
    assert_ledger_matches(aggregate.engine, truth, "wb")

    per_warehouse = make_pipeline(monkeypatch, sandbox, database_url, WB_FBW_BY_WAREHOUSE="true")
    assert per_warehouse.run("stock_sync_wb").success
    names = {wid: name for wid, name, _ in WB_WAREHOUSES}
    expected: dict[tuple[str, str], tuple[int, int]] = {}
    for r in truth:
        if r["stock_type"] != "fbw":
            continue
        if r["quantity"]:
            expected[(r["sku"], names[r["warehouse_id"]])] = (r["quantity"], 0)
        if r["in_way_to_client"]:
            present, _ = expected.get((r["sku"], "В пути до получателей"), (0, 0))
            total = present + r["in_way_to_client"]
            expected[(r["sku"], "В пути до получателей")] = (total, total)
    assert _fbw_by_warehouse(per_warehouse.engine) == expected
    assert_ledger_matches(per_warehouse.engine, truth, "wb")
    with per_warehouse.engine.connect() as conn:
        fbo_events = conn.execute(
            select(func.count()).where(notifications.c.event_type.in_(("StockFBOOver", "StockFBOReceived")))
        ).scalar_one()
    assert fbo_events == 0


def test_the_ledger_loads_the_rows_normalized_at_fetch_never_the_pages(sqlite_pipeline):
    p = sqlite_pipeline
    assert p.run().success
    resync = p.defs.resolve_job_def("stock_full_resync")
    with p.engine.begin() as conn:  # the pages are unreadable; the rows stored beside them are not
        conn.execute(update(stock_snapshot_pages).values(body_gzip=b"not gzip"))
    assert resync.execute_in_process(partition_key="main", instance=p.instance).success
    for source in ("ozon", "wb"):
        assert_ledger_matches(p.engine, p.truth(source), source)


def test_a_cursor_handed_back_twice_stops_the_read_instead_of_paging_forever(sqlite_pipeline, monkeypatch):
    p = sqlite_pipeline
    monkeypatch.setenv("OZON_PAGE_SIZE", "20")
    p.defs = build_definitions(load_settings())
    p.faults("stuck@/ozon/v4/product/info/stocks+1")  # the second page answers the cursor it was sent
    result = p.run("stock_sync_ozon")
    assert not result.success
    assert "returned the cursor" in str(result.get_step_failure_events()[0].step_failure_data.error)
    with p.engine.connect() as conn:
        assert conn.execute(select(stock_snapshots.c.status)).scalars().all() == ["failed"]
