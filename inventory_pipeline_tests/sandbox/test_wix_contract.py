"""Contract of the sandbox's Wix Stores (Catalog V1 and V3 sites), over real HTTP."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from marketplace_sandbox import SandboxServer

V1 = {"Authorization": "sandbox-wix-api-key", "wix-site-id": "site-v1"}
V3 = {"Authorization": "sandbox-wix-api-key", "wix-site-id": "site-v3"}


@pytest.fixture
def wix():
    with SandboxServer(skus=80, seed=5) as server:
        yield server


def post(server, path, body, headers=V1, method="POST"):
    return requests.request(method, f"{server.url}/wix{path}", json=body, headers=headers, timeout=10)


def truth(server, site="site-v1"):
    return {
        r["sku"]: r for r in requests.get(f"{server.url}/_sandbox/truth/wix", params={"site": site}, timeout=10).json()
    }


def test_products_query_filters_as_json_string_or_object(wix):
    skus = list(truth(wix))[:5]
    as_string = post(
        wix,
        "/stores/v1/products/query",
        {
            "query": {"filter": json.dumps({"sku": {"$hasSome": skus}}), "paging": {"limit": 100}},
            "includeVariants": True,
        },
    )
    as_object = post(
        wix,
        "/stores/v1/products/query",
        {"query": {"filter": {"sku": {"$hasSome": skus}}, "paging": {"limit": 100}}, "includeVariants": True},
    )
    assert as_string.json() == as_object.json()
    found = {v["variant"]["sku"] for p in as_string.json()["products"] for v in p["variants"]}
    assert set(skus) <= found
    assert post(wix, "/stores/v1/products/query", {"query": {"paging": {"limit": 101}}}).status_code == 400
    assert post(wix, "/stores/v1/products/query", {"query": {"filter": "{broken"}}).status_code == 400


def test_products_with_and_without_variants(wix):
    products = post(
        wix, "/stores/v1/products/query", {"query": {"paging": {"limit": 100}}, "includeVariants": True}
    ).json()["products"]
    single = [p for p in products if not p["manageVariants"]]
    multi = [p for p in products if p["manageVariants"]]
    assert single and multi
    assert all(p["variants"][0]["id"] == "00000000-0000-0000-0000-000000000000" and p["sku"] for p in single)
    assert all(p["sku"] == "" and len(p["variants"]) >= 2 for p in multi)


def test_v1_absolute_and_delta_updates(wix):
    sku, row = next(iter(truth(wix).items()))
    patch = post(
        wix,
        f"/stores/v2/inventoryItems/product/{row['product_id']}",
        {"inventoryItem": {"trackQuantity": True, "variants": [{"variantId": row["variant_id"], "quantity": 9}]}},
        method="PATCH",
    )
    assert patch.status_code == 200 and truth(wix)[sku]["quantity"] == 9
    post(
        wix,
        "/stores/v2/inventoryItems/increment",
        {"incrementData": [{"productId": row["product_id"], "variantId": row["variant_id"], "incrementBy": 3}]},
    )
    post(
        wix,
        "/stores/v2/inventoryItems/decrement",
        {
            "decrementData": [
                {"inventoryId": row["inventory_item_id"], "variantId": row["variant_id"], "decrementBy": 5}
            ]
        },
    )
    assert truth(wix)[sku]["quantity"] == 7
    too_many = {
        "incrementData": [{"productId": row["product_id"], "variantId": row["variant_id"], "incrementBy": 1}] * 301
    }
    assert post(wix, "/stores/v2/inventoryItems/increment", too_many).status_code == 400
    zero = post(
        wix,
        "/stores/v2/inventoryItems/increment",
        {"incrementData": [{"productId": row["product_id"], "variantId": row["variant_id"], "incrementBy": 0}]},
    )
    assert zero.status_code == 400 and "validationError" in zero.json()["details"]
    query = post(
        wix,
        "/stores/v2/inventoryItems/query",
        {"query": {"filter": json.dumps({"productId": {"$in": [row["product_id"]]}})}},
    ).json()
    assert query["inventoryItems"][0]["variants"][0]["quantity"] == 7


def test_v3_revision_and_catalog_version(wix):
    assert post(wix, "/stores/v3/provision/version", None, method="GET").json() == {"catalogVersion": "V1_CATALOG"}
    assert post(wix, "/stores/v3/provision/version", None, V3, "GET").json() == {"catalogVersion": "V3_CATALOG"}
    assert post(wix, "/stores/v3/inventory-items/query", {"query": {}}).status_code == 428
    assert post(wix, "/stores/v1/products/query", {"query": {}}, V3).status_code == 428
    requests.put(f"{wix.url}/_sandbox/config", json={"wix_transient_refusals": 0}, timeout=5)
    sku, row = next(iter(truth(wix, "site-v3").items()))
    item = {"id": row["v3_inventory_item_id"], "revision": str(row["revision"]), "quantity": 4}
    ok = post(
        wix,
        "/stores/v3/bulk/inventory-items/update",
        {"inventoryItems": [{"inventoryItem": item}], "returnEntity": True},
        V3,
    )
    assert ok.status_code == 200 and ok.json()["bulkActionMetadata"]["totalSuccesses"] == 1
    assert ok.json()["results"][0]["item"]["revision"] == str(row["revision"] + 1)
    # A stale revision: the bulk update refuses the batch with 428, the single update with 409.
    stale = post(wix, "/stores/v3/bulk/inventory-items/update", {"inventoryItems": [{"inventoryItem": item}]}, V3)
    assert stale.status_code == 428 and stale.json()["details"]["applicationError"]["code"] == "INVALID_REVISION"
    single = requests.patch(
        f"{wix.url}/wix/stores/v3/inventory-items/{item['id']}", json={"inventoryItem": item}, headers=V3, timeout=10
    )
    assert single.status_code == 409
    assert truth(wix, "site-v3")[sku]["quantity"] == 4
    # One item inside a 200 can fail on its own: its result says so and the others are written.
    rows = list(truth(wix, "site-v3").items())[1:3]
    requests.put(f"{wix.url}/_sandbox/config", json={"wix_refusing": [rows[0][0]]}, timeout=5)
    both = [
        {"inventoryItem": {"id": r["v3_inventory_item_id"], "revision": str(r["revision"]), "quantity": 7}}
        for _, r in rows
    ]
    mixed = post(wix, "/stores/v3/bulk/inventory-items/update", {"inventoryItems": both}, V3)
    assert mixed.status_code == 200 and mixed.json()["bulkActionMetadata"]["totalFailures"] == 1
    first, second = mixed.json()["results"]
    assert first["itemMetadata"]["success"] is False and first["itemMetadata"]["error"]["description"]
    assert second["itemMetadata"]["success"] is True
    after = truth(wix, "site-v3")
    assert after[rows[0][0]]["quantity"] == rows[0][1]["quantity"] and after[rows[1][0]]["quantity"] == 7
    requests.put(f"{wix.url}/_sandbox/config", json={"wix_refusing": [], "wix_transient_refusals": 0.02}, timeout=5)
    page = post(wix, "/stores/v3/inventory-items/query", {"query": {"cursorPaging": {"limit": 10}}}, V3).json()
    assert len(page["inventoryItems"]) == 10 and page["pagingMetadata"]["cursors"]["next"]
    assert "hasNext" not in page["pagingMetadata"]  # count and cursors only, as Wix documents it


def test_auth(wix):
    assert post(wix, "/stores/v1/products/query", {}, {}).status_code == 401
    assert (
        post(wix, "/stores/v1/products/query", {}, {"Authorization": "bad", "wix-site-id": "site-v1"}).status_code
        == 401
    )
    assert post(wix, "/stores/v1/products/query", {}, {"Authorization": "sandbox-wix-api-key"}).status_code == 403


def test_rate_limit_real_profile():
    with SandboxServer(skus=10, seed=5, profile="real") as server:
        # Burst 200, then 3.3 per second: 300 requests would have to take 30 s to stay under it.
        first = post(server, "/stores/v3/provision/version", None, method="GET").status_code
        with ThreadPoolExecutor(8) as pool:
            statuses = list(
                pool.map(
                    lambda _: post(server, "/stores/v3/provision/version", None, method="GET").status_code, range(300)
                )
            )
        assert first == 200 and statuses.count(429) >= 1
