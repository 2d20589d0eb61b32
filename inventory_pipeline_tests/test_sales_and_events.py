"""Sales backfills, product status and stock events end to end: the sandbox's sales, a real local
SMTP server and a real local webhook receiver."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from aiosmtpd.controller import Controller
from dagster import MultiPartitionKey
from sqlalchemy import insert, select, text
from sqlalchemy.exc import DBAPIError

from inventory_pipeline.db.engine import make_engine
from inventory_pipeline.db.tables import notifications, product_status, sales
from inventory_pipeline_tests.support.metadata import shown_table
from inventory_pipeline_tests.support.pipeline import make_pipeline
from inventory_pipeline_tests.support.servers import free_port


class Mailbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope.content.decode("utf-8", "replace"))
        return "250 OK"


@pytest.fixture
def mailbox():
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    box.port = controller.port
    yield box
    controller.stop()


@pytest.fixture
def webhook():
    received: list[dict] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received.append({**body, "_path": self.path})
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()


def moscow_day(days_back: int) -> str:
    return (datetime.now(UTC) + timedelta(hours=3) - timedelta(days=days_back)).date().isoformat()


def backfill(p, days: list[str], account: str = "main") -> None:
    job = p.defs.resolve_job_def("sales_daily")
    for n, day in enumerate(days):
        # Both forms a run can carry: a MultiPartitionKey (UI, schedules) and plain text (the CLI's tag).
        key = MultiPartitionKey({"date": day, "account": account}) if n % 2 else f"{account}|{day}"
        assert job.execute_in_process(partition_key=key, instance=p.instance).success


def stored_orders(p, source: str, day: str) -> Counter:
    with p.engine.connect() as conn:
        rows = conn.execute(
            select(sales.c.sku, sales.c.cancelled).where(
                sales.c.source == source,
                sales.c.kind == "order",
                sales.c.sale_date == datetime.fromisoformat(day).date(),
            )
        )
        return Counter((r.sku, bool(r.cancelled)) for r in rows)


def truth_orders(p, channel: str, day: str) -> Counter:
    import requests

    rows = requests.get(f"{p.sandbox.url}/_sandbox/sales/{channel}", params={"account": "main"}, timeout=10).json()
    return Counter(
        (r["sku"], r["cancelled"])
        for r in rows
        if (datetime.fromisoformat(r["at"]) + timedelta(hours=3)).date().isoformat() == day
    )


def test_backfill_matches_the_marketplaces_and_a_rerun_changes_nothing(sqlite_pipeline):
    p = sqlite_pipeline
    days = [moscow_day(n) for n in (4, 3, 2)]
    backfill(p, days)
    for day in days:
        for source in ("ozon", "wb"):
            assert stored_orders(p, source, day) == truth_orders(p, source, day) != Counter()
    import requests

    returned = {}
    for source in ("ozon", "wb"):
        truth = requests.get(f"{p.sandbox.url}/_sandbox/sales/{source}", params={"account": "main"}, timeout=10).json()
        returned[source] = Counter(
            r["sku"]
            for r in truth
            if r["returned"]
            and not r["cancelled"]
            and (datetime.fromisoformat(r["at"]) + timedelta(days=3, hours=3)).date().isoformat() in days
        )
    with p.engine.connect() as conn:
        before = sorted(tuple(r[1:]) for r in conn.execute(select(sales)))
        stored = {
            source: Counter(
                r.sku for r in conn.execute(select(sales).where(sales.c.kind == "return", sales.c.source == source))
            )
            for source in ("ozon", "wb")
        }
    # Both marketplaces date a return on the day the buyer brought it back; Ozon's came from no API before.
    assert stored == returned and sum(returned["ozon"].values()) > 0
    backfill(p, days[:1])
    with p.engine.connect() as conn:
        assert sorted(tuple(r[1:]) for r in conn.execute(select(sales))) == before


def test_analysis_and_product_status(sqlite_pipeline):
    p = sqlite_pipeline
    assert p.run().success
    backfill(p, [moscow_day(n) for n in (3, 2, 1)])
    result = p.defs.resolve_job_def("sales_analysis_job").execute_in_process(instance=p.instance)
    assert result.success
    analysis = result.asset_materializations_for_node("sales_analysis")[0].metadata
    assert analysis["skus"].value > 0 and analysis["units"].value > 0
    with p.engine.connect() as conn:
        statuses = Counter(r.status for r in conn.execute(select(product_status)))
    # The ledger was first seen today: what sold is new, what never sold is absolute_new.
    assert set(statuses) == {"new", "absolute_new"} and statuses["new"] > 0


def test_fbo_drop_is_one_event_mailed_and_posted_once(monkeypatch, sandbox, sqlite_url, mailbox, webhook):
    url, received = webhook
    p = make_pipeline(
        monkeypatch,
        sandbox,
        sqlite_url,
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(mailbox.port),
        SMTP_STARTTLS="0",
        ALERT_EMAIL="ops@example.com",
        NOTIFY_WEBHOOK_URL=url,
    )
    assert p.run("stock_sync_ozon").success  # baseline: no events about the first state
    world = sandbox.sandbox.world
    item = next(it for it in world.ozon["main"] if it.has_rows and sum(e[1] for e in it.fbo) >= 10)
    for entry in item.fbo:
        entry[1], entry[2] = 1, 0  # FBO falls from >= 10 to a handful
    result = p.run("stock_sync_ozon")
    assert result.success
    with p.engine.connect() as conn:
        over = conn.execute(select(notifications).where(notifications.c.event_type == "StockFBOOver")).all()
    assert [(n.sku, n.stock_type) for n in over] == [(item.offer_id, "fbo")]
    assert over[0].delivered == "email,webhook" and over[0].delivery_errors is None
    assert any(item.offer_id in m and "StockFBOOver" in m for m in mailbox.messages)
    assert any(r["event"] == "StockFBOOver" and r["sku"] == item.offer_id for r in received)
    mails = len(mailbox.messages)
    for entry in item.fbo:  # back up and down again within 15 hours: nothing new is sent for the drop
        entry[1] = 30
    assert p.run("stock_sync_ozon").success
    for entry in item.fbo:
        entry[1] = 2
    assert p.run("stock_sync_ozon").success
    with p.engine.connect() as conn:
        kinds = Counter(
            n.event_type
            for n in conn.execute(
                select(notifications).where(notifications.c.sku == item.offer_id, notifications.c.stock_type == "fbo")
            )
        )
    assert kinds["StockFBOOver"] == 1 and kinds["StockFBOReceived"] == 1
    assert len(mailbox.messages) == mails + 1  # only the StockFBOReceived


def test_a_dead_channel_never_fails_the_sync_nor_leaks_its_token(monkeypatch, sandbox, sqlite_url):
    hook = f"http://127.0.0.1:{free_port()}/services/T0K3N-webhook-secret?sig=s1gnature"
    p = make_pipeline(monkeypatch, sandbox, sqlite_url, NOTIFY_WEBHOOK_URL=hook)
    assert p.run("stock_sync_ozon").success
    for item in sandbox.sandbox.world.ozon["main"]:
        for entry in item.fbo:
            entry[1] = 0
    synced = p.run("stock_sync_ozon", config={"ops": {"ozon_stock_snapshot": {"config": {"accept_collapse": True}}}})
    assert synced.success
    with p.engine.connect() as conn:
        failed = conn.execute(select(notifications).where(notifications.c.event_type == "StockFBOOver")).all()
    # A configured channel that failed delivered nothing: recorded, not sent.
    events = synced.asset_materializations_for_node("stock_events")[0].metadata
    assert events["sent"].value == 0 and events["recorded_only"].value == len(failed) > 0
    assert failed and all("webhook" in n.delivery_errors and n.delivered == "log" for n in failed)
    leaked = [n.delivery_errors for n in failed if "T0K3N" in n.delivery_errors or "s1gnature" in n.delivery_errors]
    assert not leaked, leaked[:1]


def test_telegram_gets_the_message_and_the_token_stays_out_of_errors(webhook):
    from inventory_pipeline.resources.notify import NotifierResource

    url, received = webhook
    notifier = NotifierResource(telegram_token="123:secret-token", telegram_chat_id="-100", telegram_api_url=url)
    delivery = notifier.send("LowOnStock: HR-1", "available units 3, days of cover 1.5", {})
    assert delivery.delivered == ["telegram"]
    assert received[0]["_path"] == "/hook/bot123:secret-token/sendMessage"
    assert received[0]["chat_id"] == "-100" and "days of cover 1.5" in received[0]["text"]
    dead = NotifierResource(
        telegram_token="123:secret-token",
        telegram_chat_id="-100",
        attempts=1,
        telegram_api_url=f"http://127.0.0.1:{free_port()}",
    )
    failed = dead.send("x", "y", {})
    assert failed.delivered == [] and "secret-token" not in " ".join(failed.errors)


def test_selling_skus_running_low_raise_low_on_stock(sqlite_pipeline):
    p = sqlite_pipeline
    assert p.run("stock_sync_ozon").success
    backfill(p, [moscow_day(n) for n in (5, 4, 3, 2, 1)])
    synced = p.run("stock_sync_ozon")
    assert synced.success
    with p.engine.connect() as conn:
        low = conn.execute(select(notifications).where(notifications.c.event_type == "LowOnStock")).all()
        sold = set(conn.execute(select(sales.c.sku).where(sales.c.kind == "order")).scalars())
    metadata = synced.asset_materializations_for_node("stock_events")[0].metadata
    assert low and metadata["LowOnStock"].value == len(low) and metadata["recorded_only"].value == len(low)
    # The SKUs behind the count, the shortest cover first; no channel, so recorded rather than sent.
    shown, total, rows = shown_table(metadata["low_on_stock"])
    assert (shown, total) == (min(30, len(low)), len(low)) and len(rows) == shown
    covers = [float(r["days_of_cover"]) for r in rows]
    assert covers == sorted(covers)
    assert covers[0] == min(json.loads(e.payload)["days_of_cover"] for e in low)
    assert metadata["sent"].value == 0 and "none: recorded" in metadata["channels"].value
    for event in low:
        figures = json.loads(event.payload)
        assert event.sku in sold and figures["daily_sales"] > 0
        assert figures["days_of_cover"] < 12.2 and "days of cover" in event.message
        assert figures["days_of_cover"] == round(figures["available_units"] / figures["daily_sales"], 1) or (
            abs(figures["days_of_cover"] - figures["available_units"] / figures["daily_sales"]) < 0.1
        )


def test_days_of_cover_divide_the_window_by_its_own_days(sqlite_url):
    """SALES_WINDOW_DAYS whole days: today's orders so far were a fifteenth day divided by fourteen."""
    from inventory_pipeline.clock import marketplace_today
    from inventory_pipeline.defs.monitoring.store import cover_inputs

    engine, today = make_engine(sqlite_url), marketplace_today()
    with engine.begin() as conn:
        conn.execute(
            sales.insert(),
            [
                {
                    "source": "ozon",
                    "account": "main",
                    "sale_date": today - timedelta(days=back),
                    "kind": "order",
                    "external_id": f"o-{back}",
                    "sku": "HR-1",
                    "scheme": "fbs",
                    "quantity": 1,
                    "amount": 1.0,
                    "cancelled": False,
                    "event_at": datetime(2026, 11, 1),
                }
                for back in range(15)  # today and the fourteen days before it
            ],
        )
    sold, _, _ = cover_inputs(engine, "main", today - timedelta(days=14), today)
    assert sold == {("ozon", "HR-1", "fbs"): 14}


