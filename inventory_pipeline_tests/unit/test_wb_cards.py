"""The compact WB card index: sizes and barcodes found as a dict would find them."""

from __future__ import annotations

import numpy as np

from inventory_pipeline.defs.stock.fetch import batch_problem
from inventory_pipeline.defs.stock.wb_cards import WbCards, WbSize


def card(article: object, nm: object, *sizes: tuple[object, list[str]]) -> dict:
    return {"vendorCode": article, "nmID": nm, "sizes": [{"chrtID": c, "skus": b} for c, b in sizes]}


def test_sizes_and_barcodes_are_found_a_page_at_a_time():
    cards = WbCards()
    assert cards.add([card("A-1", 10, (5, ["0123"]), (3, ["123"])), card(" B ", "11", (7, ["EAN-x7"]))]) == []
    assert len(cards) == 3 and cards.chrt_ids().tolist() == [3, 5, 7]
    assert cards.sizes([5, "7", 7.0, 4, None, "x", -5, True]) == [
        WbSize("A-1", 10),
        WbSize(" B ", 11),  # exact: an article is never trimmed into another
        WbSize(" B ", 11),
        None,
        None,
        None,
        None,
        None,
    ]
    # "0123" and "123" are different barcodes; a non-numeric one is found too.
    assert cards.by_barcodes(["0123", "123", "EAN-x7", "99", None]) == [
        (5, WbSize("A-1", 10)),
        (3, WbSize("A-1", 10)),
        (7, WbSize(" B ", 11)),
        None,
        None,
    ]


def test_a_later_page_wins_as_a_dict_update_would():
    cards = WbCards.of([card("OLD", 1, (5, ["111"]))])
    assert cards.sizes([5]) == [WbSize("OLD", 1)]
    cards.add([card("NEW", 2, (5, ["111"]))])
    assert len(cards) == 1 and cards.sizes([5]) == [WbSize("NEW", 2)]
    assert cards.by_barcodes(["111"]) == [(5, WbSize("NEW", 2))]


def test_unreadable_cards_and_sizes_are_reported_not_indexed():
    cards = WbCards()
    skipped = cards.add([card("", 1, (5, [])), "junk", card("C", 3, ("x", []), (9, []))])
    assert skipped == ["wb card 1: no vendorCode", "wb card ?: no vendorCode", "wb card 3: size without chrtID"]
    assert cards.chrt_ids().tolist() == [9]
    assert WbCards().sizes([1]) == [None] and len(WbCards()) == 0


def test_batch_problem_counts_the_asked_sizes_the_ledger_holds():
    stocked = np.array([3, 5, 9], dtype=np.int64)
    assert batch_problem(1, [3, 4, 5], [], stocked) == (
        "seller warehouse 1 answered none of 3 sizes, 2 of which the ledger holds in stock"
    )
    assert batch_problem(1, [4, 6], [], stocked) is None
    assert batch_problem(1, [3], [{"chrtId": 8}], stocked) == "seller warehouse 1 answered 1 sizes it was not asked for"
    assert batch_problem(1, [3], [], np.array([], dtype=np.int64)) is None
