"""The Haier supplier sync against the sandbox's Haier API."""

from __future__ import annotations

import re

import pytest
import requests
from sqlalchemy import func, select

from inventory_pipeline.db.tables import inventory_data, product_images, product_prices, products, sync_logs
from inventory_pipeline.resources.haier import HaierResource
from inventory_pipeline_tests.support.pipeline import make_pipeline


@pytest.fixture
def haier(monkeypatch, sandbox, sqlite_url, tmp_path):
    p = make_pipeline(monkeypatch, sandbox, sqlite_url, MEDIA_DIR=str(tmp_path / "media"))
    p.media = tmp_path / "media"
    return p


def catalogue(p) -> list[dict]:
    from inventory_pipeline_tests.sandbox.test_haier_contract import ACCOUNT, CLIENT

    token = requests.post(f"{p.sandbox.url}/haier/oauth2/auth", json=CLIENT, timeout=5).json()["token"]
    return requests.post(
        f"{p.sandbox.url}/haier/yilihuo/jsh-service-goods-mall-search/api/product-info/"
        "procurable-products-out/check-procurable-products",
        json={**ACCOUNT, "productCodes": []},
        headers={"Authorization": token},
        timeout=10,
    ).json()["data"]


def logs(p) -> dict[str, str]:
    with p.engine.connect() as conn:
        return {r.sync_type: r.status for r in conn.execute(select(sync_logs).where(sync_logs.c.source == "haier"))}


def test_catalogue_prices_stock_and_images(haier):
    p = haier
    result = p.run("haier_catalogue_sync")
    assert result.success
    truth = catalogue(p)
    with p.engine.connect() as conn:
        stored = {r.product_code: r for r in conn.execute(select(products))}
        prices = {r.product_code: r for r in conn.execute(select(product_prices))}
        stock = {
            (r.sku, r.warehouse_id): r.current_stock
            for r in conn.execute(select(inventory_data).where(inventory_data.c.source == "haier"))
        }
        images = conn.execute(select(product_images)).all()
    assert set(stored) == {t["productCode"] for t in truth}
    first = truth[0]
    assert (stored[first["productCode"]].model, stored[first["productCode"]].brand) == (
        first["productModel"],
        first["productBrandName"],
    )
    assert all(prices[c].sale_price == prices[c].supply_price for c in prices if prices[c].supply_price)
    sandbox_stock = requests.get(f"{p.sandbox.url}/_sandbox/truth/haier", timeout=5).json()
    assert stock == {
        (r["product_code"], r["county_code"]): r["stock"] for r in sandbox_stock if r["county_code"] == "110101"
    }
    assert len(images) == sum(len(t["productLageUrls"]) for t in truth)
    for image in images:
        assert re.fullmatch(r"\d{4}/\d{2}/\d{2}/[0-9a-f]{32}\.png", image.path)
        assert (p.media / image.path).read_bytes().startswith(b"\x89PNG")
    assert logs(p) == {"products": "success", "prices": "success", "stock": "success", "images": "success"}
    metadata = result.asset_materializations_for_node("haier_products")[0].metadata
    assert metadata["success_rate"].value == 1.0 and metadata["items_per_minute"].value > 0
    assert all(e.passed for e in result.get_asset_check_evaluations())


def test_rerun_rewrites_nothing_and_downloads_nothing(haier):
    p = haier
    assert p.run("haier_catalogue_sync").success
    files = sorted(p.media.rglob("*.png"))
    again = p.run("haier_catalogue_sync")
    meta = again.asset_materializations_for_node("haier_products")[0].metadata
    assert (meta["created"].value, meta["updated"].value) == (0, 0)
    assert again.asset_materializations_for_node("product_images")[0].metadata["files_written"].value == 0
    assert sorted(p.media.rglob("*.png")) == files


def test_token_expiry_mid_run_is_one_reauthentication(sandbox):
    haier = HaierResource(
        base_url=f"{sandbox.url}/haier",
        client_id="sandbox-haier-client",
        client_secret="sandbox-haier-secret",
        customer_code="8800000001",
        send_to_code="8800000001",
        supplier_code="1001",
        password="sandbox-haier-password",
        seller_password="sandbox-haier-password",
        retry_delay_seconds=0.05,
    )
    assert list(haier.products())
    requests.put(f"{sandbox.url}/_sandbox/config", json={"expire_haier_tokens": True}, timeout=5)
    assert list(haier.products())
    assert haier.token_calls == 2


def test_wrong_secret_is_one_clear_error(monkeypatch, sandbox, sqlite_url, tmp_path):
    p = make_pipeline(monkeypatch, sandbox, sqlite_url, HAIER_CLIENT_SECRET="wrong", MEDIA_DIR=str(tmp_path))
    requests.delete(f"{sandbox.url}/_sandbox/calls", timeout=5)
    result = p.run("haier_catalogue_sync")
    assert not result.success
    message = str(result.get_step_failure_events()[0].step_failure_data.error)
    assert "HAIER_CLIENT_ID / HAIER_CLIENT_SECRET" in message and "wrong" not in message.split("Fix")[0][-20:]
    calls = requests.get(f"{sandbox.url}/_sandbox/calls", timeout=5).json()
    assert calls == {"POST /haier/oauth2/auth": 1}
    assert logs(p)["products"] == "failed"


