"""Contract of the sandbox's Wildberries APIs, over real HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests

from marketplace_sandbox import SandboxServer
from marketplace_sandbox.world import WB_WAREHOUSES

AUTH = {"Authorization": "sandbox-wb-token-main"}


@pytest.fixture(scope="module")
def wb():
    with SandboxServer(skus=300, seed=4) as server:
        yield server


def call(server, method, path, **kwargs):
    kwargs.setdefault("headers", AUTH)
    return requests.request(method, f"{server.url}/wb{path}", timeout=10, **kwargs)


def card_pages(server, limit=100):
    """Every page of the card listing, up to the empty page that proves the end."""
    pages, cursor = [], {"limit": limit}
    while True:
        page = call(
            server,
            "POST",
            "/content/content/v2/get/cards/list",
            json={"settings": {"cursor": cursor, "filter": {"withPhoto": -1}}},
        ).json()
        pages.append(page["cards"])
        if not page["cards"]:
            return pages
        cursor = {"limit": limit, "updatedAt": page["cursor"]["updatedAt"], "nmID": page["cursor"]["nmID"]}


def all_cards(server, limit=100):
    return [card for page in card_pages(server, limit) for card in page]


def test_cards_page_to_the_end_with_a_short_page_in_the_middle(wb):
    pages = card_pages(wb, 30)
    cards = [card for page in pages for card in page]
    assert len(cards) == len({c["nmID"] for c in cards}) > 30
    # A short page mid-listing, as WB serves them: by WB's own end rule (total < limit) it looks last.
    assert any(0 < len(page) < 30 for page in pages[:-2]) and pages[-1] == []
    sizes = [size for c in cards for size in c["sizes"]]
    assert all(size["chrtID"] and size["skus"] for size in sizes)
    assert len({size["chrtID"] for size in sizes}) == len(sizes)
    sized = [c for c in cards if len(c["sizes"]) > 1]
    assert sized and all(s["techSize"] != "0" for c in sized for s in c["sizes"])  # apparel: S, M, L…
    assert any(len(size["skus"]) > 1 for size in sizes)  # a size with two barcodes
    truth_skus = {r["sku"] for r in requests.get(f"{wb.url}/_sandbox/truth/wb", timeout=10).json()}
    assert {c["vendorCode"] + "-" + s["techSize"] for c in sized for s in c["sizes"]} <= truth_skus
    too_big = call(wb, "POST", "/content/content/v2/get/cards/list", json={"settings": {"cursor": {"limit": 101}}})
    assert too_big.status_code == 400


def _fbw_truth(wb) -> list[dict]:
    return [r for r in requests.get(f"{wb.url}/_sandbox/truth/wb", timeout=10).json() if r["stock_type"] == "fbw"]


def test_warehouse_report_is_one_aggregate_per_size_and_pages_by_offset(wb):
    """As WB's OpenAPI says today: warehouseId only -999999, warehouse and region only "Склад WB"."""
    full = call(wb, "POST", "/analytics/api/analytics/v1/stocks-report/wb-warehouses", json={}).json()["data"]["items"]
    sku_of = {r["chrt_id"]: r["sku"] for r in requests.get(f"{wb.url}/_sandbox/truth/wb", timeout=10).json()}
    assert {(i["warehouseId"], i["warehouseName"], i["regionName"]) for i in full} == {
        (-999999, "Склад WB", "Склад WB")
    }
    summed: dict[str, list[int]] = {}
    for r in _fbw_truth(wb):
        figures = summed.setdefault(r["sku"], [0, 0, 0])
        for n, name in enumerate(("quantity", "in_way_to_client", "in_way_from_client")):
            figures[n] += r[name]
    assert {sku_of[i["chrtId"]]: [i["quantity"], i["inWayToClient"], i["inWayFromClient"]] for i in full} == summed
    assert len(full) == len(summed)  # one row per size
    paged, offset = [], 0
    while True:
        page = call(
            wb, "POST", "/analytics/api/analytics/v1/stocks-report/wb-warehouses", json={"limit": 50, "offset": offset}
        ).json()["data"]["items"]
        paged += page
        if len(page) < 50:
            break
        offset += 50
    assert paged == full
    bad = call(wb, "POST", "/analytics/api/analytics/v1/stocks-report/wb-warehouses", json={"limit": 250_001})
    assert bad.status_code == 400 and bad.json()["title"] == "Invalid request body"


