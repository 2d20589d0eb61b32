"""Contract of the sandbox's Ozon Seller API, over real HTTP."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import requests

from marketplace_sandbox import SandboxServer

AUTH = {"Client-Id": "1001", "Api-Key": "sandbox-ozon-key-main"}


@pytest.fixture(scope="module")
def ozon():
    with SandboxServer(skus=300, seed=3) as server:
        yield server


def post(server, path, body, headers=AUTH):
    return requests.post(f"{server.url}/ozon{path}", json=body, headers=headers, timeout=10)


def all_stock_items(server, limit):
    items, cursor, sizes = [], "", []
    while True:
        page = post(
            server, "/v4/product/info/stocks", {"cursor": cursor, "filter": {"visibility": "ALL"}, "limit": limit}
        ).json()
        items += page["items"]
        sizes.append(len(page["items"]))
        cursor = page["cursor"]
        if not cursor:
            return items, page, sizes


def test_stocks_page_to_the_end_and_match_truth(ozon):
    items, last, sizes = all_stock_items(ozon, 100)
    assert len(items) == last["total_items"] == last["total"]
    assert any(size < 100 for size in sizes[:-1])  # pages are sometimes short mid-listing; the cursor goes on
    assert len({i["offer_id"] for i in items}) == len(items)
    truth = requests.get(f"{ozon.url}/_sandbox/truth/ozon", timeout=10).json()
    served = {}
    for item in items:
        for s in item["stocks"]:
            assert set(s) == {"sku", "type", "present", "reserved", "shipment_type", "warehouse_ids"}
            served[(item["offer_id"], s["type"])] = (s["present"], s["reserved"])
    expected, unreadable = {}, set()
    for r in truth:
        p, res = expected.get((r["sku"], r["stock_type"]), (0, 0))
        expected[(r["sku"], r["stock_type"])] = (p + r["present"], res + r["reserved"])
        if not r["readable"]:
            unreadable.add((r["sku"], r["stock_type"]))
    # The odd unreadable figure, as real feeds have, exactly where the truth says.
    assert unreadable and {k for k, (present, _) in served.items() if present is None} == unreadable
    assert {k: v for k, v in served.items() if k not in unreadable} == {
        k: v for k, v in expected.items() if k not in unreadable
    }
    # SKUs that differ only by case, a trailing space or Ё/Е are separate offers; sizes are offers too.
    offers = {i["offer_id"] for i in items}
    for same in (str.lower, str.rstrip, lambda o: o.replace("Ё", "Е").replace("ё", "е")):
        assert len({same(o) for o in offers}) < len(offers)
    assert any(o.endswith(("-S", "-M", "-L", "-XL")) for o in offers)
    assert any(not i["stocks"] for i in items), "some products have no stock rows, as on Ozon"
    assert {t for (_, t) in served} >= {"fbo", "fbs"}


def test_stocks_limit_and_filter_rules(ozon):
    for limit in (0, 1001, "10"):
        r = post(ozon, "/v4/product/info/stocks", {"filter": {}, "limit": limit})
        assert r.status_code == 400 and r.json()["code"] == 3
    assert post(ozon, "/v4/product/info/stocks", {"limit": 10}).status_code == 400
    one = post(ozon, "/v4/product/info/stocks", {"filter": {"offer_id": ["HR-000005"]}, "limit": 10}).json()
    assert [i["offer_id"] for i in one["items"]] in ([], ["HR-000005"])
    bad_cursor = post(ozon, "/v4/product/info/stocks", {"filter": {}, "limit": 10, "cursor": "%%%"})
    assert bad_cursor.status_code == 400


def test_auth_errors_are_ozons(ozon):
    missing = post(ozon, "/v4/product/info/stocks", {"filter": {}, "limit": 1}, headers={})
    assert (missing.status_code, missing.json()["code"]) == (401, 16)
    wrong_id = post(ozon, "/v4/product/info/stocks", {"filter": {}, "limit": 1}, {**AUTH, "Client-Id": "abc"})
    assert (wrong_id.status_code, wrong_id.json()["code"]) == (400, 3)
    wrong_key = post(ozon, "/v4/product/info/stocks", {"filter": {}, "limit": 1}, {**AUTH, "Api-Key": "x"})
    assert (wrong_key.status_code, wrong_key.json()["code"]) == (404, 5)
    assert wrong_key.json()["message"] == "Invalid Api-Key, please check the key and try again"


def test_malformed_body_gets_400_not_a_crash(ozon):
    r = requests.post(f"{ozon.url}/ozon/v4/product/info/stocks", data=b"{not json", headers=AUTH, timeout=5)
    assert r.status_code == 400 and r.json()["code"] == 3
    r = requests.post(f"{ozon.url}/ozon/v4/product/info/stocks", data=b"[1,2]", headers=AUTH, timeout=5)
    assert r.status_code == 400


def test_retired_endpoints_answer_as_retired(ozon):
    assert post(ozon, "/v3/product/info/stocks", {"filter": {}, "limit": 1}).status_code == 404
    assert post(ozon, "/v2/posting/fbo/list", {"limit": 1}).status_code == 404


def test_product_list_and_warehouses(ozon):
    first = post(ozon, "/v3/product/list", {"filter": {"visibility": "ALL"}, "last_id": "", "limit": 1000}).json()
    assert first["result"]["total"] == len(first["result"]["items"]) and first["result"]["last_id"] == ""
    warehouses = post(ozon, "/v2/warehouse/list", {"limit": 10, "cursor": ""}).json()["warehouses"]
    assert {w["warehouse_id"] for w in warehouses} == {22142605386000, 22142605387000, 22142605388000}
    assert all(w["first_mile"]["type"] in {"PICK_UP", "DROP_OFF", "UNSPECIFIED"} for w in warehouses)


def test_warehouse_list_allows_one_call_a_minute():
    with SandboxServer(skus=5, seed=3, profile="real") as server:
        assert post(server, "/v2/warehouse/list", {"limit": 10}).status_code == 200
        again = post(server, "/v2/warehouse/list", {"limit": 10})
        assert again.status_code == 429 and int(again.headers["retry-after"]) >= 50


def test_stock_update_rules():
    with SandboxServer(skus=40, seed=3) as server:
        body = {
            "stocks": [
                {"offer_id": "HR-000001", "stock": 5, "warehouse_id": 22142605386000},
                {"offer_id": "NOPE", "stock": 5, "warehouse_id": 22142605386000},
                {"offer_id": "HR-000002", "stock": 5, "warehouse_id": 1},
            ]
        }
        result = post(server, "/v2/products/stocks", body).json()["result"]
        codes = [[e["code"] for e in r["errors"]] for r in result]
        known = result[0]["updated"] or codes[0] == ["offer_id_not_found"]
        assert (
            known
            and codes[1] == ["offer_id_not_found"]
            and codes[2] in (["WAREHOUSE_NOT_FOUND"], ["offer_id_not_found"])
        )
        if result[0]["updated"]:
            again = post(server, "/v2/products/stocks", {"stocks": body["stocks"][:1]}).json()["result"][0]
            assert [e["code"] for e in again["errors"]] == ["TOO_MANY_REQUESTS"]
        too_many = {"stocks": [{"offer_id": "HR-000001", "stock": 1, "warehouse_id": 22142605386000}] * 101}
        assert post(server, "/v2/products/stocks", too_many).status_code == 400


def test_postings_cursor_paging_and_filters(ozon):
    now = datetime.now(UTC)
    base = {"filter": {"since": (now - timedelta(days=15)).isoformat(), "to": now.isoformat()}, "limit": 5}
    seen, cursor = [], ""
    while True:
        page = post(ozon, "/v3/posting/fbo/list", {**base, "cursor": cursor}).json()
        seen += page["postings"]
        cursor = page["cursor"]
        if not page["has_next"]:
            break
    truth = requests.get(f"{ozon.url}/_sandbox/sales/ozon", timeout=10).json()
    assert len(seen) == sum(1 for s in truth if s["scheme"] == "fbo") > 0
    assert post(ozon, "/v4/posting/fbs/list", {**base, "limit": 101}).status_code == 400
    assert post(ozon, "/v4/posting/fbs/list", {"filter": {}, "limit": 10}).status_code == 400
    long = {"filter": {"since": "2024-01-01T00:00:00Z", "to": now.isoformat()}, "limit": 10}
    assert post(ozon, "/v3/posting/fbo/list", long).json()["message"] == "PERIOD_IS_TOO_LONG"
    fbs = post(ozon, "/v4/posting/fbs/list", base).json()
    assert fbs["postings"] and all(p["products"][0]["price"]["currency"] == "RUB" for p in fbs["postings"])
    # v4's own shape: no created_at, the cancellation as an object, the warehouse's name as "warehouse".
    for p in fbs["postings"]:
        assert "created_at" not in p and "cancel_reason_id" not in p and "in_process_at" in p
        assert set(p["cancellation"]) >= {"cancel_reason_id", "cancellation_type"}
        assert "warehouse" in p["analytics_data"] and "warehouse_name" not in p["analytics_data"]
        assert "digital_codes" not in p["products"][0]
        assert "quantity" not in p["financial_data"]["products"][0]


def test_rate_limit_real_profile():
    with SandboxServer(skus=20, seed=3, profile="real") as server:
        # 200 requests from 8 threads: they would have to take over 3 s to stay under 50 per second.
        with ThreadPoolExecutor(8) as pool:
            statuses = list(
                pool.map(lambda _: post(server, "/v3/product/list", {"filter": {}, "limit": 1}), range(200))
            )
        limited = [r for r in statuses if r.status_code == 429]
        assert limited, "50 requests per second per Client-Id"
        assert limited[0].json()["code"] == 8 and limited[0].headers["retry-after"] == "1"
        assert limited[0].headers["ratelimit-remaining"] == "0"


def test_same_seed_same_world():
    with SandboxServer(skus=50, seed=11) as a, SandboxServer(skus=50, seed=11) as b:
        assert all_stock_items(a, 20)[0] == all_stock_items(b, 20)[0]
    with SandboxServer(skus=50, seed=12) as c, SandboxServer(skus=50, seed=11) as d:
        assert all_stock_items(c, 20)[0] != all_stock_items(d, 20)[0]


def test_returns_list_pages_by_last_id_and_filters_by_return_date(ozon):
    window = {"time_from": "2000-01-01T00:00:00Z", "time_to": "2100-01-01T00:00:00Z"}
    got, last_id = [], 0
    while True:
        page = post(
            ozon, "/v1/returns/list", {"filter": {"logistic_return_date": window}, "limit": 2, "last_id": last_id}
        )
        assert page.status_code == 200
        body = page.json()
        got += body["returns"]
        if not body["has_next"]:
            break
        last_id = body["returns"][-1]["id"]
    truth = requests.get(f"{ozon.url}/_sandbox/sales/ozon", timeout=10).json()
    now = datetime.fromisoformat(requests.get(f"{ozon.url}/_sandbox/health", timeout=10).json()["now"])
    back = [r for r in truth if r["returned"] and not r["cancelled"]]
    assert len(got) == sum(1 for r in back if datetime.fromisoformat(r["at"]) + timedelta(days=3) <= now) > 2
    first = got[0]
    assert {"id", "type", "schema", "posting_number", "product", "logistic", "visual"} <= set(first)
    assert {"sku", "offer_id", "quantity", "price"} <= set(first["product"]) and first["type"] == "ClientReturn"
    assert [r["id"] for r in got] == sorted(r["id"] for r in got)
    assert post(ozon, "/v1/returns/list", {"limit": 501}).status_code == 400
    nothing = {"time_from": "2000-01-01T00:00:00Z", "time_to": "2000-01-02T00:00:00Z"}
    assert post(ozon, "/v1/returns/list", {"filter": {"logistic_return_date": nothing}, "limit": 10}).json() == {
        "returns": [],
        "has_next": False,
    }