DELETE_DAY = "DELETE FROM sales WHERE source = 'wb' AND account = 'main' AND sale_date = :day"
INSERT_ROW = (
    "INSERT INTO sales (source, account, sale_date, kind, external_id, sku, scheme, quantity, amount, "
    "cancelled, event_at) VALUES ('wb', 'main', :day, 'order', :id, 'HR-1', 'fbs', 1, 10, 0, '2026-11-25')"
)


def _sales_engine(mariadb, name: str):
    from inventory_pipeline.db.engine import migrate

    engine = make_engine(mariadb.create_database(name))
    migrate(engine)
    return engine


def test_neighbouring_days_replaced_at_once_do_not_deadlock(mariadb):
    """The README's backfill runs two days of one account side by side; each deletes its day and
    inserts it again. On MariaDB one of them died with (1213) Deadlock found: each DELETE locked the
    gap both (still empty) days fall in, and each INSERT then waited on the other's lock. Replayed
    step by step: under the server's default isolation it deadlocks, in the transactions replace_day
    runs (only rows locked) both days go in."""
    from inventory_pipeline.db.dialect import is_deadlock, rows_only_locks

    engine = _sales_engine(mariadb, "sales_deadlock")

    def interleaved(chosen, ids: tuple[str, str]) -> list[str]:
        first, second = chosen.connect(), chosen.connect()
        outcome: list[str] = []

        def insert(conn, day: str, key: str) -> None:
            try:
                conn.execute(text(INSERT_ROW), {"day": day, "id": key})
                outcome.append("inserted")
            except DBAPIError as exc:
                outcome.append("deadlock" if is_deadlock(exc) else str(exc))

        try:
            with first.begin():
                with second.begin():
                    first.execute(text(DELETE_DAY), {"day": "2026-11-25"})
                    second.execute(text(DELETE_DAY), {"day": "2026-11-26"})
                    waiting = threading.Thread(target=insert, args=(first, "2026-11-25", ids[0]))
                    waiting.start()
                    time.sleep(0.3)  # the first insert is on the wire when the second comes
                    insert(second, "2026-11-26", ids[1])
                waiting.join(30)
        finally:
            first.close()
            second.close()
        return outcome

    assert "deadlock" in interleaved(engine, ("a", "b"))  # the hazard, under REPEATABLE READ
    assert interleaved(rows_only_locks(engine), ("c", "d")) == ["inserted", "inserted"]