def test_warehouse_remains_report_task_status_download(wb):
    """Per-warehouse FBW stock as WB's spec has it: a task, its status, then rows per card and size,
    each size's warehouses and the report's summary lines in ``warehouses[]``, nothing listed with 0."""
    grouping = {"groupByNm": "true", "groupBySa": "true", "groupBySize": "true"}
    task = call(wb, "GET", "/analytics/api/v1/warehouse_remains", params=grouping).json()["data"]["taskId"]
    status = call(wb, "GET", f"/analytics/api/v1/warehouse_remains/tasks/{task}/status").json()
    assert status == {"data": {"id": task, "status": "done"}}  # the fast profile builds it at once
    rows = call(wb, "GET", f"/analytics/api/v1/warehouse_remains/tasks/{task}/download").json()
    names = {name for _, name, _ in WB_WAREHOUSES}
    got = sorted(
        (r["vendorCode"], r["techSize"], w["warehouseName"], w["quantity"])
        for r in rows
        for w in r["warehouses"]
        if w["warehouseName"] in names
    )
    truth = _fbw_truth(wb)
    by_id = {wid: name for wid, name, _ in WB_WAREHOUSES}
    size_of = {s["chrtID"]: (c["vendorCode"], s["techSize"]) for c in all_cards(wb) for s in c["sizes"]}
    assert got == sorted(
        (*size_of[r["chrt_id"]], by_id[r["warehouse_id"]], r["quantity"]) for r in truth if r["quantity"]
    )
    for r in rows:
        assert set(r) == {"vendorCode", "nmId", "techSize", "volume", "warehouses"}  # no fields the spec dropped
        lines = {w["warehouseName"]: w["quantity"] for w in r["warehouses"]}
        assert all(lines.values())  # entries with nothing in them are left out
        assert lines.get("Всего находится на складах", 0) == sum(q for n, q in lines.items() if n in names)
    missing = call(wb, "GET", "/analytics/api/v1/warehouse_remains/tasks/nope/status")
    assert missing.status_code == 404 and set(missing.json()) == {"detail", "origin", "requestId", "title"}
    assert call(wb, "GET", "/analytics/api/v1/warehouse_remains", params={"groupByNm": "yes"}).status_code == 400
    by_barcode = call(wb, "GET", "/analytics/api/v1/warehouse_remains", params={**grouping, "groupByBarcode": "true"})
    barcoded = call(
        wb, "GET", f"/analytics/api/v1/warehouse_remains/tasks/{by_barcode.json()['data']['taskId']}/download"
    )
    assert len(barcoded.json()) > len(rows) and all("barcode" in r for r in barcoded.json())  # a row per barcode
    ungrouped = call(wb, "GET", "/analytics/api/v1/warehouse_remains").json()["data"]["taskId"]
    first = call(wb, "GET", f"/analytics/api/v1/warehouse_remains/tasks/{ungrouped}/download").json()[0]
    assert "barcode" not in first and "nmId" not in first  # only what was grouped by


def test_warehouse_remains_report_takes_time_and_limits_under_the_real_profile():
    with SandboxServer(skus=20, seed=4, profile="real") as server:
        task = call(server, "GET", "/analytics/api/v1/warehouse_remains").json()["data"]["taskId"]
        assert call(server, "GET", f"/analytics/api/v1/warehouse_remains/tasks/{task}/status").json()["data"][
            "status"
        ] in {"new", "processing"}
        assert call(server, "GET", f"/analytics/api/v1/warehouse_remains/tasks/{task}/download").status_code == 400
        created = [call(server, "GET", "/analytics/api/v1/warehouse_remains").status_code for _ in range(5)]
        assert created == [200, 200, 200, 200, 429]  # one a minute, a burst of five


def test_seller_stocks_by_chrt_id_and_legacy_sku_refused():
    with SandboxServer(skus=60, seed=4) as server:
        warehouses = call(server, "GET", "/marketplace/api/v3/warehouses").json()
        assert {w["id"] for w in warehouses} == {1, 2} and all("officeId" in w for w in warehouses)
        chrt = all_cards(server)[0]["sizes"][0]["chrtID"]
        read = call(server, "POST", "/marketplace/api/v3/stocks/1", json={"chrtIds": [chrt]})
        assert read.status_code == 200 and read.json()["stocks"][0]["chrtId"] == chrt
        legacy = call(server, "POST", "/marketplace/api/v3/stocks/1", json={"skus": ["2000000000001"]})
        assert legacy.status_code == 400 and legacy.json()["code"] == "IncorrectRequestBody"
        put = call(server, "PUT", "/marketplace/api/v3/stocks/2", json={"stocks": [{"chrtId": chrt, "amount": 17}]})
        assert put.status_code == 204 and put.content == b""
        assert call(server, "POST", "/marketplace/api/v3/stocks/2", json={"chrtIds": [chrt]}).json()["stocks"] == [
            {"chrtId": chrt, "amount": 17}
        ]
        too_much = call(
            server, "PUT", "/marketplace/api/v3/stocks/2", json={"stocks": [{"chrtId": chrt, "amount": 100_001}]}
        )
        assert too_much.status_code == 400
        assert call(server, "POST", "/marketplace/api/v3/stocks/999", json={"chrtIds": [chrt]}).status_code == 404


