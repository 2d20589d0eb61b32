"""Token buckets that make a client wait for its turn: never more calls than a limit allows, no
wait while the burst lasts, and what the server says (429, remaining) believed."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inventory_pipeline.resources import ozon, wildberries
from inventory_pipeline.resources.pacing import (
    MARGIN,
    MAX_HOLD_SECONDS,
    Bucket,
    Buckets,
    FileBuckets,
    Pacer,
    Rate,
    available,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds


def buckets() -> tuple[Buckets, FakeClock]:
    clock = FakeClock()
    return Buckets(clock, clock.sleep), clock


def test_the_burst_goes_at_once_then_one_call_per_interval():
    b, clock = buckets()
    rate = Rate(100, 5)  # WB's content methods
    waits = [b.take(("wb", "main", "content"), rate) for _ in range(8)]
    assert waits[:5] == [0, 0, 0, 0, 0]
    assert waits[5:] == pytest.approx([0.6 * MARGIN] * 3)
    assert clock.now == pytest.approx(3 * 0.6 * MARGIN)


def test_accounts_and_groups_do_not_share_a_bucket():
    b, clock = buckets()
    rate = Rate(1, 1)
    b.take(("wb", "main", "sales"), rate)
    assert b.take(("wb", "second", "sales"), rate) == 0
    assert b.take(("wb", "main", "orders"), rate) == 0
    assert clock.now == 0


def test_a_429_holds_the_bucket_for_as_long_as_the_server_asks():
    b, _ = buckets()
    rate = Rate(300, 20)
    b.hold(("k",), rate, 7.0)
    assert b.take(("k",), rate) == pytest.approx(7.0)


def test_a_hint_of_hours_holds_no_longer_than_a_retry_ever_waits():
    b, _ = buckets()
    rate = Rate(300, 20)
    b.hold(("k",), rate, 3600 * 24 * 365)  # a Retry-After date decades away
    assert b.take(("k",), rate) == pytest.approx(MAX_HOLD_SECONDS)


def test_a_per_minute_method_refused_does_not_hold_every_other_method():
    b, _ = buckets()
    pacer = Pacer(("ozon", "1001"), ozon.limits, b)
    pacer.before("POST", "/v2/warehouse/list")
    pacer.after("POST", "/v2/warehouse/list", 429, None, 60.0)
    assert pacer.before("POST", "/v4/product/info/stocks") == 0
    assert pacer.before("POST", "/v2/warehouse/list") >= 60.0


def test_the_servers_count_of_what_is_left_is_believed():
    b, _ = buckets()
    rate = Rate(100, 5)
    b.observe(("k",), rate, 0)  # another process spent the burst
    assert b.take(("k",), rate) == pytest.approx(0.6 * MARGIN)


def test_a_refused_marketplace_request_costs_ten():
    b, _ = buckets()
    pacer = Pacer(("wb", "main"), wildberries.limits, b)
    for _ in range(2):
        pacer.before("POST", "/api/v3/stocks/7")
        pacer.after("POST", "/api/v3/stocks/7", 400, None, None)
    # 20 tokens, 2 taken, 18 more charged: the next call waits for one.
    assert pacer.before("POST", "/api/v3/stocks/7") == pytest.approx(0.2 * MARGIN)


def test_each_method_counts_against_its_published_bucket():
    assert wildberries.limits("POST", wildberries.CARDS_PATH) == (wildberries.CONTENT,)
    assert wildberries.limits("GET", "/api/v1/warehouse_remains/tasks/x/status") == (wildberries.REMAINS_STATUS,)
    assert wildberries.limits("GET", "/api/v1/warehouse_remains/tasks/x/download") == (wildberries.REMAINS_DOWNLOAD,)
    assert wildberries.limits("GET", "/api/v1/warehouse_remains") == (wildberries.REMAINS_CREATE,)
    assert wildberries.limits("POST", "/api/v3/stocks/12") == (wildberries.SELLER_STOCKS,)
    assert ozon.limits("POST", "/v2/warehouse/list") == (ozon.EVERY_METHOD, ozon.PER_METHOD["/v2/warehouse/list"])
    assert ozon.limits("POST", "/v4/product/info/stocks") == (ozon.EVERY_METHOD,)


@settings(max_examples=60, deadline=None)
@given(
    per_minute=st.sampled_from([1, 3, 12, 100, 300, 3000]),
    burst=st.integers(1, 50),
    gaps=st.lists(st.floats(0, 5), min_size=1, max_size=120),
)
def test_no_window_ever_holds_more_calls_than_the_limit_allows(per_minute, burst, gaps):
    """Whatever the callers' timing, the calls sent in any window of t seconds number at most
    burst + t / interval: the server's own bucket never runs dry."""
    b, clock = buckets()
    rate = Rate(per_minute, burst)
    sent = []
    for gap in gaps:
        clock.now += gap
        b.take(("k",), rate)
        sent.append(clock.now)
    server_interval = 60 / per_minute
    for i, start in enumerate(sent):
        for j in range(i, len(sent)):
            assert j - i + 1 <= burst + (sent[j] - start) / server_interval + 1e-9


def test_threads_of_one_process_share_the_bucket():
    b = Buckets(lambda: 0.0, lambda _seconds: None)  # all ask at once; each wait is its reservation
    rate = Rate(60, 2)
    waits: list[float] = []
    threads = [threading.Thread(target=lambda: waits.append(b.take(("k",), rate))) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Two at once, then one a second each: reservations in order, never two in the same slot.
    assert sorted(waits) == pytest.approx([0, 0, 1 * MARGIN, 2 * MARGIN, 3 * MARGIN, 4 * MARGIN])


def test_a_bucket_with_nothing_to_pace_is_free():
    b, _ = buckets()
    assert Pacer(("x",), lambda _m, _p: (), b).before("GET", "/anything") == 0
    assert Bucket("g", Rate(60, 1)).refused_cost == 1


def test_a_bucket_refills_nothing_for_a_clock_that_went_back():
    rate = Rate(60, 5)
    assert available(None, rate, 100.0) == 5
    assert available((-2.0, 100.0), rate, 90.0) == -2.0  # a restored host's clock: no credit for it
    assert available((-2.0, 100.0), rate, 100.0 + 3 * rate.interval) == pytest.approx(1.0)
    assert available((4.0, 0.0), rate, 1e9) == 5  # never more than the burst


def test_a_file_bucket_keeps_its_state_between_clients(tmp_path):
    rate = Rate(60, 1)
    first, second = FileBuckets(tmp_path, lambda _s: None), FileBuckets(tmp_path, lambda _s: None)
    assert first.take(("wb", "main", "content"), rate) == 0
    assert second.take(("wb", "main", "content"), rate) > 0.9  # the other client's token is spent
    assert second.take(("wb", "second", "content"), rate) == 0
