"""Under the published rate limits (the sandbox's real profile) a sync waits for its turn instead of
being refused: no answer 429, one call per page it needs."""

from __future__ import annotations

import requests

from inventory_pipeline_tests.support.ledger_views import assert_ledger_matches
from inventory_pipeline_tests.support.pipeline import make_pipeline
from marketplace_sandbox import SandboxServer

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
