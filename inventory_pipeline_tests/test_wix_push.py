"""The Wix push against the sandbox's V1 and V3 sites, checked against the sandbox's own truth."""

from __future__ import annotations

from collections import defaultdict

import pytest
import requests
from dagster import AssetKey
from sqlalchemy import select, update

from inventory_pipeline.db.tables import inventory_data, wix_push_log
from inventory_pipeline.definitions import build_definitions
from inventory_pipeline.settings import load_settings
from inventory_pipeline_tests.support.metadata import shown_table
from inventory_pipeline_tests.support.pipeline import make_pipeline

WRITES = (
    "/wix/stores/v2/inventoryItems/increment",
    "/wix/stores/v2/inventoryItems/decrement",
    "/wix/stores/v3/bulk/inventory-items/update",
)


def _receiver(received: list[dict]):
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def expected_quantities(p, account="main") -> dict[str, int]:
    """What Wix should show, from the marketplaces' truth: own-warehouse available stock, 0 otherwise.
    A SKU the sandbox serves with an unreadable row is left out: the ledger keeps its last value."""
    out: dict[str, int] = defaultdict(int)
    unreadable = set()
    for r in p.truth("ozon", account):
        out[r["sku"]] += max(0, r["present"] - r["reserved"]) if r["stock_type"] in ("fbs", "rfbs") else 0
        if not r["readable"]:
            unreadable.add(r["sku"])
    for r in p.truth("wb", account):
        out[r["sku"]] += max(0, r["quantity"]) if r["stock_type"] == "fbs" else 0
        if not r["readable"]:
            unreadable.add(r["sku"])
    return {sku: units for sku, units in out.items() if sku not in unreadable}


def fill_ledger(p) -> None:
    """The ledger from both marketplaces, without the push that the all-sources job would make."""
    assert p.run("stock_sync_ozon").success and p.run("stock_sync_wb").success


def push_key(p, run_id: str) -> str:
    from inventory_pipeline.defs.wix.store import push_key as key

    return key(p.engine, run_id)


def roll_back(p, run_id: str):
    """The rollback as an operator starts it: the push picked from the job's list of pushes."""
    return p.defs.resolve_job_def("wix_rollback").execute_in_process(
        partition_key=push_key(p, run_id), instance=p.instance, raise_on_error=False
    )


def fired(p) -> int:
    return sum(rule["fired"] for rule in requests.get(f"{p.sandbox.url}/_sandbox/faults", timeout=5).json()["rules"])


def wix_rows(p, site) -> list[dict]:
    return requests.get(f"{p.sandbox.url}/_sandbox/truth/wix", params={"site": site}, timeout=10).json()


def wix_truth(p, site) -> dict[str, int]:
    return {r["sku"]: r["quantity"] for r in wix_rows(p, site)}


def write_calls(p) -> int:
    calls = requests.get(f"{p.sandbox.url}/_sandbox/calls", timeout=5).json()
    return sum(n for key, n in calls.items() if key.split(" ", 1)[1] in WRITES)


@pytest.fixture(params=["site-v1", "site-v3"])
def wix_pipeline(request, monkeypatch, sandbox, sqlite_url):
    p = make_pipeline(
        monkeypatch, sandbox, sqlite_url, WIX_SITE_ID=request.param, WIX_MAX_ZERO_SHARE="0.9", WIX_MAX_TOTAL_CHANGE="5"
    )
    p.site = request.param
    return p


