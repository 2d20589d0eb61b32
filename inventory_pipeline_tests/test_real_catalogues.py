"""Real catalogues end to end, over the sandbox's HTTP, on MariaDB and SQLite: every WB size its own
row, a short page never taken for the end, stock no card accounts for never taken for a sell-out,
an unreadable row keeping its last value, and two SKUs never made one."""

from __future__ import annotations

import orjson
import requests
from sqlalchemy import select

from inventory_pipeline.db.tables import inventory_data, stock_snapshots, sync_logs
from inventory_pipeline.definitions import build_definitions
from inventory_pipeline.settings import load_settings
from inventory_pipeline_tests.support.ledger_views import (
    assert_ledger_matches,
    history_count,
    ledger_state,
    ledger_view,
)
from inventory_pipeline_tests.support.pipeline import make_pipeline
from marketplace_sandbox import SandboxServer

WB = "sandbox-wb-token-main"
OZON = {"Client-Id": "1001", "Api-Key": "sandbox-ozon-key-main"}


def _checks(result) -> dict[tuple[str, str], tuple[bool, str]]:
    return {
        (e.asset_key.path[-1], e.check_name): (e.passed, e.description) for e in result.get_asset_check_evaluations()
    }


def _wb_rows(p) -> dict[tuple[str, str, str], int]:
    return {(r[2], r[3], r[4]): r[5] for r in ledger_state(p.engine) if r[0] == "wb"}


def _cards(p) -> list[dict]:
    out, cursor = [], {"limit": 100}
    while True:
        page = requests.post(
            f"{p.sandbox.url}/wb/content/content/v2/get/cards/list",
            json={"settings": {"cursor": cursor}},
            headers={"Authorization": WB},
            timeout=10,
        ).json()
        if not page["cards"]:
            return out
        out += page["cards"]
        cursor = {"limit": 100, "updatedAt": page["cursor"]["updatedAt"], "nmID": page["cursor"]["nmID"]}


def test_every_size_of_a_wb_card_is_its_own_ledger_row(pipeline):
    p = pipeline
    result = p.run()
    assert result.success
    assert_ledger_matches(p.engine, p.truth("wb"), "wb")
    sized = [c for c in _cards(p) if len(c["sizes"]) > 1]
    assert sized, "the sandbox's catalogue has cards with several sizes"
    rows = _wb_rows(p)
    for card in sized:
        skus = {f"{card['vendorCode']}-{s['techSize']}" for s in card["sizes"]}
        assert len(skus) == len(card["sizes"]) and skus <= {k[0] for k in rows}
    # Each size keeps its own figure: the truth per size equals the ledger per size.
    truth = {}
    for r in p.truth("wb"):
        if r["stock_type"] == "fbs" and r["readable"]:
            truth[r["sku"]] = truth.get(r["sku"], 0) + r["quantity"]
    ledger = {}
    for (sku, _, kind), present in rows.items():
        if kind == "fbs" and sku in truth:
            ledger[sku] = ledger.get(sku, 0) + present
    assert ledger == truth
    assert _checks(result)[("wb_stock_snapshot", "no_duplicate_keys")][0] is True


def test_two_sizes_mapped_to_one_sku_are_rejected_not_merged(pipeline, monkeypatch, tmp_path):
    p = pipeline
    assert p.run().success
    before = ledger_state(p.engine)
    card = next(c for c in _cards(p) if len(c["sizes"]) > 1)
    first, second = card["sizes"][:2]
    mapping = tmp_path / "wb_skus.csv"
    mapping.write_text(f"barcode,sku\n{first['skus'][0]},ONE-SKU\n{second['skus'][0]},ONE-SKU\n")
    monkeypatch.setenv("WB_SKU_MAP_FILE", str(mapping))
    p.defs = build_definitions(load_settings())
    result = p.run()
    assert not result.success
    passed, why = _checks(result)[("wb_stock_snapshot", "no_duplicate_keys")]
    assert not passed and "'ONE-SKU'" in why and str(first["chrtID"]) in why and "WB_SKU_MAP_FILE" in why
    assert [r for r in ledger_state(p.engine) if r[0] == "wb"] == [r for r in before if r[0] == "wb"]

    # A mapping that gives each size a name of its own is applied: the sizes take the seller's SKUs.
    mapping.write_text(f"barcode,sku\n{first['skus'][0]},SELLER-A\n{second['skus'][0]},SELLER-B\n")
    assert p.run().success
    assert {"SELLER-A", "SELLER-B"} <= {k[0] for k in _wb_rows(p)}


