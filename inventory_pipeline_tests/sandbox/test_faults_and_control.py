"""Fault injection, time, ground truth and the command line of the sandbox."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import requests

from marketplace_sandbox import SandboxServer
from marketplace_sandbox.faults import FaultInjector, parse_spec
from marketplace_sandbox.server import sandbox_process

AUTH = {"Client-Id": "1001", "Api-Key": "sandbox-ozon-key-main"}
STOCKS = "/ozon/v4/product/info/stocks"
BODY = {"filter": {"visibility": "ALL"}, "limit": 10}


@pytest.fixture
def sb():
    with SandboxServer(skus=40, seed=8) as server:
        yield server


def stocks(server, timeout=5.0):
    return requests.post(f"{server.url}{STOCKS}", json=BODY, headers=AUTH, timeout=timeout)


def set_faults(server, spec, slow=None):
    body = {"spec": spec} if slow is None else {"spec": spec, "slow_seconds": slow}
    assert requests.put(f"{server.url}/_sandbox/faults", json=body, timeout=5).ok


def test_parse_spec():
    rule = parse_spec("500=0.5@/ozon/v4+2*3")[0]
    assert (rule.kind, rule.rate, rule.path, rule.after, rule.times) == ("500", 0.5, "/ozon/v4", 2, 3)
    assert [r.kind for r in parse_spec("429=0.1, slow")] == ["429", "slow"]
    for bad in ("teapot", "500=2", "500=x"):
        with pytest.raises(ValueError):
            parse_spec(bad)


def test_fault_draws_replay_under_a_seed():
    def draws(seed):
        injector = FaultInjector(seed, parse_spec("500=0.3"))
        return [injector.draw("/ozon/x") for _ in range(200)]

    assert draws(5) == draws(5) and draws(5) != draws(6)
    assert 30 < sum(1 for d in draws(5) if d) < 90


def test_status_faults_have_the_apis_own_bodies(sb):
    set_faults(sb, "429*1,503*1")
    limited = stocks(sb)
    assert limited.status_code == 429 and limited.json()["code"] == 8 and limited.headers["retry-after"] == "1"
    assert stocks(sb).status_code == 503
    assert stocks(sb).status_code == 200
    set_faults(sb, "429@/wb")
    wb = requests.get(
        f"{sb.url}/wb/marketplace/api/v3/warehouses", headers={"Authorization": "sandbox-wb-token-main"}, timeout=5
    )
    assert wb.status_code == 429 and wb.headers["X-Ratelimit-Retry"] == "1"


def test_slow_answer_trips_a_client_timeout(sb):
    set_faults(sb, "slow*1", slow=1.5)
    with pytest.raises(requests.Timeout):
        stocks(sb, timeout=0.5)
    assert stocks(sb).ok


def test_drop_cuts_the_body(sb):
    set_faults(sb, "drop*1")
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.ConnectionError)):
        stocks(sb).json()
    assert stocks(sb).ok


def test_malformed_truncate_and_empty(sb):
    set_faults(sb, "malformed*1")
    broken = stocks(sb)
    assert broken.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(broken.content)
    set_faults(sb, "truncate*1")
    truncated = stocks(sb).json()
    assert len(truncated["items"]) == 5 and truncated["cursor"] == "" and truncated["total_items"] > 10
    set_faults(sb, "empty*1")
    assert stocks(sb).json()["items"] == []
    assert len(stocks(sb).json()["items"]) == 10


def test_500after_applies_the_write_then_fails(sb):
    row = requests.get(f"{sb.url}/_sandbox/truth/wix", timeout=5).json()[0]
    set_faults(sb, "500after@/wix/stores/v2/inventoryItems/increment")
    answer = requests.post(
        f"{sb.url}/wix/stores/v2/inventoryItems/increment",
        json={"incrementData": [{"productId": row["product_id"], "variantId": row["variant_id"], "incrementBy": 2}]},
        headers={"Authorization": "sandbox-wix-api-key", "wix-site-id": "site-v1"},
        timeout=5,
    )
    assert answer.status_code == 500
    after = next(r for r in requests.get(f"{sb.url}/_sandbox/truth/wix", timeout=5).json() if r["sku"] == row["sku"])
    assert after["quantity"] == row["quantity"] + 2


def test_advance_moves_stock_and_makes_sales(sb):
    before = requests.get(f"{sb.url}/_sandbox/truth/ozon", timeout=5).json()
    sales_before = len(requests.get(f"{sb.url}/_sandbox/sales/ozon", timeout=5).json())
    moved = requests.post(f"{sb.url}/_sandbox/advance", json={"hours": 48}, timeout=10).json()
    assert moved["sales"] > 0
    assert requests.get(f"{sb.url}/_sandbox/truth/ozon", timeout=5).json() != before
    assert len(requests.get(f"{sb.url}/_sandbox/sales/ozon", timeout=5).json()) > sales_before
    assert requests.post(f"{sb.url}/_sandbox/advance", json={"hours": -1}, timeout=5).status_code == 400


def test_calls_are_counted(sb):
    requests.delete(f"{sb.url}/_sandbox/calls", timeout=5)
    stocks(sb)
    stocks(sb)
    assert requests.get(f"{sb.url}/_sandbox/calls", timeout=5).json() == {f"POST {STOCKS}": 2}


def test_command_line_serves_every_api():
    with sandbox_process(skus=30, seed=2, faults="429=0.0", profile="fast") as url:
        health = requests.get(f"{url}/_sandbox/health", timeout=5).json()
        assert health == {**health, "skus": 30, "seed": 2, "profile": "fast"}
        assert requests.post(f"{url}{STOCKS}", json=BODY, headers=AUTH, timeout=5).ok
    bad = subprocess.run(
        [sys.executable, "-m", "marketplace_sandbox", "--faults", "teapot"], capture_output=True, text=True, timeout=60
    )
    assert bad.returncode == 2 and "unknown fault kind" in bad.stderr