def test_push_sets_every_quantity_and_a_second_push_writes_nothing(wix_pipeline):
    p = wix_pipeline
    before = wix_truth(p, p.site)
    result = p.run()  # the all-sources job ends with the push when a site is configured
    assert result.success
    expected, after = expected_quantities(p), wix_truth(p, p.site)
    matched = [sku for sku in after if sku in expected]
    assert len(matched) > 50 and all(after[sku] == expected[sku] for sku in matched)
    known = {r["sku"] for source in ("ozon", "wb") for r in p.truth(source)}
    unknown = [sku for sku in after if sku not in known]
    assert unknown and all(after[sku] == before[sku] for sku in unknown)  # reported, never touched
    plan = result.asset_materializations_for_node("wix_stock_plan")[0].metadata
    assert plan["unknown_in_wix"].value == len(unknown) and plan["not_found_in_wix"].value > 0
    push = result.asset_materializations_for_node("wix_stock_push")[0].metadata
    assert push["verified"].value is True and push["errors"].value == 0
    # The SKUs behind the counts, largest moves first, each table saying how many of how many it shows.
    prepared = plan["updates_prepared"].value
    shown, total, rows = shown_table(plan["largest_changes"])
    assert total == prepared and shown == len(rows) == min(30, prepared)
    moves = [abs(int(r["change"])) for r in rows]
    assert moves == sorted(moves, reverse=True)
    assert all(after.get(r["sku"]) == int(r["target"]) for r in rows)
    _, zero_total, zeroed = shown_table(plan["going_to_zero"])
    assert zero_total == plan["set_to_zero"].value and all(r["target"] == "0" for r in zeroed)
    _, changed, written = shown_table(push["changed"])
    assert changed == push["updates_executed"].value and {r["sku"] for r in written} <= {r for r in after}

    requests.delete(f"{p.sandbox.url}/_sandbox/calls", timeout=5)
    again = p.run("wix_stock_push_job")
    assert again.success and write_calls(p) == 0
    assert again.asset_materializations_for_node("wix_stock_push")[0].metadata["updates_executed"].value == 0


def test_a_write_applied_then_failed_is_never_applied_twice(wix_pipeline):
    p = wix_pipeline
    fill_ledger(p)
    write = "/wix/stores/v2/inventoryItems/increment" if p.site == "site-v1" else "/wix/stores/v3/bulk"
    p.faults(f"500after@{write}*1")
    result = p.run("wix_stock_push_job")
    assert result.success and fired(p) == 1
    expected, after = expected_quantities(p), wix_truth(p, p.site)
    assert all(after[s] == expected[s] for s in after if s in expected)


def test_a_timed_out_write_is_read_back_before_anything_is_resent(monkeypatch, sandbox, sqlite_url):
    p = make_pipeline(
        monkeypatch,
        sandbox,
        sqlite_url,
        WIX_SITE_ID="site-v1",
        API_TIMEOUT="0.5",
        WIX_MAX_ZERO_SHARE="0.9",
        WIX_MAX_TOTAL_CHANGE="5",
    )
    fill_ledger(p)
    p.faults("slowafter@/wix/stores/v2/inventoryItems/increment*1", slow_seconds=1.0)
    assert p.run("wix_stock_push_job").success and fired(p) == 1
    expected, after = expected_quantities(p), wix_truth(p, "site-v1")
    assert all(after[s] == expected[s] for s in after if s in expected)


def test_a_push_cut_short_then_rerun_ends_exact(monkeypatch, sandbox, sqlite_url):
    p = make_pipeline(
        monkeypatch, sandbox, sqlite_url, WIX_SITE_ID="site-v1", WIX_MAX_ZERO_SHARE="0.9", WIX_MAX_TOTAL_CHANGE="5"
    )
    p.faults("500@/wix/stores/v2/inventoryItems/decrement")  # increments land, every decrement fails
    cut = p.run()
    assert not cut.success
    message = str(cut.get_step_failure_events()[0].step_failure_data.error)
    assert "Wix push incomplete" in message and "A re-run converges" in message
    with p.engine.connect() as conn:
        statuses = set(conn.execute(select(wix_push_log.c.status)).scalars())
    assert statuses == {"applied", "failed"}
    p.faults("")
    assert p.run("wix_stock_push_job").success
    expected, after = expected_quantities(p), wix_truth(p, "site-v1")
    assert all(after[s] == expected[s] for s in after if s in expected)


def test_stale_v3_revision_is_replanned(monkeypatch, sandbox, sqlite_url):
    from inventory_pipeline.db.engine import make_engine
    from inventory_pipeline.defs.wix.plan import plan
    from inventory_pipeline.defs.wix.push import push
    from inventory_pipeline.defs.wix.store import PushJournal
    from inventory_pipeline.resources.wix import WixStoresResource

    wix = WixStoresResource(
        base_url=f"{sandbox.url}/wix", api_key="sandbox-wix-api-key", site_id="site-v3", retry_delay_seconds=0.05
    )
    items = list(wix.items("V3_CATALOG"))
    wanted = {i.sku: i.quantity + 3 for i in items[:5]}
    planned = plan(wanted, items)
    first = planned.items[0].item  # someone else changes it after we planned: its revision moves on
    wix.set_v3([(first, 42)])
    outcome = push(wix, "V3_CATALOG", planned.changes, PushJournal(make_engine(sqlite_url), "run-1"))
    assert outcome.replans == 1 and not outcome.failed
    truth = wix_truth(type("P", (), {"sandbox": sandbox})(), "site-v3")
    assert all(truth[sku] == qty for sku, qty in wanted.items())


