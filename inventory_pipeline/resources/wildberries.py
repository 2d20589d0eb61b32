"""Wildberries seller API client for one seller account (one token, several WB hosts)."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator, Sequence

from dagster import ConfigurableResource
from pydantic import PrivateAttr

from inventory_pipeline.resources.http import ApiPayloadError, ApiUnavailableError, JsonApi, RetryPolicy, expect
from inventory_pipeline.resources.pacing import Bucket, Pacer, Rate, shared_buckets
from inventory_pipeline.resources.pages import RawPage, unseen

REPORT_PATH = "/api/analytics/v1/stocks-report/wb-warehouses"
REMAINS_PATH = "/api/v1/warehouse_remains"
# One report row per size: the article, the card and the size (grouped by barcode too, a size with
# two barcodes would come as two rows, each with part of its stock).
REMAINS_GROUPING = {"groupBySa": "true", "groupByNm": "true", "groupBySize": "true"}
REMAINS_POLL_MAX_SECONDS = 5.0  # WB asks for no more than one status call per 5 s beyond its burst of 5
CARDS_PATH = "/content/v2/get/cards/list"
REPORT_LIMIT = 250_000
CARDS_LIMIT = 100
STOCKS_BATCH = 1000

# WB's published limits per seller token (Personal/Service tokens), one bucket per method group.
# On the marketplace host a refused request (4XX) counts as ten.
PING = Bucket("ping", Rate(6, 3))
CONTENT = Bucket("content", Rate(100, 5))
STOCKS_REPORT = Bucket("stocks-report", Rate(3, 1))
REMAINS_CREATE = Bucket("remains-create", Rate(1, 5))
REMAINS_STATUS = Bucket("remains-status", Rate(12, 5))
REMAINS_DOWNLOAD = Bucket("remains-download", Rate(1, 1))
SELLER_WAREHOUSES = Bucket("seller-warehouses", Rate(300, 20), refused_cost=10)
SELLER_STOCKS = Bucket("seller-stocks", Rate(300, 20), refused_cost=10)
FBS_ORDERS = Bucket("fbs-orders", Rate(300, 20), refused_cost=10)  # every FBS order, supply and pass method
ORDERS = Bucket("orders", Rate(1, 10))
SALES = Bucket("sales", Rate(1, 1))


BY_PATH = {
    "/ping": PING,
    CARDS_PATH: CONTENT,
    REPORT_PATH: STOCKS_REPORT,
    "/api/v3/warehouses": SELLER_WAREHOUSES,
    "/api/v3/orders/new": FBS_ORDERS,
    "/api/v3/orders/status": FBS_ORDERS,
    "/api/v1/supplier/orders": ORDERS,
    "/api/v1/supplier/sales": SALES,
}


def limits(_method: str, path: str) -> tuple[Bucket, ...]:
    """The bucket a Wildberries request counts against."""
    if path.startswith(REMAINS_PATH):
        return (
            (REMAINS_STATUS,)
            if path.endswith("/status")
            else (REMAINS_DOWNLOAD,)
            if path.endswith("/download")
            else (REMAINS_CREATE,)
        )
    if path.startswith("/api/v3/stocks/"):
        return (SELLER_STOCKS,)
    return (BY_PATH[path],) if path in BY_PATH else ()


class WildberriesResource(ConfigurableResource):
    """Wildberries seller APIs for one account; the token arrives through ``EnvVar``."""

    account: str = "main"
    api_key: str
    api_key_var: str = "WB_API_KEY"
    analytics_url: str = "https://seller-analytics-api.wildberries.ru"
    marketplace_url: str = "https://marketplace-api.wildberries.ru"
    content_url: str = "https://content-api.wildberries.ru"
    statistics_url: str = "https://statistics-api.wildberries.ru"
    fbw_by_warehouse: bool = True
    """FBW stock per WB warehouse from the warehouse-remains report; off: the stocks report's one
    aggregate per size (``-999999``, "Склад WB"), all the stocks report serves today."""
    report_wait_seconds: float = 300.0
    timeout_seconds: float = 30.0
    retries: int = 3
    retry_delay_seconds: float = 5.0
    paced: bool = True
    """Wait for a turn under WB's published limits (MARKETPLACE_PACING)."""
    pacing_store: str = ""
    """The inventory database's URL: where the account's buckets are shared with every other process
    of the instance (empty: this process's own)."""

    _apis: dict[str, JsonApi] = PrivateAttr(default_factory=dict)

    def _host(self, name: str) -> JsonApi:
        if name not in self._apis:
            url = {
                "analytics": self.analytics_url,
                "marketplace": self.marketplace_url,
                "content": self.content_url,
                "statistics": self.statistics_url,
            }[name]
            self._apis[name] = JsonApi(
                "Wildberries",
                url,
                {"Authorization": self.api_key.strip()},
                self.timeout_seconds,
                RetryPolicy(self.retries, self.retry_delay_seconds),
                f"{self.api_key_var} (Wildberries account '{self.account}')",
                url_hint=f"WB_{name.upper()}_API_URL",
                pacer=Pacer(("wb", self.account), limits, shared_buckets(self.pacing_store)) if self.paced else None,
            )
        return self._apis[name]

    @property
    def calls(self) -> int:
        return sum(api.calls for api in self._apis.values())

    def card_pages(self, after: tuple[str, int] | None = None) -> Iterator[RawPage]:
        """Product cards: every size (chrtID) of every card with its article, techSize and barcodes;
        with ``after`` (a card's updatedAt and nmID), only the cards edited or created since.

        WB's own end rule is a page of fewer than ``limit`` cards (``cursor.total``), but WB also
        answers short pages in the middle of a listing: a short page is followed by one more request,
        and only an empty page ends the listing (one call more than WB's rule, never a lost page)."""
        cursor: dict = {"limit": CARDS_LIMIT}
        if after:
            cursor.update(updatedAt=after[0], nmID=after[1])
        seen: set[tuple] = set()
        while True:
            # Oldest edit first, so that a listing can go on from the newest card it knows.
            body = {"settings": {"sort": {"ascending": True}, "cursor": cursor, "filter": {"withPhoto": -1}}}
            payload, raw = self._host("content").call("POST", CARDS_PATH, body=body, with_body=True)
            expect(payload, dict, "the cards answer", "Wildberries")
            cards = expect(payload.get("cards"), list, "cards", "Wildberries")
            yield RawPage("cards", raw, payload)
            if not cards:
                return
            page_cursor = expect(payload.get("cursor"), dict, "cursor", "Wildberries")
            after = (page_cursor.get("updatedAt"), page_cursor.get("nmID"))
            if None in after:
                raise ApiPayloadError(f"Wildberries: a page of {len(cards)} cards came without a cursor to go on from")
            unseen(seen, after, "Wildberries' card listing")
            cursor = {"limit": CARDS_LIMIT, "updatedAt": after[0], "nmID": after[1]}

    def warehouse_report_pages(self) -> Iterator[RawPage]:
        """Stock on WB's own warehouses (FBW), one aggregate row per size."""
        offset = 0
        while True:
            body = {"nmIds": [], "limit": REPORT_LIMIT, "offset": offset}
            payload, raw = self._host("analytics").call("POST", REPORT_PATH, body=body, with_body=True)
            data = expect(expect(payload, dict, "the report", "Wildberries").get("data"), dict, "data", "Wildberries")
            items = expect(data.get("items"), list, "data.items", "Wildberries")
            yield RawPage("wb_warehouses", raw, payload)
            if len(items) < REPORT_LIMIT:
                return
            offset += REPORT_LIMIT

    def warehouse_remains(self) -> RawPage:
        """Stock on WB's own warehouses (FBW) per warehouse and size: the asynchronous
        warehouse-remains report, asked for, waited on, then downloaded."""
        api = self._host("analytics")
        created = expect(api.call("GET", REMAINS_PATH, params=REMAINS_GROUPING), dict, "the report task", "Wildberries")
        task = expect(created.get("data"), dict, "data", "Wildberries").get("taskId")
        task_id = expect(task, str, "data.taskId", "Wildberries")
        deadline, pause = time.monotonic() + self.report_wait_seconds, 0.5
        while True:
            answer = expect(
                api.call("GET", f"{REMAINS_PATH}/tasks/{task_id}/status"), dict, "the status", "Wildberries"
            )
            status = expect(answer.get("data"), dict, "data", "Wildberries").get("status")
            if status == "done":
                break
            if status not in {"new", "processing"}:
                raise ApiPayloadError(
                    f"Wildberries: the warehouse-remains report {task_id} ended {status!r}; the next sync asks again"
                )
            if time.monotonic() + pause > deadline:
                raise ApiUnavailableError(
                    f"Wildberries: the warehouse-remains report {task_id} was not ready after "
                    f"{self.report_wait_seconds:.0f} s (WB_REPORT_WAIT_SECONDS)"
                )
            time.sleep(pause)
            pause = min(REMAINS_POLL_MAX_SECONDS, pause * 2)
        # Every size in one document: kept on disk, parsed by the reader a batch at a time
        # (pages.json_array_batches), never held whole.
        report = tempfile.TemporaryFile()  # noqa: SIM115 (the caller closes it with the page)
        api.call("GET", f"{REMAINS_PATH}/tasks/{task_id}/download", into=report)
        if not report.read(64).lstrip().startswith(b"["):
            report.close()
            raise ApiPayloadError("Wildberries: expected the warehouse-remains report to be a JSON array")
        report.seek(0)
        return RawPage("wb_remains", b"", None, report)

    def seller_warehouses(self) -> RawPage:
        payload, raw = self._host("marketplace").call("GET", "/api/v3/warehouses", with_body=True)
        expect(payload, list, "the warehouse list", "Wildberries")
        return RawPage("seller_warehouses", raw, payload)

    def seller_stock_pages(self, warehouse_id: int, chrt_ids: Sequence[int]) -> Iterator[tuple[list[int], RawPage]]:
        """Stock on one of the seller's own warehouses (FBS), read by size id (chrtId): each answer
        with the sizes it was asked for."""
        for start in range(0, len(chrt_ids), STOCKS_BATCH):
            body = {"chrtIds": [int(c) for c in chrt_ids[start : start + STOCKS_BATCH]]}
            # A POST that only reads, so retrying it is safe.
            payload, raw = self._host("marketplace").call(
                "POST", f"/api/v3/stocks/{warehouse_id}", body=body, with_body=True
            )
            expect(
                expect(payload, dict, "the stocks answer", "Wildberries").get("stocks"), list, "stocks", "Wildberries"
            )
            yield body["chrtIds"], RawPage(f"seller_stocks:{warehouse_id}", raw, payload)

    def new_orders(self) -> list[dict]:
        """Every FBS assembly order not yet taken into a supply (``/api/v3/orders/new``)."""
        payload = self._host("marketplace").call("GET", "/api/v3/orders/new")
        return expect(
            expect(payload, dict, "the orders answer", "Wildberries").get("orders"), list, "orders", "Wildberries"
        )

    def order_statuses(self, order_ids: Sequence[int]) -> list[dict]:
        """Each FBS order's status (``/api/v3/orders/status``, 1,000 ids a call): a buyer's
        cancellation is ``supplierStatus`` ``cancel``."""
        out: list[dict] = []
        for start in range(0, len(order_ids), STOCKS_BATCH):
            body = {"orders": [int(i) for i in order_ids[start : start + STOCKS_BATCH]]}
            payload = self._host("marketplace").call("POST", "/api/v3/orders/status", body=body)
            answer = expect(payload, dict, "the order statuses", "Wildberries").get("orders")
            out += expect(answer, list, "orders", "Wildberries")
        return out

    def statistics_day(self, kind: str, day: str) -> list[dict]:
        """Every ``orders`` or ``sales`` row WB dates on ``day`` (a Moscow date): ``flag=1``."""
        rows = self._host("statistics").call("GET", f"/api/v1/supplier/{kind}", params={"dateFrom": day, "flag": 1})
        return expect(rows if rows is not None else [], list, f"the {kind} answer", "Wildberries")

    def check_credentials(self) -> str:
        self._host("content").call("GET", "/ping", retry=False)
        return f"Wildberries account '{self.account}': token accepted"
