"""What a change signal says (pure): Ozon push messages and WB orders turned into SKUs to read
again, and who may deliver a push."""

from __future__ import annotations

import ipaddress
from datetime import datetime

import pytest

from inventory_pipeline.defs.signals.messages import MessageError, ozon_signals, ping_answer, wb_order_signal
from inventory_pipeline.defs.signals.receiver import Gate

NEW_POSTING = {
    "message_type": "TYPE_NEW_POSTING",
    "seller_id": 7,
    "posting_number": "24219509-0020-1",
    "products": [{"sku": 147, "offer_id": "ABC ", "quantity": 1}, {"sku": 148, "quantity": 2}],
    "in_process_at": "2026-12-02T10:00:00+03:00",
    "warehouse_id": 9,
}


def test_a_posting_names_each_offer_exactly_and_falls_back_to_ozon_sku():
    signals = ozon_signals(NEW_POSTING, "main")
    assert [(s.ref_type, s.ref) for s in signals] == [("offer_id", "ABC "), ("sku", "148")]
    assert signals[0].changed_at == datetime(2026, 12, 2, 7, 0)  # UTC
    assert signals[0].warehouse_id == "9"
    assert len({s.dedupe_key for s in signals}) == 2
    # The same posting cancelled is another signal; delivered twice, the same one.
    cancelled = ozon_signals(NEW_POSTING | {"message_type": "TYPE_POSTING_CANCELLED"}, "main")
    assert {s.dedupe_key for s in cancelled}.isdisjoint(s.dedupe_key for s in signals)
    assert ozon_signals(NEW_POSTING, "main") == signals


def test_stock_changes_name_products_and_fbo_names_ozon_skus():
    message = {
        "message_type": "TYPE_STOCKS_CHANGED",
        "seller_id": 7,
        "items": [
            {"product_id": 1, "sku": 10, "updated_at": "2026-12-02T07:00:00Z", "stocks": []},
            {"product_id": 2, "sku": 20, "updated_at": "2026-12-02T07:00:00Z", "stocks": []},
        ],
    }
    assert [(s.ref_type, s.ref) for s in ozon_signals(message, "main")] == [("product_id", "1"), ("product_id", "2")]
    fbo = {"message_type": "TYPE_FBO_STOCKS_CHANGED", "seller_id": 7, "sku": 55, "stocks": {}, "updated_at": "x"}
    [signal] = ozon_signals(fbo, "main")
    assert (signal.ref_type, signal.ref, signal.changed_at) == ("sku", "55", None)  # an unreadable time is no time


@pytest.mark.parametrize(
    "message",
    [
        {"seller_id": 7},
        {"message_type": "TYPE_NEW_POSTING", "posting_number": "1", "products": []},
        {"message_type": "TYPE_NEW_POSTING", "posting_number": "1", "products": [{"quantity": 1}]},
        {"message_type": "TYPE_STOCKS_CHANGED", "items": [{"sku": 1}]},
        {"message_type": "TYPE_STOCKS_CHANGED", "items": [{"product_id": "١٢٣"}, {"product_id": "-1"}, "x"]},
        {"message_type": "TYPE_STOCKS_CHANGED", "items": "x"},
    ],
)
def test_a_message_missing_what_its_type_carries_is_refused(message):
    with pytest.raises(MessageError):
        ozon_signals(message, "main")


def test_messages_that_move_no_available_stock_name_nothing():
    assert ozon_signals({"message_type": "TYPE_STATE_CHANGED", "posting_number": "1"}, "main") == []
    assert ozon_signals({"message_type": "TYPE_SOMETHING_NEW"}, "main") == []


def test_a_wb_order_names_its_size_and_warehouse():
    order = {"id": 13833711, "chrtId": 440000088, "warehouseId": 2, "createdAt": "2026-12-02T07:00:00Z", "nmId": 1}
    signal = wb_order_signal(order, "second")
    assert (signal.ref_type, signal.ref, signal.warehouse_id, signal.account) == ("chrt_id", "440000088", "2", "second")
    assert wb_order_signal(order | {"chrtId": None}, "second") is None
    assert wb_order_signal(order | {"warehouseId": True}, "second") is None


def test_ping_answers_in_utc():
    assert ping_answer(datetime(2026, 12, 2, 7, 0, 5), "1") == {
        "version": "1",
        "name": "inventory_pipeline",
        "time": "2026-12-02T07:00:05Z",
    }


def test_only_ozon_networks_deliver_and_only_a_trusted_proxy_names_the_client():
    gate = Gate(
        (ipaddress.ip_network("195.34.21.0/24"),),
        (ipaddress.ip_network("127.0.0.1/32"),),
        {"7": "main"},
    )
    assert gate.allowed(gate.client("195.34.21.7", None))
    assert not gate.allowed(gate.client("203.0.113.9", None))
    assert gate.allowed(gate.client("127.0.0.1", "195.34.21.7"))  # the front reports Ozon's address
    assert not gate.allowed(gate.client("203.0.113.9", "195.34.21.7"))  # a stranger cannot claim to be Ozon
    assert not gate.allowed(gate.client("127.0.0.1", None))
    assert not gate.allowed(gate.client(None, None)) and not gate.allowed("not an address")


def test_an_item_without_a_product_is_left_out_and_one_without_a_time_is_told_apart_by_its_content():
    message = {
        "message_type": "TYPE_STOCKS_CHANGED",
        "seller_id": 7,
        "items": [{"sku": 1}, {"product_id": "0012", "stocks": [{"present": 1}]}, {"product_id": 5, "updated_at": "x"}],
    }
    signals = ozon_signals(message, "main")
    assert [s.ref for s in signals] == ["12", "5"]
    later = message | {"items": [{"product_id": "0012", "stocks": [{"present": 0}]}]}
    assert ozon_signals(later, "main")[0].dedupe_key != signals[0].dedupe_key
