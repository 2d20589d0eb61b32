"""The WB card index: where a listing goes on from, and which stored cards a new listing replaces."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from inventory_pipeline.defs.stock.card_index import Cursor, carried_over, listed_ids, newest, size_skus
from inventory_pipeline.defs.stock.wb_sku import WbSkuRule

RULE = WbSkuRule()


def card(nm_id: int, updated: str) -> dict:
    return {"nmID": nm_id, "updatedAt": updated, "vendorCode": f"A{nm_id}", "sizes": []}


def test_the_newest_edit_wins_whatever_the_digits_of_its_fraction():
    cards = [card(3, "2026-11-30T10:00:00.5Z"), card(1, "2026-11-30T10:00:00.123456Z"), card(2, "2026-11-29T23:59:59Z")]
    assert newest(cards) == Cursor("2026-11-30T10:00:00.5Z", 3)  # .5 is later than .123456


def test_one_instant_is_ordered_by_card_as_wb_orders_it():
    assert newest([card(9, "2026-11-30T10:00:00Z"), card(4, "2026-11-30T10:00:00Z")]) == Cursor(
        "2026-11-30T10:00:00Z", 9
    )


def test_a_card_without_a_readable_stamp_takes_no_part():
    cards = [card(1, "yesterday"), {"nmID": "2", "updatedAt": "2026-11-30T10:00:00Z"}, "not a card"]
    assert newest(cards) is None
    assert newest(cards, Cursor("2026-11-01T00:00:00Z", 5)) == Cursor("2026-11-01T00:00:00Z", 5)


def test_an_earlier_page_keeps_a_later_cursor():
    later = Cursor("2026-11-30T10:00:00Z", 1)
    assert newest([card(7, "2026-11-01T00:00:00Z")], later) == later


def test_cards_listed_again_are_not_carried_over():
    page = {"cards": [card(1, "2026-11-01T00:00:00Z"), card(2, "2026-11-02T00:00:00Z"), "odd"], "cursor": {}}
    assert carried_over(page, {2}, set(), RULE) == [card(1, "2026-11-01T00:00:00Z"), "odd"]
    assert listed_ids([*page["cards"], {"nmID": "3"}]) == {1, 2, 3}  # read as the card index reads ids


def sized(nm_id: int, article: str, *sizes: str) -> dict:
    return {
        "nmID": nm_id,
        "updatedAt": "2026-11-01T00:00:00Z",
        "vendorCode": article,
        "sizes": [{"chrtID": nm_id * 10 + n, "techSize": s, "skus": [f"20{nm_id}{n}"]} for n, s in enumerate(sizes)],
    }


def test_a_card_created_again_under_its_article_replaces_the_carried_one():
    """Trashed and created again: a new nmID names the same sizes. Carrying the old card would make
    two sizes of one SKU and reject every sync until the weekly resync."""
    old, other = sized(1, "HR-1", "S", "M"), sized(2, "HR-2", "0")
    new = sized(9, "HR-1", "S")
    kept = carried_over({"cards": [old, other]}, {9}, size_skus([new], RULE), RULE)
    assert kept == [other]
    assert size_skus([old], RULE) == {"HR-1-S", "HR-1-M"}


def st_zone(d) -> str:
    return "Z" if d.microsecond % 2 else ""  # WB writes Z; a stamp without a zone is read as UTC


@given(
    st.lists(
        st.tuples(st.integers(1, 50), st.datetimes().map(lambda d: d.isoformat() + st_zone(d))),
        min_size=1,
        max_size=40,
    ),
    st.integers(1, 39),
)
def test_the_cursor_of_all_pages_is_the_cursor_of_the_newest_card(stamps, split):
    """Page by page, or all at once: the listing goes on from one place."""
    cards = [card(n, u) for n, u in stamps]
    step = None
    for page in (cards[:split], cards[split:]):
        step = newest(page, step)
    assert step == newest(cards)
