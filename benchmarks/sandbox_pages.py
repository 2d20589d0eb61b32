"""How fast the sandbox serves a full Ozon stock page (1,000 items), against the 50 ms budget.

``python -m benchmarks.sandbox_pages [--skus 100000]``. Every figure comes from one run; the
ratio to a trivial request on the same keep-alive connection shows what the page itself costs.
"""

from __future__ import annotations

import argparse
import statistics
import time

import requests

from benchmarks.harness import sandbox_process

AUTH = {"Client-Id": "1001", "Api-Key": "sandbox-ozon-key-main"}
BUDGET_MS = 50.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skus", type=int, default=100_000)
    args = parser.parse_args()
    with sandbox_process(args.skus) as url:
        session = requests.Session()
        trivial = []
        for _ in range(200):
            start = time.perf_counter()
            session.get(f"{url}/_sandbox/health", timeout=10)
            trivial.append((time.perf_counter() - start) * 1000)
        pages, cursor = [], ""
        while True:
            start = time.perf_counter()
            answer = session.post(
                f"{url}/ozon/v4/product/info/stocks",
                headers=AUTH,
                timeout=30,
                json={"cursor": cursor, "filter": {"visibility": "ALL"}, "limit": 1000},
            )
            body = answer.json()
            pages.append((time.perf_counter() - start) * 1000)
            cursor = body["cursor"]
            if not cursor:
                break
    full = pages[:-1] or pages
    median, p95 = statistics.median(full), sorted(full)[int(len(full) * 0.95) - 1]
    print(f"Ozon /v4/product/info/stocks, {args.skus} SKUs, {len(pages)} pages of 1000 items")
    print(f"  per page incl. client JSON parse: median {median:.1f} ms, p95 {p95:.1f} ms")
    print(f"  median / 50 ms budget = {median / BUDGET_MS:.2f}; p95 / budget = {p95 / BUDGET_MS:.2f}")
    print(
        f"  median / trivial request on the same connection = {median / statistics.median(trivial):.1f}x "
        f"(trivial {statistics.median(trivial):.2f} ms)"
    )


if __name__ == "__main__":
    main()
