"""The fast path end to end: the sandbox's live buyers and sellers, Ozon pushes delivered over HTTP
to the receiver, WB orders polled by the sensor, the fast-path runs, and Wix checked against the
marketplaces' truth. On SQLite and MariaDB."""

from __future__ import annotations

import time

import pytest
import requests
from dagster import build_sensor_context
from sqlalchemy import func, select

from inventory_pipeline.db.tables import accounts, stock_signals
from inventory_pipeline.defs.signals.receiver import create_app, gate_from_settings
from inventory_pipeline.resources import build_resources
from inventory_pipeline.settings import load_settings
from inventory_pipeline_tests.support.asgi import serving
from inventory_pipeline_tests.support.ledger_views import ledger_state
from inventory_pipeline_tests.support.pipeline import make_pipeline
from marketplace_sandbox import SandboxServer

ACCOUNTS = ("main", "second")


def _live(p, **settings) -> dict:
    answer = requests.put(f"{p.sandbox.url}/_sandbox/live", json=settings, timeout=10)
    answer.raise_for_status()
    return answer.json()


def _report(p) -> dict:
    return requests.get(f"{p.sandbox.url}/_sandbox/live", timeout=10).json()


def _wix(p) -> dict[str, int]:
    return {r["sku"]: r["quantity"] for r in p.truth("wix")}


def _sensor_tick(p) -> list:
    sensor = next(s for s in p.defs.sensors if s.name == "stock_signals")
    resources = build_resources(load_settings())
    context = build_sensor_context(
        instance=p.instance,
        resources=resources,
        cursor=getattr(p, "cursor", None),
        repository_def=p.defs.get_repository_def(),
    )
    result = sensor.evaluate_tick(context)
    p.cursor = context.cursor
    return result.run_requests or []


def _expected_all(p) -> dict[str, int]:
    """What Wix should show over both accounts; a SKU with an unreadable row anywhere is left out."""
    out: dict[str, int] = {}
    unreadable: set[str] = set()
    for account in ACCOUNTS:
        for r in p.truth("ozon", account):
            out[r["sku"]] = out.get(r["sku"], 0) + (
                max(0, r["present"] - r["reserved"]) if r["stock_type"] in ("fbs", "rfbs") else 0
            )
            unreadable |= {r["sku"]} if not r["readable"] else set()
        for r in p.truth("wb", account):
            out[r["sku"]] = out.get(r["sku"], 0) + (max(0, r["quantity"]) if r["stock_type"] == "fbs" else 0)
            unreadable |= {r["sku"]} if not r["readable"] else set()
    return {sku: units for sku, units in out.items() if sku not in unreadable}


@pytest.fixture
def fast(monkeypatch, database_url):
    with SandboxServer(skus=120, seed=7, profile="fast", wix_in_sync=True) as sandbox:
        p = make_pipeline(monkeypatch, sandbox, database_url, WIX_SITE_ID="site-v1", WB_ORDER_STATUS_POLL_SECONDS="1")
        for account in ACCOUNTS:
            assert p.run(account=account).success
        with serving(create_app(p.engine, gate_from_settings())) as url:
            p.receiver = url
            yield p


