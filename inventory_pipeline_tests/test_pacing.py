"""Under the published rate limits (the sandbox's real profile) a sync waits for its turn instead of
being refused: no answer 429, one call per page it needs."""

from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor

import requests

from inventory_pipeline.resources.pacing import Rate, shared_buckets
from inventory_pipeline_tests.support.ledger_views import assert_ledger_matches
from inventory_pipeline_tests.support.pipeline import make_pipeline
from marketplace_sandbox import SandboxServer
from marketplace_sandbox.env import sandbox_env

CARDS = "POST /wb/content/content/v2/get/cards/list"


def test_a_sync_under_the_real_limits_provokes_no_429(monkeypatch, sqlite_url):
    # About 1,000 WB cards of one account: a dozen card pages against WB's burst of 5 at 100 a minute.
    with SandboxServer(skus=1500, seed=11, profile="real") as sandbox:
        p = make_pipeline(monkeypatch, sandbox, sqlite_url, SELLER_ACCOUNTS="main")
        requests.delete(f"{sandbox.url}/_sandbox/calls", timeout=10).raise_for_status()
        assert p.run(account="main").success
        throttled = requests.get(f"{sandbox.url}/_sandbox/throttled", timeout=10).json()
        calls = p.calls()
        assert throttled == {}
        assert calls[CARDS] > 5  # past the burst: the client did wait its turn
        assert_ledger_matches(p.engine, p.truth("wb"), "wb")
        assert_ledger_matches(p.engine, p.truth("ozon"), "ozon")


def _take_from_shared(url: str, key: tuple, per_minute: float, burst: int, calls: int, start_at: float) -> list[float]:
    """In a process of its own: ``calls`` turns from the instance's buckets, each one's time."""
    buckets = shared_buckets(url)
    time.sleep(max(0.0, start_at - time.time()))
    taken = []
    for _ in range(calls):
        buckets.take(key, Rate(per_minute, burst))
        taken.append(time.time())
    return taken


def test_processes_of_one_instance_share_an_accounts_limit(database_url):
    """Three step processes calling for one account get, together, no more turns than the account's
    limit allows at any moment (each alone would have taken its own burst and rate)."""
    url = database_url
    per_minute, burst, each = 1200, 2, 8
    interval = 60 / per_minute  # the server's: what it counts, without our margin
    start_at = time.time() + 4  # once every process has imported and connected
    with ProcessPoolExecutor(3, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [
            pool.submit(_take_from_shared, url, ("wb", "main", "test"), per_minute, burst, each, start_at)
            for _ in range(3)
        ]
        taken = sorted(t for f in futures for t in f.result())
    assert len(taken) == 3 * each
    first = taken[0]
    for k, at in enumerate(taken):  # the k-th turn of all: at most burst + elapsed / interval before it
        assert k + 1 <= burst + (at - first) / interval + 0.2, (k, at - first)
    # A second account has its own limit: its burst is free whatever the first one spent.
    second = [shared_buckets(url).take(("wb", "second", "test"), Rate(per_minute, burst)) for _ in range(burst)]
    assert second == [0] * burst


def test_two_processes_listing_one_accounts_cards_provoke_no_429(tmp_path, sqlite_url):
    """Two runs of one account side by side (a scheduled sync and a backfill), under the published
    limits: the account's buckets are shared, so the server never refuses either."""
    with SandboxServer(skus=600, seed=11, profile="real") as sandbox:
        env = sandbox_env(sandbox.url)
        requests.delete(f"{sandbox.url}/_sandbox/calls", timeout=10).raise_for_status()
        with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
            pages = list(pool.map(_list_cards, [env] * 2, [sqlite_url] * 2))
        throttled = requests.get(f"{sandbox.url}/_sandbox/throttled", timeout=10).json()
    assert pages[0] == pages[1] > 5  # past the burst of 5 together: both had to wait their turns
    assert throttled == {}


def _list_cards(env: dict[str, str], url: str) -> int:
    from inventory_pipeline.resources.wildberries import WildberriesResource

    wb = WildberriesResource(
        account="main", api_key=env["WB_API_KEY"], content_url=env["WB_CONTENT_API_URL"], pacing_store=url
    )
    return sum(1 for _ in wb.card_pages())