def test_guard_stops_a_push_that_would_empty_the_store(monkeypatch, sandbox, sqlite_url):
    received: list[dict] = []
    server = _receiver(received)
    p = make_pipeline(
        monkeypatch,
        sandbox,
        sqlite_url,
        WIX_SITE_ID="site-v1",
        NOTIFY_WEBHOOK_URL=f"http://127.0.0.1:{server.server_port}/",
    )
    assert p.run("stock_sync_ozon").success
    with p.engine.begin() as conn:  # a broken ledger: everything at zero
        conn.execute(update(inventory_data).values(current_stock=0, reserved_stock=0, available_stock=0))
    before = wix_truth(p, "site-v1")
    stopped = p.run("wix_stock_push_job")
    assert not stopped.success
    assert "would go to zero" in str(stopped.get_step_failure_events()[0].step_failure_data.error)
    assert wix_truth(p, "site-v1") == before
    assert [r["event"] for r in received] == ["WixPushStopped"]  # the alert went out
    server.shutdown()
    confirmed = p.run(
        "wix_stock_push_job", config={"ops": {"wix_stock_push": {"config": {"confirm_large_change": True}}}}
    )
    assert confirmed.success


def test_a_blocked_snapshot_stops_the_push_in_the_same_run(wix_pipeline):
    p = wix_pipeline
    before = wix_truth(p, p.site)
    p.faults("empty@/ozon/v4/product/info/stocks")
    result = p.run()
    assert not result.success
    # Wildberries' good answer still reaches its slice; the ledger and the push wait for both.
    assert {m.asset_key.path[-1] for m in result.get_asset_materialization_events()} == {
        "wb_stock_snapshot",
        "wb_ledger_slice",
    }
    assert wix_truth(p, p.site) == before


def test_rollback_restores_what_a_run_changed(wix_pipeline):
    p = wix_pipeline
    before = wix_truth(p, p.site)
    pushed = p.run()
    assert pushed.success and wix_truth(p, p.site) != before
    assert push_key(p, pushed.run_id) in p.instance.get_dynamic_partitions("wix_pushes")  # listed to pick
    assert roll_back(p, pushed.run_id).success
    assert wix_truth(p, p.site) == before


def test_wix_is_left_out_of_the_sync_when_no_site_is_configured(monkeypatch, sandbox, sqlite_url):
    make_pipeline(monkeypatch, sandbox, sqlite_url)  # no WIX_SITE_ID
    defs = build_definitions(load_settings())
    selection = defs.resolve_job_def("stock_sync_all_sources").asset_layer.executable_asset_keys
    assert {k.path[-1] for k in selection} == {
        "ozon_stock_snapshot",
        "wb_stock_snapshot",
        "ozon_ledger_slice",
        "wb_ledger_slice",
        "inventory_data",
        "stock_events",
        "stock_anomalies",
    }