def test_live_orders_edits_and_cancellations_reach_wix_through_the_fast_path(fast):
    p = fast
    # Live buyers and sellers for a few seconds: Ozon pushes each posting and stock edit to the receiver.
    _live(
        p,
        push_url=f"{p.receiver}/ozon/push",
        orders_per_minute=400,
        edits_per_minute=120,
        cancel_share=0.4,
        cancel_after_seconds=1.5,
        ship_after_seconds=30,  # still among WB's new orders when the sensor polls
        running=True,
    )
    time.sleep(4)
    _live(p, running=False)
    before = _report(p)
    assert before["changes"] > 20 and before["pushes"].get("delivered", 0) > 0
    assert before["open"], "the live changes left Wix behind the truth"
    with p.engine.connect() as conn:
        pushed = conn.execute(select(func.count()).select_from(stock_signals)).scalar_one()
    assert pushed > 0  # each push stored before it was answered
    requested = _sensor_tick(p)  # polls WB's new orders and Ozon's unfulfilled postings, asks for runs
    assert {r.tags["signals/account"] for r in requested} == set(ACCOUNTS)
    for request in requested:
        result = p.run("stock_fast_path", config=request.run_config)
        assert result.success, result
    after = _report(p)
    assert after["open"] == [], f"Wix still behind the truth for {after['open_skus']}"
    assert len(after["lags"]) >= len(before["open"])
    # Buyers cancel WB orders the sensor saw as new: the unit is back, and Wix shows it again.
    _live(p, orders_per_minute=0, edits_per_minute=0, cancel_share=0, cancel_after_seconds=0, running=True)
    time.sleep(1)
    _live(p, running=False)
    assert _report(p)["open"], "the cancellations left Wix behind the truth"
    time.sleep(1)  # the status poll's interval (WB_ORDER_STATUS_POLL_SECONDS=1)
    for request in _sensor_tick(p):
        assert p.run("stock_fast_path", config=request.run_config).success
    after = _report(p)
    assert after["open"] == [], f"Wix still behind the truth after cancellations for {after['open_skus']}"
    assert after["wrong_without_a_change"] == []
    with p.engine.connect() as conn:
        kinds = dict(conn.execute(select(stock_signals.c.kind, func.count()).group_by(stock_signals.c.kind)).all())
    assert {"wb_new_order", "wb_order_cancelled", "TYPE_NEW_POSTING", "TYPE_STOCKS_CHANGED"} <= set(kinds), kinds
    expected, wix = _expected_all(p), _wix(p)
    wrong = {s: (wix[s], q) for s, q in expected.items() if s in wix and wix[s] != q}
    assert not wrong, f"Wix differs from the truth: {list(wrong.items())[:5]}"
    with p.engine.connect() as conn:
        statuses = dict(
            conn.execute(select(stock_signals.c.status, func.count()).group_by(stock_signals.c.status)).all()
        )
        marks = dict(
            conn.execute(select(accounts.c.name, accounts.c.snapshot_id).where(accounts.c.marketplace == "ozon")).all()
        )
    assert set(statuses) == {"applied"}, statuses
    assert marks == {"main": None, "second": None}  # the next full sync compares with the ledger
    # Nothing waits: the next tick asks for no run.
    assert _sensor_tick(p) == []
    # The full sync after the fast path agrees with it, and nothing the fast path wrote is lost.
    ledger_before = _ledger(p)
    assert p.run(account="main").success
    assert p.run(account="second").success
    ledger_after = _ledger(p)
    changed = {k for k in ledger_before if ledger_before[k] != ledger_after.get(k)}
    assert not changed, f"the full sync moved {len(changed)} rows the fast path had set: {sorted(changed)[:5]}"


def _ledger(p) -> dict:
    """Each ledger key's present and reserved units."""
    return {tuple(r[:5]): (r[5], r[6]) for r in ledger_state(p.engine)}


def test_a_push_delivered_twice_is_one_signal_and_a_stranger_is_refused(fast):
    p = fast
    offer = p.truth("ozon")[0]["sku"]
    message = {
        "message_type": "TYPE_NEW_POSTING",
        "seller_id": int(
            requests.get(f"{p.sandbox.url}/_sandbox/accounts", timeout=5).json()["ozon"]["main"]["client_id"]
        ),
        "posting_number": "0001-1",
        "products": [{"sku": 1, "offer_id": offer, "quantity": 1}],
        "in_process_at": "2026-12-02T10:00:00Z",
        "warehouse_id": 1,
    }
    for _ in range(2):
        answer = requests.post(f"{p.receiver}/ozon/push", json=message, timeout=5)
        assert answer.status_code == 200 and answer.json() == {"result": True}
    with p.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(stock_signals)).scalar_one() == 1
    ping = requests.post(f"{p.receiver}/ozon/push", json={"message_type": "TYPE_PING", "time": "x"}, timeout=5)
    assert ping.status_code == 200 and set(ping.json()) == {"version", "name", "time"}
    stranger = requests.post(f"{p.receiver}/ozon/push", json=message | {"seller_id": 1}, timeout=5)
    assert stranger.status_code == 403 and stranger.json()["error"]["code"] == "ERROR_UNKNOWN"
    broken = requests.post(
        f"{p.receiver}/ozon/push",
        json={"message_type": "TYPE_NEW_POSTING", "seller_id": message["seller_id"]},
        timeout=5,
    )
    assert broken.status_code == 400 and broken.json()["error"]["code"] == "ERROR_PARAMETER_VALUE_MISSED"
    # Behind a proxy whose X-Real-IP names a stranger's address, the source is refused.
    spoofed = requests.post(f"{p.receiver}/ozon/push", json=message, headers={"X-Real-IP": "203.0.113.9"}, timeout=5)
    assert spoofed.status_code == 403


def _signal(p, source: str, kind: str, ref_type: str, ref: str, warehouse: str = "", key: str = "") -> None:
    from inventory_pipeline.defs.signals import queue
    from inventory_pipeline.defs.signals.messages import Signal

    queue.enqueue(p.engine, [Signal(source, "main", kind, ref_type, ref, warehouse, key or f"test:{kind}:{ref}")])


def _fast_run(p, account: str = "main"):
    from inventory_pipeline.defs.signals.sensors import run_config

    return p.run("stock_fast_path", config=run_config(account))