def test_a_day_chosen_as_a_deadlock_victim_is_replaced_again(mariadb, caplog):
    """Should the server still pick replace_day's transaction as a deadlock's victim (it rolled back
    whole), the day is replaced again instead of the run failing."""
    from inventory_pipeline.defs.sales.store import replace_day

    engine = _sales_engine(mariadb, "sales_victim")
    day, other = date(2026, 11, 25), "2026-11-26"
    with engine.begin() as conn:
        conn.execute(text(INSERT_ROW), {"day": day.isoformat(), "id": "old"})
    row = {
        "source": "wb",
        "account": "main",
        "sale_date": day,
        "kind": "order",
        "external_id": "new",
        "sku": "HR-1",
        "scheme": "fbs",
        "quantity": 1,
        "amount": 10.0,
        "cancelled": False,
        "event_at": datetime(2026, 11, 25),
    }
    big = engine.connect()  # another writer, with much more to lose: the server makes replace_day the victim
    big.begin()
    big.execute(text(DELETE_DAY), {"day": other})  # its gap lock stops replace_day's insert
    for n in range(300):
        big.execute(text(INSERT_ROW), {"day": "2026-01-01", "id": f"big-{n}"})
    done: dict = {}
    replacing = threading.Thread(target=lambda: done.update(n=replace_day(engine, "wb", "main", day, [row])))
    with caplog.at_level("WARNING"):
        replacing.start()
        time.sleep(0.5)  # replace_day now waits on the big writer
        big.execute(text("UPDATE sales SET quantity = 2 WHERE external_id = 'old'"))  # and it on replace_day
        time.sleep(0.5)
        big.commit()
        big.close()
        replacing.join(60)
    assert done == {"n": 1}
    assert any("deadlock" in r.message for r in caplog.records)
    with engine.connect() as conn:
        ids = set(conn.execute(select(sales.c.external_id).where(sales.c.sale_date == day)).scalars())
    assert ids == {"new"}