def test_process_killed_mid_push_then_rerun_is_exact(monkeypatch, sandbox, sqlite_url, tmp_path):
    """A real kill: the push runs in its own process, which is SIGKILLed while a write it sent is still
    unanswered. The re-run reads what Wix holds and finishes exactly, nothing applied twice."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    from inventory_pipeline.settings import PROJECT_ROOT

    p = make_pipeline(
        monkeypatch, sandbox, sqlite_url, WIX_SITE_ID="site-v1", WIX_MAX_ZERO_SHARE="0.9", WIX_MAX_TOTAL_CHANGE="5"
    )
    fill_ledger(p)
    before = wix_truth(p, "site-v1")
    p.faults("slowafter@/wix/stores/v2/inventoryItems/decrement", slow_seconds=10)
    requests.delete(f"{p.sandbox.url}/_sandbox/calls", timeout=5)
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    child = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("dagster")),
            "job",
            "execute",
            "-m",
            "inventory_pipeline.definitions",
            "-j",
            "wix_stock_push_job",
        ],
        cwd=PROJECT_ROOT,
        env={**os.environ, "DAGSTER_HOME": str(home)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while not fired(p) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert fired(p) == 1, "the push never reached its decrement batch"
    time.sleep(0.5)  # the decrement is applied; its answer is still 10 s away
    os.killpg(child.pid, signal.SIGKILL)
    assert child.wait(timeout=30) == -signal.SIGKILL
    p.faults("")
    # The audit trail survived the kill: the batch in flight is "pending", so a rollback can undo it.
    with p.engine.connect() as conn:
        logged = conn.execute(select(wix_push_log.c.run_id, wix_push_log.c.status)).all()
    assert logged and {r.status for r in logged} >= {"pending"} and len({r.run_id for r in logged}) == 1
    killed_run = logged[0].run_id
    assert wix_truth(p, "site-v1") != before
    p.instance.add_dynamic_partitions("wix_pushes", [push_key(p, killed_run)])  # it was listed in its own instance
    assert roll_back(p, killed_run).success
    assert wix_truth(p, "site-v1") == before
    assert p.run("wix_stock_push_job").success
    expected, after = expected_quantities(p), wix_truth(p, "site-v1")
    assert all(after[s] == expected[s] for s in after if s in expected)


def test_the_push_finds_its_plan_in_the_database_not_in_an_io_manager(wix_pipeline):
    """Plan in one run, push in another (as on machines that share only the database)."""
    from dagster import AssetKey

    p = wix_pipeline
    fill_ledger(p)
    planned = p.run("wix_stock_plan_only")
    assert planned.success
    plan_id = planned.asset_materializations_for_node("wix_stock_plan")[0].metadata["plan_id"].value
    pushed = p.defs.resolve_job_def("wix_stock_push_job").execute_in_process(
        instance=p.instance, asset_selection=[AssetKey("wix_stock_push")], raise_on_error=False
    )
    assert pushed.success
    expected, after = expected_quantities(p), wix_truth(p, p.site)
    assert all(after[s] == expected[s] for s in after if s in expected)
    with p.engine.connect() as conn:
        assert conn.execute(select(wix_push_log.c.run_id).distinct()).scalars().all() == [pushed.run_id]
    assert pushed.asset_materializations_for_node("wix_stock_push")[0].metadata["plan_id"].value == plan_id


def test_v3_reads_every_items_result_inside_the_200(monkeypatch, sandbox, sqlite_url):
    """Wix answers a bulk update item by item inside a 200. An item it refused was logged 'applied'
    (and a rollback then overwrote it); now a refused item is written again, and one Wix keeps
    refusing is counted, named, and never logged applied."""
    p = make_pipeline(
        monkeypatch, sandbox, sqlite_url, WIX_SITE_ID="site-v3", WIX_MAX_ZERO_SHARE="0.9", WIX_MAX_TOTAL_CHANGE="5"
    )
    fill_ledger(p)
    expected = expected_quantities(p)
    to_change = [r["sku"] for r in wix_rows(p, "site-v3") if expected.get(r["sku"], r["quantity"]) != r["quantity"]]
    refusing = sorted(to_change)[:2]
    p.configure(wix_refusing=refusing, wix_transient_refusals=0.1)  # two always; one in ten once in a while
    result = p.run("wix_stock_push_job")
    assert not result.success
    failure = str(result.get_step_failure_events()[0].step_failure_data.error)
    with p.engine.connect() as conn:
        logged = {r.sku: (r.status, r.error) for r in conn.execute(select(wix_push_log))}
    failed = {sku for sku, (status, _) in logged.items() if status == "failed"}
    assert set(refusing) <= failed and len(failed) < len(to_change) // 10  # the once-refused were written again
    assert f"{len(failed)} SKUs not at target" in failure and all(sku in failure for sku in refusing)
    assert all("Wix did not write it" in logged[sku][1] for sku in failed)
    after = wix_truth(p, "site-v3")
    assert all(after[s] == expected[s] for s in after if s in expected and s not in failed)  # the rest landed
    assert all(after[s] != expected[s] for s in failed)  # and what was logged failed is indeed not written


def test_a_stale_revision_answered_428_replans_the_batch(monkeypatch, sandbox, sqlite_url):
    p = make_pipeline(
        monkeypatch, sandbox, sqlite_url, WIX_SITE_ID="site-v3", WIX_MAX_ZERO_SHARE="0.9", WIX_MAX_TOTAL_CHANGE="5"
    )
    p.configure(wix_transient_refusals=0)
    fill_ledger(p)
    assert p.run("wix_stock_plan_only").success
    # Someone edits one item in Wix between the plan and the push: its revision moves on.
    item = next(r for r in wix_rows(p, "site-v3") if r["sku"] in expected_quantities(p))
    edited = requests.patch(
        f"{p.sandbox.url}/wix/stores/v3/inventory-items/{item['v3_inventory_item_id']}",
        json={"inventoryItem": {"revision": str(item["revision"]), "quantity": item["quantity"] + 3}},
        headers={"Authorization": "sandbox-wix-api-key", "wix-site-id": "site-v3"},
        timeout=10,
    )
    assert edited.status_code == 200
    pushed = p.defs.resolve_job_def("wix_stock_push_job").execute_in_process(
        instance=p.instance, asset_selection=[AssetKey("wix_stock_push")], raise_on_error=False
    )
    assert pushed.success
    metadata = pushed.asset_materializations_for_node("wix_stock_push")[0].metadata
    assert metadata["replans_after_stale_revision"].value >= 1
    expected, after = expected_quantities(p), wix_truth(p, "site-v3")
    assert all(after[s] == expected[s] for s in after if s in expected)


def _sell(p, site: str, sku: str, units: int) -> None:
    """A buyer orders ``units`` of ``sku`` in the Wix store: Wix takes them off its quantity."""
    row = next(r for r in wix_rows(p, site) if r["sku"] == sku)
    headers = {"Authorization": "sandbox-wix-api-key", "wix-site-id": site}
    if site == "site-v1":
        body = {
            "decrementData": [{"productId": row["product_id"], "variantId": row["variant_id"], "decrementBy": units}]
        }
        answer = requests.post(f"{p.sandbox.url}/wix/stores/v2/inventoryItems/decrement", json=body, headers=headers)
    else:
        item = {"revision": str(row["revision"]), "quantity": row["quantity"] - units}
        answer = requests.patch(
            f"{p.sandbox.url}/wix/stores/v3/inventory-items/{row['v3_inventory_item_id']}",
            json={"inventoryItem": item},
            headers=headers,
        )
    assert answer.status_code == 200, answer.text


def test_a_rollback_after_sales_keeps_the_sales(wix_pipeline):
    """Undoing a push wrote every SKU back to its old figure, erasing what buyers bought since (the
    store could then sell stock it no longer had). The push's own change is taken back instead."""
    p = wix_pipeline
    p.configure(wix_transient_refusals=0)
    before = wix_truth(p, p.site)
    pushed = p.run()
    assert pushed.success
    after_push = wix_truth(p, p.site)
    raised = sorted(s for s in after_push if after_push[s] > before[s] >= 0 and after_push[s] >= 3)[:3]
    lowered = sorted(s for s in after_push if before[s] > after_push[s] >= 2)[:3]
    assert raised and lowered
    for sku in raised + lowered:
        _sell(p, p.site, sku, 2)
    result = roll_back(p, pushed.run_id)
    assert result.success
    now = wix_truth(p, p.site)
    for sku in raised + lowered:
        assert now[sku] == max(0, before[sku] - 2), sku  # what it was, less what sold since
    untouched = [s for s in before if s not in raised + lowered and before[s] != after_push[s]]
    assert untouched and all(now[s] == before[s] for s in untouched)