def _signals(p) -> list:
    with p.engine.connect() as conn:
        return conn.execute(select(stock_signals.c.ref, stock_signals.c.status, stock_signals.c.attempts)).all()


def test_a_size_the_answer_leaves_out_is_read_again_then_left_to_the_full_sync(fast):
    """An empty answer for the size an order named is no sale of it: the ledger keeps its figure, the
    signal is read again by later runs, and after five it is failed (the full sync reconciles it)."""
    p = fast
    size = next(r for r in p.truth("wb") if r["stock_type"] == "fbs" and r["readable"])
    before = _ledger(p)
    p.faults("empty@/wb/marketplace/api/v3/stocks/")
    _signal(p, "wb", "wb_new_order", "chrt_id", str(size["chrt_id"]), str(size["warehouse_id"]))
    _signal(p, "wb", "wb_new_order", "chrt_id", "999999999", str(size["warehouse_id"]), "test:unknown")
    for attempt in range(1, 6):
        assert _fast_run(p).success
        statuses = {ref: (status, attempts) for ref, status, attempts in _signals(p)}
        assert statuses["999999999"] == ("failed", 0)  # no such size in the ledger: the full sync's
        expected = "failed" if attempt == 5 else "pending"
        assert statuses[str(size["chrt_id"])] == (expected, attempt)
    assert _ledger(p) == before
    p.faults("")
    _signal(p, "wb", "wb_new_order", "chrt_id", str(size["chrt_id"]), str(size["warehouse_id"]), "test:again")
    assert _fast_run(p).success
    assert {r.status for r in _signals(p) if r.ref == str(size["chrt_id"])} == {"failed", "applied"}


def test_an_ozon_product_answered_with_no_stock_rows_goes_to_zero_and_so_does_its_wix_figure(fast):
    p = fast
    world = p.sandbox.sandbox.world
    item = next(
        it for it in world.ozon["main"] if it.fbs[0] - it.fbs[1] > 0 and not world.ozon_unreadable("main", it, "fbs")
    )
    item.has_rows = False  # Ozon answers the product with "stocks": []
    _signal(p, "ozon", "TYPE_STOCKS_CHANGED", "product_id", str(item.product_id))
    assert _fast_run(p).success
    rows = {k: v for k, v in _ledger(p).items() if k[0] == "ozon" and k[1] == "main" and k[2] == item.offer_id}
    assert rows and all(v == (0, 0) for v in rows.values())
    assert _wix(p)[item.offer_id] == _expected_all(p)[item.offer_id]


def test_the_hourly_push_keeps_what_the_fast_path_wrote_after_its_plan(fast):
    """A plan made before a sale, pushed after the fast path wrote the sale to Wix, must not put the
    older figure back."""
    from dagster import AssetKey

    p = fast
    world = p.sandbox.sandbox.world
    item = next(
        it
        for it in world.ozon["main"]
        if it.fbs[0] - it.fbs[1] > 2
        and not world.ozon_unreadable("main", it, "fbs")
        and sum(v.sku == it.offer_id for pr in world.wix["site-v1"] for v in pr.variants) == 1
    )
    variant = next(v for pr in world.wix["site-v1"] for v in pr.variants if v.sku == item.offer_id)
    variant.quantity -= 1  # Wix one behind: the plan will change it
    assert p.run("wix_stock_plan_only").success
    item.fbs[1] += 2  # two units reserved by orders after the plan
    _signal(p, "ozon", "TYPE_NEW_POSTING", "offer_id", item.offer_id)
    assert _fast_run(p).success
    assert _wix(p)[item.offer_id] == _expected_all(p)[item.offer_id]
    push = p.defs.get_implicit_global_asset_job_def().execute_in_process(
        instance=p.instance, asset_selection=[AssetKey("wix_stock_push")], raise_on_error=False
    )
    assert push.success
    assert _wix(p)[item.offer_id] == _expected_all(p)[item.offer_id]
    metadata = push.asset_materializations_for_node("wix_stock_push")[0].metadata
    assert metadata["targets_moved_since_plan"].value >= 1


def test_one_writer_of_the_wix_store_at_a_time(database_url):
    import threading

    from inventory_pipeline.db.dialect import SliceBusyError, named_lock
    from inventory_pipeline.db.engine import make_engine

    engine = make_engine(database_url)
    held, done = threading.Event(), threading.Event()

    def holder():
        with named_lock(engine, "wix:writes", 5):
            held.set()
            done.wait(5)

    thread = threading.Thread(target=holder)
    thread.start()
    held.wait(5)
    with pytest.raises(SliceBusyError), named_lock(engine, "wix:writes", 1):
        pass
    done.set()
    thread.join()
    with named_lock(engine, "wix:writes", 1):  # free again
        pass