def _held_open(engine, lock: str, row_table, row: dict):
    """A writer holding ``lock`` with ``row`` written and not committed until ``release`` is set."""
    from inventory_pipeline.db.dialect import locked_transaction

    written, release = threading.Event(), threading.Event()

    def write() -> None:
        with locked_transaction(engine, [lock], 30) as conn:
            conn.execute(insert(row_table).values(**row))
            written.set()
            release.wait(30)

    writer = threading.Thread(target=write)
    writer.start()
    assert written.wait(30)
    return writer, release


def _evaluated_after(writer, release, evaluate):
    """What ``evaluate`` returns when started while the writer is open: it must wait for the commit."""
    outcome: dict = {}
    evaluation = threading.Thread(target=lambda: outcome.update(result=evaluate()))
    evaluation.start()
    evaluation.join(1.0)
    assert evaluation.is_alive(), "the evaluation read past a write still open"
    release.set()
    writer.join(30)
    evaluation.join(60)
    return outcome["result"]


def test_an_evaluation_waits_for_a_fast_path_write_still_open_and_then_counts_it(database_url):
    """A fast-path run's transaction is open, its FBO movement written but not committed, when the
    sync's evaluation moves its cursor to the newest history id: the evaluation waits for it, so the
    movement is counted, not stepped past for good. The same for a day of sales being replaced and
    the cover's changed SKUs."""
    from inventory_pipeline.db.tables import inventory_history
    from inventory_pipeline.defs.monitoring import store
    from inventory_pipeline.defs.sales.store import sales_lock_name
    from inventory_pipeline.defs.stock.ledger import slice_lock_name

    engine = make_engine(database_url)
    assert store.fbo_movements(engine, "main") is None  # the first evaluations: the baseline
    assert store.changed_skus(engine, "main") is None
    movement = {
        "source": "ozon",
        "account": "main",
        "sku": "SKU-1",
        "warehouse_id": "fbo-1",
        "stock_type": "fbo",
        "current_before": 10,
        "current_after": 2,
        "reserved_before": 0,
        "reserved_after": 0,
        "changed_at": datetime(2026, 12, 2, 10, 0),
        "run_id": "fast",
        "change": "changed",
    }
    writer, release = _held_open(engine, slice_lock_name("ozon", "main"), inventory_history, movement)
    moved, _totals = _evaluated_after(writer, release, lambda: store.fbo_movements(engine, "main"))
    assert moved == [("ozon", "SKU-1", -8)]
    assert store.fbo_movements(engine, "main") == ([], {})  # counted once
    assert store.changed_skus(engine, "main") == {"SKU-1"}
    sold = {
        "source": "wb",
        "account": "main",
        "sale_date": date(2026, 12, 1),
        "kind": "order",
        "external_id": "o-1",
        "sku": "SKU-2",
        "scheme": "fbs",
        "quantity": 1,
        "amount": 100.0,
        "cancelled": False,
        "event_at": datetime(2026, 12, 1, 12, 0),
    }
    writer, release = _held_open(engine, sales_lock_name("wb", "main"), sales, sold)
    assert _evaluated_after(writer, release, lambda: store.changed_skus(engine, "main")) == {"SKU-2"}