def test_a_rollback_leaves_alone_what_a_later_push_wrote_and_what_never_landed(monkeypatch, sandbox, sqlite_url):
    p = make_pipeline(
        monkeypatch, sandbox, sqlite_url, WIX_SITE_ID="site-v1", WIX_MAX_ZERO_SHARE="0.9", WIX_MAX_TOTAL_CHANGE="5"
    )
    fill_ledger(p)
    first = p.run("wix_stock_push_job")
    assert first.success
    p.advance(6)
    fill_ledger(p)
    second = p.run("wix_stock_push_job")  # writes some of the same SKUs again
    assert second.success
    with p.engine.connect() as conn:
        again = set(conn.execute(select(wix_push_log.c.sku).where(wix_push_log.c.run_id == second.run_id)).scalars())
        mine = set(conn.execute(select(wix_push_log.c.sku).where(wix_push_log.c.run_id == first.run_id)).scalars())
    assert mine & again
    shown = wix_truth(p, "site-v1")
    # A write of the first push that was still pending when it died, and never landed.
    with p.engine.begin() as conn:
        lost = next(iter(sorted(mine - again)))
        conn.execute(
            update(wix_push_log)
            .where(wix_push_log.c.run_id == first.run_id, wix_push_log.c.sku == lost)
            .values(status="pending", before_quantity=shown[lost], target_quantity=shown[lost] + 50)
        )
    result = roll_back(p, first.run_id)
    assert result.success
    now = wix_truth(p, "site-v1")
    assert all(now[s] == shown[s] for s in mine & again)  # the later push's writes stand
    assert now[lost] == shown[lost]  # the write that never landed is not "undone"
    assert result.output_for_node("rollback_wix_push")["left_alone"] >= len(mine & again) + 1
    output = next(e for e in result.events_for_node("rollback_wix_push") if e.event_type_value == "STEP_OUTPUT")
    listed = output.event_specific_data.metadata["left_alone_skus"].value  # every SKU left alone, with why
    assert "written again by a later push" in listed and "the write never landed" in listed and lost in listed