def test_statistics_date_rules_and_paging(wb):
    missing = call(wb, "GET", "/statistics/api/v1/supplier/orders")
    assert missing.status_code == 400 and missing.json() == {"errors": ["dateFrom: field required"]}
    assert call(wb, "GET", "/statistics/api/v1/supplier/orders", params={"dateFrom": "yesterday"}).status_code == 400
    day = (datetime.now(UTC) + timedelta(hours=3) - timedelta(days=2)).date().isoformat()
    one_day = call(wb, "GET", "/statistics/api/v1/supplier/orders", params={"dateFrom": day, "flag": 1}).json()
    assert one_day and all(r["date"].startswith(day) for r in one_day)
    assert {"srid", "isCancel", "cancelDate", "supplierArticle", "nmId", "lastChangeDate"} <= set(one_day[0])
    since = (datetime.now(UTC) + timedelta(hours=3) - timedelta(days=5)).strftime("%Y-%m-%dT%H:%M:%S")
    rows = call(wb, "GET", "/statistics/api/v1/supplier/orders", params={"dateFrom": since}).json()
    assert rows == sorted(rows, key=lambda r: r["lastChangeDate"]) and all(r["lastChangeDate"] >= since for r in rows)
    last = rows[-1]["lastChangeDate"]
    tail = call(wb, "GET", "/statistics/api/v1/supplier/orders", params={"dateFrom": last}).json()
    assert all(r["lastChangeDate"] >= last for r in tail)
    sales = call(wb, "GET", "/statistics/api/v1/supplier/sales", params={"dateFrom": since}).json()
    assert sales and all(r["saleID"][0] in "SR" for r in sales)


def test_statistics_row_cap(wb):
    requests.put(f"{wb.url}/_sandbox/config", json={"wb_row_cap": 7}, timeout=5)
    try:
        rows = call(wb, "GET", "/statistics/api/v1/supplier/orders", params={"dateFrom": "2019-06-20"}).json()
        assert len(rows) == 7
    finally:
        requests.put(f"{wb.url}/_sandbox/config", json={"wb_row_cap": 80_000}, timeout=5)


def test_auth_and_retired(wb):
    for headers in ({}, {"Authorization": "nope"}):
        r = call(wb, "GET", "/marketplace/api/v3/warehouses", headers=headers)
        assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["title"] == "unauthorized"
    assert call(
        wb, "GET", "/marketplace/api/v3/warehouses", headers={"Authorization": "Bearer sandbox-wb-token-main"}
    ).ok
    assert call(wb, "GET", "/statistics/api/v1/supplier/stocks", params={"dateFrom": "2019-06-20"}).status_code == 404
    assert call(wb, "GET", "/content/ping").json()["Status"] == "OK"


def test_token_buckets_real_profile():
    with SandboxServer(skus=20, seed=4, profile="real") as server:
        first = call(server, "POST", "/analytics/api/analytics/v1/stocks-report/wb-warehouses", json={})
        assert first.status_code == 200 and first.headers["X-Ratelimit-Remaining"] == "0"
        second = call(server, "POST", "/analytics/api/analytics/v1/stocks-report/wb-warehouses", json={})
        assert second.status_code == 429 and "X-Ratelimit-Remaining" not in second.headers
        assert 1 <= int(second.headers["X-Ratelimit-Retry"]) <= 20 and second.headers["X-Ratelimit-Limit"] == "1"
        assert second.json()["status"] == 429
        # On the marketplace host a 4XX costs ten requests of the burst of 20; seller-stock methods
        # and seller-warehouse methods have a bucket each.
        for _ in range(2):
            call(server, "POST", "/marketplace/api/v3/stocks/1", json={"skus": ["x"]})
        assert call(server, "GET", "/marketplace/api/v3/warehouses").status_code == 200  # its own bucket
        stocks = [call(server, "POST", "/marketplace/api/v3/stocks/1", json={"chrtIds": [1]}).status_code]
        assert stocks == [429]