def test_one_malformed_product_leaves_the_rest_stored(haier):
    p = haier
    bad = catalogue(p)[3]["productCode"]
    requests.put(f"{p.sandbox.url}/_sandbox/config", json={"haier_malformed": [bad]}, timeout=5)
    result = p.run("haier_catalogue_sync")
    meta = result.asset_materializations_for_node("haier_products")[0].metadata
    assert meta["failed"].value == 1 and meta["succeeded"].value == len(catalogue(p)) - 1
    assert logs(p)["products"] == "partial"
    with p.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(products)).scalar_one() == len(catalogue(p)) - 1


def test_non_images_and_oversize_images_are_refused_and_reported(haier, monkeypatch):
    p = haier
    codes = [t["productCode"] for t in catalogue(p)]
    requests.put(
        f"{p.sandbox.url}/_sandbox/config",
        json={"haier_bad_images": {codes[0]: "html", codes[1]: "oversize"}},
        timeout=5,
    )
    result = p.run("haier_catalogue_sync")
    meta = result.asset_materializations_for_node("product_images")[0].metadata
    assert "not an image (text/html)" in meta["failed_items"].value
    assert "larger than" in meta["failed_items"].value
    assert logs(p)["images"] == "partial"
    with p.engine.connect() as conn:
        refused = conn.execute(select(product_images).where(product_images.c.product_code.in_(codes[:2]))).all()
    assert refused == []


@pytest.mark.parametrize("pick", ["codes", "brand", "category"])
def test_filters_select_exactly_what_they_say(haier, pick):
    p = haier
    truth = catalogue(p)
    if pick == "codes":
        config, expected = (
            {"product_codes": [t["productCode"] for t in truth[:3]]},
            {t["productCode"] for t in truth[:3]},
        )
    else:
        field = "productBrandName" if pick == "brand" else "productGroupNamd"
        value = truth[0][field]
        config, expected = {pick: value}, {t["productCode"] for t in truth if t[field] == value}
    result = p.run("haier_catalogue_sync", config={"ops": {"haier_products": {"config": config}}})
    assert result.success
    with p.engine.connect() as conn:
        assert set(conn.execute(select(products.c.product_code)).scalars()) == expected


def _haier_stock(p) -> dict[tuple[str, str], int]:
    with p.engine.connect() as conn:
        return {
            (r.sku, r.warehouse_id): r.current_stock
            for r in conn.execute(select(inventory_data).where(inventory_data.c.source == "haier"))
        }


def test_a_stock_read_of_one_county_or_product_leaves_the_others_alone(monkeypatch, sandbox, database_url, tmp_path):
    """With run config ``county_codes: ["110101"]`` every other county's rows used to go to 0."""
    p = make_pipeline(
        monkeypatch, sandbox, database_url, MEDIA_DIR=str(tmp_path / "media"), HAIER_COUNTY_CODES="110101,310101"
    )
    assert p.run("haier_catalogue_sync").success
    before = _haier_stock(p)
    assert {county for _, county in before} == {"110101", "310101"} and any(before.values())
    one_county = {"ops": {"haier_stock": {"config": {"county_codes": ["110101"]}}}}
    assert p.run("haier_stock_sync", config=one_county).success
    assert {k: v for k, v in _haier_stock(p).items() if k[1] == "310101"} == {
        k: v for k, v in before.items() if k[1] == "310101"
    }
    code = next(k[0] for k, v in before.items() if v)
    one_product = {"ops": {"haier_stock": {"config": {"product_codes": [code]}}}}
    assert p.run("haier_stock_sync", config=one_product).success
    assert {k: v for k, v in _haier_stock(p).items() if k[0] != code} == {
        k: v for k, v in before.items() if k[0] != code
    }


def test_an_empty_read_is_refused_and_zeroes_nothing(haier):
    p = haier
    assert p.run("haier_catalogue_sync").success
    before = _haier_stock(p)
    p.faults("500@/haier/yilihuo/jsh-service-stock-mall")  # every stock answer fails
    result = p.run("haier_stock_sync")
    assert not result.success
    message = str(result.get_step_failure_events()[0].step_failure_data.error)
    assert "answered no readable stock" in message and "unchanged" in message
    assert _haier_stock(p) == before
    p.faults("")
    with p.engine.begin() as conn:
        conn.execute(products.delete())
    result = p.run("haier_stock_sync")
    assert not result.success and "the stored catalogue is empty" in str(
        result.get_step_failure_events()[0].step_failure_data.error
    )
    assert _haier_stock(p) == before