def test_every_size_variant_gets_its_sizes_quantity(wix_pipeline):
    """A product sold in sizes is one Wix product with a variant per size: each variant's quantity is
    its size's own stock (the WB card's size, the Ozon offer of that size), a variant for a size no
    marketplace sells is reported and left alone, and each product's total is the truth's."""
    p = wix_pipeline
    p.configure(wix_transient_refusals=0)
    before = {r["sku"]: r for r in wix_rows(p, p.site)}
    result = p.run()
    assert result.success
    expected, rows = expected_quantities(p), wix_rows(p, p.site)
    by_product: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_product[r["product_id"]].append(r)
    sized = {pid: vs for pid, vs in by_product.items() if any(v["sku"].endswith(("-S", "-M", "-44")) for v in vs)}
    assert sized
    extra = [v for vs in sized.values() for v in vs if v["sku"].endswith("-XXL")]
    assert extra and all(v["quantity"] == before[v["sku"]]["quantity"] for v in extra)  # reported, never touched
    plan = result.asset_materializations_for_node("wix_stock_plan")[0].metadata
    assert all(v["sku"] in plan["unknown_in_wix_preview"].value for v in extra[:3])
    for variants in sized.values():
        sold = [v for v in variants if v["sku"] in expected]
        assert sum(v["quantity"] for v in sold) == sum(expected[v["sku"]] for v in sold)
        assert all(v["quantity"] == expected[v["sku"]] for v in sold)


def test_a_mapping_file_names_a_size_as_the_store_does(monkeypatch, sandbox, sqlite_url, tmp_path):
    """A seller whose Wix variant is called something else than WB's article-size: the mapping file
    gives the size that name, and its WB stock reaches that variant."""
    p = make_pipeline(
        monkeypatch, sandbox, sqlite_url, WIX_SITE_ID="site-v1", WIX_MAX_ZERO_SHARE="0.9", WIX_MAX_TOTAL_CHANGE="5"
    )
    world = p.sandbox.sandbox.world
    unreadable = {chrt for _, chrt in world.unreadable_wb}
    in_wix = {v.sku: v for prod in world.wix["site-v1"] for v in prod.variants}
    size = next(
        it
        for it in world.wb["main"]
        if it.tech_size in {"S", "M", "L", "46"}
        and it.seller_amount > 0
        and it.chrt_id not in unreadable
        and it.sku in in_wix
    )
    variant = in_wix[size.sku]
    variant.sku = "STORE-NAME-M"  # as the seller named it in the store
    mapping = tmp_path / "wb_skus.csv"
    # Only this account's barcodes are mapped: the variant shows this size's stock in main's own warehouse.
    mapping.write_text("barcode,sku\n" + "".join(f"{b},STORE-NAME-M\n" for b in size.barcodes))
    monkeypatch.setenv("WB_SKU_MAP_FILE", str(mapping))
    p.defs = build_definitions(load_settings())
    assert p.run().success
    assert wix_truth(p, "site-v1")["STORE-NAME-M"] == size.seller_amount


def test_a_wix_cursor_handed_back_twice_stops_the_plan(monkeypatch, sandbox, sqlite_url):
    p = make_pipeline(monkeypatch, sandbox, sqlite_url, WIX_SITE_ID="site-v3")
    fill_ledger(p)
    p.faults("stuck@/wix/stores/v3/inventory-items/query+1")  # the second page answers the cursor it was sent
    result = p.run("wix_stock_plan_only")
    assert not result.success
    assert "returned the cursor" in str(result.get_step_failure_events()[0].step_failure_data.error)
