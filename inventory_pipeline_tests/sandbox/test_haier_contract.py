"""Contract of the sandbox's Haier open platform, over real HTTP."""

from __future__ import annotations

import pytest
import requests

from marketplace_sandbox import SandboxServer
from marketplace_sandbox.haier import PRICES_PATH, PRODUCTS_PATH, STOCK_PATH

CLIENT = {
    "client_id": "sandbox-haier-client",
    "client_secret": "sandbox-haier-secret",
    "grant_type": "client_credentials",
}
ACCOUNT = {
    "customerCode": "8800000001",
    "sendToCode": "8800000001",
    "supplierCode": "1001",
    "searchType": "PTJSH",
    "passWord": "sandbox-haier-password",
}


@pytest.fixture
def haier():
    with SandboxServer(skus=60, seed=6) as server:
        yield server


def token(server) -> str:
    answer = requests.post(f"{server.url}/haier/oauth2/auth", json=CLIENT, timeout=5).json()
    assert answer["expires_in"] == 3600 and answer["token"] == answer["access_token"]
    return answer["token"]


def post(server, path, body, tok):
    return requests.post(f"{server.url}{path}", json=body, headers={"Authorization": f"Bearer {tok}"}, timeout=10)


def test_products_prices_and_stock(haier):
    tok = token(haier)
    products = post(haier, PRODUCTS_PATH, {**ACCOUNT, "productCodes": []}, tok).json()
    assert products["code"] == "0" and len(products["data"]) >= 25
    first = products["data"][0]
    assert {
        "productCode",
        "productModel",
        "productGroupNamd",
        "productBrandName",
        "productImageUrl",
        "productLageUrls",
        "isSales",
        "noSalesReason",
    } <= set(first)
    codes = [p["productCode"] for p in products["data"][:20]]
    assert len(post(haier, PRODUCTS_PATH, {**ACCOUNT, "productCodes": codes}, tok).json()["data"]) == 20
    assert post(haier, PRODUCTS_PATH, {**ACCOUNT, "productCodes": [*codes, "X"]}, tok).status_code == 400
    prices = post(haier, PRICES_PATH, {**ACCOUNT, "productCodes": codes[:3], "priceType": "PT"}, tok).json()["data"]
    for p in prices:
        assert p["invoicePrice"] == round(p["supplyPrice"] * (1 - p["stockRebatePolicy"]) - p["rebateMoney"], 2)
    stock = post(
        haier,
        STOCK_PATH,
        {
            "salesCode": "8800000001",
            "senderCode": "8800000001",
            "productCode": codes[0],
            "countyCode": "110101",
            "source": "JSH-B",
            "sellerPassword": "sandbox-haier-password",
        },
        tok,
    ).json()["data"]
    assert isinstance(stock["stock"], str) and stock["stock"].isdigit()
    truth = requests.get(f"{haier.url}/_sandbox/truth/haier", timeout=5).json()
    assert {"product_code": codes[0], "county_code": "110101", "stock": int(stock["stock"])} in truth
    bad_county = post(
        haier,
        STOCK_PATH,
        {
            "salesCode": "8800000001",
            "productCode": codes[0],
            "countyCode": "11",
            "sellerPassword": "sandbox-haier-password",
        },
        tok,
    )
    assert bad_county.status_code == 400
    image = requests.get(first["productImageUrl"], timeout=5)
    assert image.headers["content-type"] == "image/png" and image.content.startswith(b"\x89PNG")


def test_token_rules(haier):
    assert (
        requests.post(f"{haier.url}/haier/oauth2/token", json={**CLIENT, "client_secret": "x"}, timeout=5).status_code
        == 401
    )
    assert post(haier, PRODUCTS_PATH, ACCOUNT, "").status_code == 401
    tok = token(haier)
    requests.put(f"{haier.url}/_sandbox/config", json={"expire_haier_tokens": True}, timeout=5)
    assert post(haier, PRODUCTS_PATH, ACCOUNT, tok).status_code == 401
    raw = requests.post(f"{haier.url}{PRODUCTS_PATH}", json=ACCOUNT, headers={"Authorization": token(haier)}, timeout=5)
    assert raw.status_code == 200
    assert post(haier, PRODUCTS_PATH, {**ACCOUNT, "passWord": "x"}, token(haier)).status_code == 403


def test_bad_items_and_images_on_demand(haier):
    tok = token(haier)
    code = post(haier, PRODUCTS_PATH, {**ACCOUNT, "productCodes": []}, tok).json()["data"][1]["productCode"]
    requests.put(
        f"{haier.url}/_sandbox/config", json={"haier_malformed": [code], "haier_bad_images": {code: "html"}}, timeout=5
    )
    rows = post(haier, PRODUCTS_PATH, {**ACCOUNT, "productCodes": []}, tok).json()["data"]
    assert sum(1 for r in rows if r["productCode"] is None) == 1
    assert (
        requests.get(f"{haier.url}/haier/images/{code}/0.png", timeout=5)
        .headers["content-type"]
        .startswith("text/html")
    )
