"""The compact WB card index and the SKU rule: every size its own SKU, found as a dict would find it."""

from __future__ import annotations

import numpy as np
import pytest

from inventory_pipeline.defs.stock.fetch import batch_problem
from inventory_pipeline.defs.stock.wb_cards import WbCards, WbSize
from inventory_pipeline.defs.stock.wb_sku import SkuMapError, WbSkuRule, read_map


def card(article: object, nm: object, *sizes: tuple) -> dict:
    """A card; each size is (chrtID, barcodes) or (chrtID, barcodes, techSize)."""
    return {
        "vendorCode": article,
        "nmID": nm,
        "sizes": [{"chrtID": s[0], "skus": s[1], "techSize": s[2] if len(s) > 2 else "0"} for s in sizes],
    }


def test_sizes_are_found_a_page_at_a_time():
    cards = WbCards()
    page = [card("A-1", 10, (5, ["0123"], "S"), (3, ["123"], "M")), card(" B ", "11", (7, ["EAN-x7"]))]
    assert cards.add(page) == []
    assert len(cards) == 3 and cards.chrt_ids().tolist() == [3, 5, 7]
    assert cards.sizes([5, "7", 7.0, 3, 4, None, "x", -5, True]) == [
        WbSize("A-1-S", 10),
        WbSize(" B ", 11),  # exact: an article is never trimmed into another
        WbSize(" B ", 11),
        WbSize("A-1-M", 10),
        None,
        None,
        None,
        None,
        None,
    ]
    assert cards.by_card_size([10, "10", 11, 10, None], ["S", "M", "0", "XL", "S"]) == [
        (5, WbSize("A-1-S", 10)),
        (3, WbSize("A-1-M", 10)),
        (7, WbSize(" B ", 11)),
        None,
        None,
    ]


def test_a_later_page_wins_as_a_dict_update_would():
    cards = WbCards.of([card("OLD", 1, (5, ["111"]))])
    assert cards.sizes([5]) == [WbSize("OLD", 1)]
    cards.add([card("NEW", 2, (5, ["111"]))])
    assert len(cards) == 1 and cards.sizes([5]) == [WbSize("NEW", 2)]
    assert cards.shared_skus() == (0, [])


def test_unreadable_cards_and_sizes_are_reported_not_indexed():
    cards = WbCards()
    skipped = cards.add([card("", 1, (5, [])), "junk", card("C", 3, ("x", []), (9, []))])
    assert skipped == [
        "wb card 1: no vendorCode",
        "wb card ?: no vendorCode",
        "wb card 3: size without chrtID or card without nmID",
    ]
    assert cards.chrt_ids().tolist() == [9]
    assert WbCards().sizes([1]) == [None] and len(WbCards()) == 0


def test_the_rule_names_each_size():
    default = WbSkuRule()
    assert default.sku("HR-1", "0", ["111"]) == "HR-1"  # WB's mark for a product without sizes
    assert default.sku("HR-1", "", ["111"]) == "HR-1"
    assert default.sku("HR-1", "XL", ["111"]) == "HR-1-XL"
    assert WbSkuRule(separator="/").sku("HR-1", "42", []) == "HR-1/42"
    by_barcode = WbSkuRule("barcode")
    assert by_barcode.sku("HR-1", "XL", ["222", "333"]) == "222" and by_barcode.sku("HR-1", "0", []) is None
    mapped = WbSkuRule(mapping={"333": "OZON-77"})
    assert mapped.sku("HR-1", "XL", ["222", "333"]) == "OZON-77" and mapped.sku("HR-1", "S", ["9"]) == "HR-1-S"


def test_two_sizes_with_one_sku_are_named():
    """The rule or the mapping file gave two sizes one name: each would be one ledger key."""
    cards = WbCards.of([card("T", 1, (5, ["1"], "S"), (6, ["2"], "S"))])  # a card listing one size twice
    assert cards.shared_skus() == (1, ["'T-S' ← sizes 5, 6"])
    mapped = WbCards(WbSkuRule(mapping={"1": "ONE", "2": "ONE"}))
    mapped.add([card("T", 1, (5, ["1"], "S"), (6, ["2"], "M"))])
    assert mapped.shared_skus() == (1, ["'ONE' ← sizes 5, 6"])


def test_the_mapping_file(tmp_path):
    path = tmp_path / "map.csv"
    path.write_text("barcode,sku\n2037401340291,Футболка M\n4600000000291,Футболка M\n")
    assert read_map(path) == {"2037401340291": "Футболка M", "4600000000291": "Футболка M"}
    path.write_text("barcode,sku\n1,A\n1,B\n")
    with pytest.raises(SkuMapError, match="line 3: barcode 1 is mapped to both 'A' and 'B'"):
        read_map(path)
    path.write_text("code,name\n1,A\n")
    with pytest.raises(SkuMapError, match="must name the columns barcode,sku"):
        read_map(path)
    with pytest.raises(SkuMapError, match="cannot be read"):
        read_map(tmp_path / "missing.csv")


def test_batch_problem_counts_the_asked_sizes_the_ledger_holds():
    stocked = np.array([3, 5, 9], dtype=np.int64)
    assert batch_problem(1, [3, 4, 5], [], stocked) == (
        "seller warehouse 1 answered none of 3 sizes, 2 of which the ledger holds in stock"
    )
    assert batch_problem(1, [4, 6], [], stocked) is None
    assert batch_problem(1, [3], [{"chrtId": 8}], stocked) == "seller warehouse 1 answered 1 sizes it was not asked for"
    assert batch_problem(1, [3], [], np.array([], dtype=np.int64)) is None