def test_a_short_card_page_is_not_taken_for_the_end(pipeline):
    """WB ends a listing with a short page, but also serves short pages in the middle: one more
    request proves the end, and no size is lost."""
    p = pipeline
    p.faults("truncate@/wb/content+0*1")  # the first page comes back with half its cards
    requests.delete(f"{p.sandbox.url}/_sandbox/calls", timeout=5)
    result = p.run("stock_sync_wb")
    assert result.success
    listed = p.calls()["POST /wb/content/content/v2/get/cards/list"]
    assert_ledger_matches(p.engine, p.truth("wb"), "wb")
    cards = len(_cards(p))
    assert listed == -(-(cards - 50) // 100) + 2  # the short page, the rest, and the empty page that ends it


LIST_ALL_CARDS = {"ops": {"wb_stock_snapshot": {"config": {"list_all_cards": True}}}}
CARDS = "POST /wb/content/content/v2/get/cards/list"


def test_stock_for_a_size_no_card_lists_is_an_incomplete_answer(pipeline):
    """A card missing from a full listing (lost, or a page WB never served) while WB still holds its
    stock: the snapshot is rejected, the ledger keeps the card's rows, and the card's return converges.
    A listing of the changed cards only never loses it: the card is known from the last snapshot."""
    p = pipeline
    assert p.run().success
    before = ledger_state(p.engine)
    stocked = next(r for r in p.truth("wb") if r["stock_type"] == "fbw" and r["quantity"] > 0)
    nm_id = next(c["nmID"] for c in _cards(p) for s in c["sizes"] if s["chrtID"] == stocked["chrt_id"])
    p.configure(wb_hidden_cards=[nm_id])
    assert p.run("stock_sync_wb").success  # only what changed is listed: the known card keeps its place
    assert_ledger_matches(p.engine, p.truth("wb"), "wb")
    result = p.run("stock_sync_wb", config=LIST_ALL_CARDS)
    assert not result.success
    passed, why = _checks(result)[("wb_stock_snapshot", "complete")]
    assert not passed and "holds stock, but no card lists this size" in why
    assert [r for r in ledger_state(p.engine) if r[0] == "wb"] == [r for r in before if r[0] == "wb"]
    p.configure(wb_hidden_cards=[])  # listed again, as a card edited now
    assert p.run("stock_sync_wb").success
    assert_ledger_matches(p.engine, p.truth("wb"), "wb")


def test_a_sync_lists_only_the_cards_changed_since_the_last_and_keeps_every_size(monkeypatch, sqlite_url):
    """The card index: the first sync lists every card, the next only those edited since (one short
    page and the empty page that proves its end), yet its snapshot holds every size and the ledger
    equals the truth; the weekly full resync lists everything again."""
    with SandboxServer(skus=700, seed=5, profile="fast") as sandbox:
        _lists_only_changed_cards(make_pipeline(monkeypatch, sandbox, sqlite_url, SELLER_ACCOUNTS="main"))


def _lists_only_changed_cards(p) -> None:
    requests.delete(f"{p.sandbox.url}/_sandbox/calls", timeout=5)
    first = p.run("stock_sync_wb")
    assert first.success
    full = p.calls()[CARDS]
    sizes = _snapshot_meta(first)
    p.advance(1)  # two in a hundred cards are edited in the seller's cabinet
    requests.delete(f"{p.sandbox.url}/_sandbox/calls", timeout=5)
    second = p.run("stock_sync_wb")
    assert second.success
    assert p.calls()[CARDS] == 2 < full
    meta = _snapshot_meta(second)
    assert "changed since" in meta["card_listing"] and "carried over" in meta["card_listing"]
    assert_ledger_matches(p.engine, p.truth("wb"), "wb")
    with p.engine.connect() as conn:
        parts = [
            orjson.loads(r[0])
            for r in conn.execute(select(stock_snapshots.c.part_rows).order_by(stock_snapshots.c.id.desc()).limit(2))
        ]
    assert parts[0]["card_sizes"] == parts[1]["card_sizes"]  # every size, as the full listing had
    requests.delete(f"{p.sandbox.url}/_sandbox/calls", timeout=5)
    assert p.run("stock_full_resync").success
    assert p.calls()[CARDS] == full
    assert "all cards listed" in sizes["card_listing"]


def _snapshot_meta(result) -> dict:
    event = next(e for e in result.get_asset_materialization_events() if e.asset_key.path[-1] == "wb_stock_snapshot")
    return {k: v.value for k, v in event.materialization.metadata.items()}


def test_an_unreadable_row_keeps_its_last_value_and_the_sync_says_partial(pipeline):
    p = pipeline
    p.configure(unreadable=False)
    assert p.run().success
    offer = next(r for r in p.truth("ozon") if r["stock_type"] == "fbs" and r["present"] > r["reserved"] + 1)
    size = next(r for r in p.truth("wb") if r["stock_type"] == "fbs" and r["quantity"] > 1)
    watched = {("ozon", offer["sku"], str(offer["warehouse_id"])), ("wb", size["sku"], str(size["warehouse_id"]))}
    before = {
        (r[0], r[2], r[3]): r[5] for r in ledger_state(p.engine) if r[4] == "fbs" and (r[0], r[2], r[3]) in watched
    }
    # The stock really moves, and then the answers say nothing readable about it.
    moved = requests.post(
        f"{p.sandbox.url}/ozon/v2/products/stocks",
        json={"stocks": [{"offer_id": offer["sku"], "stock": 0, "warehouse_id": offer["warehouse_id"]}]},
        headers=OZON,
        timeout=10,
    ).json()
    assert moved["result"][0]["updated"]
    put = requests.put(
        f"{p.sandbox.url}/wb/marketplace/api/v3/stocks/{size['warehouse_id']}",
        json={"stocks": [{"chrtId": size["chrt_id"], "amount": 0}]},
        headers={"Authorization": WB},
        timeout=10,
    )
    assert put.status_code == 204
    p.configure(ozon_bad_rows=[offer["sku"]], wb_bad_amounts=[size["chrt_id"]])
    result = p.run()
    assert result.success
    after = {(r[0], r[2], r[3]): r[5] for r in ledger_state(p.engine) if r[4] == "fbs" and (r[0], r[2], r[3]) in before}
    assert len(before) == 2 and after == before and all(before.values())  # kept, not zeroed, not guessed
    with p.engine.connect() as conn:
        logs = dict(
            conn.execute(
                select(sync_logs.c.source, sync_logs.c.status).where(sync_logs.c.run_id == result.run_id)
            ).all()
        )
        skipped = dict(
            conn.execute(
                select(stock_snapshots.c.source, stock_snapshots.c.skipped_count).where(
                    stock_snapshots.c.run_id == result.run_id
                )
            ).all()
        )
    assert logs == {"ozon": "partial", "wb": "partial"} and skipped["ozon"] >= 1 and skipped["wb"] >= 1
    # Readable again: the real figures arrive.
    p.configure(ozon_bad_rows=[], wb_bad_amounts=[])
    assert p.run().success
    for source in ("ozon", "wb"):
        assert_ledger_matches(p.engine, p.truth(source), source)
    assert ledger_view(p.engine, "ozon").get((offer["sku"], "fbs"), (0, 0))[0] == offer["reserved"]


def test_skus_that_differ_only_by_case_space_or_yo_stay_apart_end_to_end(pipeline):
    p = pipeline
    assert p.run().success
    with p.engine.connect() as conn:
        skus = set(conn.execute(select(inventory_data.c.sku).where(inventory_data.c.source == "ozon")).scalars())
    truth = {r["sku"] for r in p.truth("ozon")}
    assert skus == truth
    for same in (str.lower, str.rstrip, lambda s: s.replace("Ё", "Е").replace("ё", "е")):
        assert len({same(s) for s in truth}) < len(truth)  # the twins are there, and each is its own key
    state, history = ledger_state(p.engine), history_count(p.engine)
    assert p.run().success
    assert ledger_state(p.engine) == state and history_count(p.engine) == history  # a re-sync flips nothing
