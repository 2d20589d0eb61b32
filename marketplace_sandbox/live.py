"""The live mode: buyers and sellers acting in real time, as the real marketplaces do between syncs.

Buyers place FBS orders continuously: an Ozon posting reserves its unit until it ships (then present
and reserved both fall) or is cancelled (the unit is free again); a Wildberries order takes the unit
off the seller warehouse at once and is served by ``/api/v3/orders/new`` until it goes into a supply
or the buyer cancels it (the unit is back; ``/api/v3/orders/status`` says ``cancel``).
Sellers edit stock on Ozon. Ozon pushes every change to ``push_url`` with its retry rules.

Each truth change of a SKU whose Wix quantity then differs from what Wix should show opens an
episode, closed when Wix shows it: the episodes' lengths are the lag from a change to Wix, and the
time Wix showed more than the truth is oversold SKU-seconds (``GET /_sandbox/live``).
"""

from __future__ import annotations

import heapq
import itertools
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

import requests

from marketplace_sandbox.world import OZON_ACCOUNTS, OZON_FBS_WAREHOUSES, WB_SELLER_WAREHOUSES, World

TICK_SECONDS = 0.2
# Ozon's delivery retries: growing intervals up to ten minutes, then five more ten minutes apart.
PUSH_RETRY_SECONDS = (10, 30, 60, 120, 300, 600, 600, 600, 600, 600, 600)
PUSH_TIMEOUT_SECONDS = 5.0


def _stamp(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class Posting:
    number: str
    account: str
    offer_id: str
    warehouse_id: int
    created: float
    ship_at: float
    cancel: bool


@dataclass
class Delivery:
    due: float
    attempt: int
    body: dict = field(compare=False)

    def __lt__(self, other: Delivery) -> bool:
        return self.due < other.due


class Live:
    """Real-time buyers and sellers over one ``World``; started and configured by ``/_sandbox/live``."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.orders_per_minute = 20.0  # per account and marketplace
        self.edits_per_minute = 4.0  # Ozon seller stock edits per account
        self.cancel_share = 0.1
        self.ship_after_seconds = 300.0  # an order leaves "new" (WB) and ships (Ozon) this long after it is placed
        self.cancel_after_seconds = 60.0  # a cancelled posting is cancelled this long after it is placed
        self.push_url = ""
        self.push_retry_seconds: tuple[float, ...] = PUSH_RETRY_SECONDS
        self.site = "site-v1"
        self.running = False
        self._rng = random.Random(f"{world.seed}-live")
        self._thread: threading.Thread | None = None
        self._deliverer: threading.Thread | None = None
        self._baseline: set[str] | None = None
        self._stop = threading.Event()
        self._seq = itertools.count(1)
        self._next: dict[tuple[str, str, str], float] = {}
        self.postings: dict[str, Posting] = {}
        self._wb_orders: dict[str, dict[int, dict]] = {}
        self._wb_status: dict[str, dict[int, tuple[str, str]]] = {}  # order id -> (supplierStatus, wbStatus)
        self._deliveries: list[Delivery] = []
        self._delivery_lock = threading.Lock()
        self._wakeup = threading.Event()
        self.pushes: Counter[str] = Counter()
        self.push_seconds: list[float] = []
        self.changes = 0
        self.pending: dict[str, float] = {}  # SKU -> since when Wix has differed from the truth
        self.oversold: dict[str, float] = {}  # SKU -> since when Wix has shown more than the truth
        self.lags: list[float] = []
        self.oversold_seconds = 0.0
        self.started_at = 0.0

    # -- control ---------------------------------------------------------------------------
    def configure(self, body: dict) -> None:
        for name in (
            "orders_per_minute",
            "edits_per_minute",
            "cancel_share",
            "ship_after_seconds",
            "cancel_after_seconds",
        ):
            if name in body:
                setattr(self, name, float(body[name]))
        if "push_url" in body:
            self.push_url = str(body["push_url"] or "")
        if "push_retry_seconds" in body:
            self.push_retry_seconds = tuple(float(s) for s in body["push_retry_seconds"])
        if "site" in body:
            self.site = str(body["site"])
        if body.get("running") is True and not self.running:
            self.start()
        elif body.get("running") is False and self.running:
            self.stop()

    def start(self) -> None:
        self.running, self.started_at = True, time.time()
        if self._baseline is None:  # what Wix showed wrong before any buyer came is not the pipeline's doing
            self._baseline = self._wrong()
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="sandbox-live", daemon=True)
        self._thread.start()
        if self._deliverer is None:  # Ozon keeps delivering (and retrying) what it owes after buyers stop
            self._deliverer = threading.Thread(target=self._deliver_loop, name="sandbox-live-push", daemon=True)
            self._deliverer.start()

    def stop(self) -> None:
        self.running = False
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)

    def report(self) -> dict:
        with self.world.lock:
            now = time.time()
            self._settle(now)
            open_lags = [now - since for since in self.pending.values()]
            oversold = self.oversold_seconds + sum(now - since for since in self.oversold.values())
            return {
                "running": self.running,
                "seconds": round(now - self.started_at, 1) if self.started_at else 0,
                "changes": self.changes,
                "lags": [round(v, 2) for v in self.lags],
                "open": [round(v, 2) for v in open_lags],
                "open_skus": sorted(self.pending)[:100],
                "oversold_sku_seconds": round(oversold, 1),
                # Wix moved away from a truth that did not change (a push writing an older figure).
                "wrong_without_a_change": sorted(self._wrong() - set(self.pending) - (self._baseline or set()))[:100],
                "pushes": dict(self.pushes),
                "push_seconds": [round(v, 3) for v in self.push_seconds[-1000:]],
                "ozon_unfulfilled": sum(1 for p in self.postings.values() if p.ship_at > now),
                "wb_new_orders": sum(len(o) for o in self._wb_orders.values()),
            }

    # -- what the APIs serve -----------------------------------------------------------------
    def wb_new_orders(self, account: str) -> list[dict]:
        return list(self._wb_orders.get(account, {}).values())

    def unfulfilled(self, account: str) -> list[Posting]:
        now = time.time()
        return [p for p in self.postings.values() if p.account == account and p.ship_at > now]

    def wb_statuses(self, account: str, ids: list[int]) -> list[dict]:
        """``/api/v3/orders/status``: each known order's seller-side and WB-side status."""
        known = self._wb_status.get(account, {})
        return [{"id": i, "supplierStatus": known[i][0], "wbStatus": known[i][1]} for i in ids if i in known]

    # -- the clock -------------------------------------------------------------------------
    def _loop(self) -> None:
        while not self._stop.wait(TICK_SECONDS):
            with self.world.lock:
                self.step(time.time())

    def step(self, now: float) -> None:
        """Everything due by ``now``: orders, edits, shipments and cancellations, then the episodes
        Wix has caught up with."""
        for account in self.world.ozon:
            for channel, kind, rate in (
                ("ozon", "order", self.orders_per_minute),
                ("wb", "order", self.orders_per_minute),
                ("ozon", "edit", self.edits_per_minute),
            ):
                if rate <= 0 or (channel == "wb" and account not in self.world.wb):
                    continue
                key = (account, channel, kind)
                due = self._next.setdefault(key, now + self._rng.expovariate(rate / 60))
                while due <= now:
                    getattr(self, f"_{channel}_{kind}")(account, due)
                    due += self._rng.expovariate(rate / 60)
                self._next[key] = due
        for posting in list(self.postings.values()):
            if posting.cancel and now >= posting.created + self.cancel_after_seconds:
                self._ozon_cancel(posting, now)
            elif now >= posting.ship_at:
                self._ozon_ship(posting)
        for account, orders in self._wb_orders.items():
            for order_id, order in list(orders.items()):
                if order["_cancel"] and now >= order["_placed"] + self.cancel_after_seconds:
                    self._wb_cancel(account, order, now)
                elif order["_ship_at"] <= now:
                    del orders[order_id]  # into a supply: no longer new
                    self._wb_status[account][order_id] = ("confirm", "waiting")
        self._settle(now)

    # -- buyers and sellers ----------------------------------------------------------------
    def _unreadable_skus(self) -> set[str]:
        """SKUs with an unreadable row anywhere (any account, marketplace or stock type): the ledger
        rightly keeps such a row's last value, so Wix cannot be judged against the truth for them.
        Buyers and sellers of the live mode leave them alone."""
        w = self.world
        skus = {offer for _, offer, _ in w.unreadable_ozon} | set(w.malformed_ozon_offers)
        for account, chrt in w.unreadable_wb:
            item = w.wb_by_chrt.get(account, {}).get(chrt)
            skus |= {item.sku} if item else set()
        for items in w.wb_by_chrt.values():
            skus |= {items[c].sku for c in w.malformed_wb_amounts if c in items}
        return skus

    def _readable_ozon(self, account: str):
        unreadable = self._unreadable_skus()
        return [it for it in self.world.ozon[account] if it.has_rows and it.offer_id not in unreadable]

    def _ozon_order(self, account: str, at: float) -> None:
        items = [it for it in self._readable_ozon(account) if it.fbs[0] - it.fbs[1] > 0]
        if not items:
            return
        item = self._rng.choice(items)
        item.fbs[1] += 1
        number = f"{next(self._seq):08d}-0001-1"
        posting = Posting(
            number,
            account,
            item.offer_id,
            OZON_FBS_WAREHOUSES[item.fbs_wh][0],
            at,
            at + self.ship_after_seconds,
            self._rng.random() < self.cancel_share,
        )
        self.postings[number] = posting
        self._push(account, self._posting_message("TYPE_NEW_POSTING", posting, item.sku, at))
        self._changed(item.offer_id, at)

    def _ozon_cancel(self, posting: Posting, now: float) -> None:
        item = self.world.ozon_by_offer[posting.account].get(posting.offer_id)
        del self.postings[posting.number]
        if item is None:
            return
        item.fbs[1] = max(0, item.fbs[1] - 1)
        message = self._posting_message("TYPE_POSTING_CANCELLED", posting, item.sku, now)
        message |= {"old_state": "awaiting_packaging", "new_state": "cancelled", "reason": {"id": 352, "message": ""}}
        self._push(posting.account, message)
        self._changed(posting.offer_id, now)

    def _ozon_ship(self, posting: Posting) -> None:
        item = self.world.ozon_by_offer[posting.account].get(posting.offer_id)
        del self.postings[posting.number]
        if item is None:
            return
        item.fbs[0], item.fbs[1] = max(0, item.fbs[0] - 1), max(0, item.fbs[1] - 1)  # available stays as it was
        self._push(
            posting.account,
            {
                "message_type": "TYPE_STATE_CHANGED",
                "posting_number": posting.number,
                "new_state": "delivering",
                "changed_state_date": _stamp(posting.ship_at),
                "warehouse_id": posting.warehouse_id,
                "seller_id": int(OZON_ACCOUNTS[posting.account]["client_id"]),
            },
        )

    def _ozon_edit(self, account: str, at: float) -> None:
        items = self._readable_ozon(account)
        if not items:
            return
        item = self._rng.choice(items)
        item.fbs[0] = max(item.fbs[1], item.fbs[0] + self._rng.choice((-3, -2, -1, 1, 2, 5, 10)))
        self._push(
            account,
            {
                "message_type": "TYPE_STOCKS_CHANGED",
                "seller_id": int(OZON_ACCOUNTS[account]["client_id"]),
                "items": [
                    {
                        "product_id": item.product_id,
                        "sku": item.sku,
                        "updated_at": _stamp(at),
                        "stocks": [
                            {
                                "warehouse_id": OZON_FBS_WAREHOUSES[item.fbs_wh][0],
                                "present": item.fbs[0],
                                "reserved": item.fbs[1],
                            }
                        ],
                    }
                ],
            },
        )
        self._changed(item.offer_id, at)

    def _wb_order(self, account: str, at: float) -> None:
        unreadable = self._unreadable_skus()
        items = [it for it in self.world.wb[account] if it.seller_amount > 0 and it.sku not in unreadable]
        if not items:
            return
        item = self._rng.choice(items)
        item.seller_amount -= 1
        order_id = 5_000_000_000 + next(self._seq)
        self._wb_orders.setdefault(account, {})[order_id] = {
            "id": order_id,
            "rid": f"live-{order_id}",
            "createdAt": _stamp(at).replace(".000000", ""),
            "warehouseId": WB_SELLER_WAREHOUSES[item.seller_wh][0],
            "nmId": item.nm_id,
            "chrtId": item.chrt_id,
            "article": item.vendor_code,
            "skus": list(item.barcodes),
            "price": item.price * 100,
            "_ship_at": at + self.ship_after_seconds,
            "_placed": at,
            "_cancel": self._rng.random() < self.cancel_share,
        }
        self._wb_status.setdefault(account, {})[order_id] = ("new", "waiting")
        self._changed(item.sku, at)

    def _wb_cancel(self, account: str, order: dict, now: float) -> None:
        """The buyer cancelled before assembly: the unit is back on the seller's warehouse."""
        del self._wb_orders[account][order["id"]]
        self._wb_status[account][order["id"]] = ("cancel", "canceled_by_client")
        item = self.world.wb_by_chrt[account].get(order["chrtId"])
        if item is not None:
            item.seller_amount += 1
            self._changed(item.sku, now)

    def _posting_message(self, kind: str, posting: Posting, ozon_sku: int, at: float) -> dict:
        return {
            "message_type": kind,
            "seller_id": int(OZON_ACCOUNTS[posting.account]["client_id"]),
            "posting_number": posting.number,
            "products": [{"sku": ozon_sku, "offer_id": posting.offer_id, "quantity": 1}],
            "in_process_at": _stamp(at),
            "warehouse_id": posting.warehouse_id,
        }

    # -- what Wix should show, and the episodes ---------------------------------------------
    def expected(self, sku: str) -> int:
        """What Wix should show for a SKU under the pipeline's default rules: available units on the
        seller's own warehouses (Ozon FBS and rFBS, WB FBS), over every account."""
        total = 0
        for by_offer in self.world.ozon_by_offer.values():
            it = by_offer.get(sku)
            if it is not None and it.has_rows:
                total += max(0, it.fbs[0] - it.fbs[1])
                if it.rfbs_wh is not None:
                    total += max(0, it.rfbs[0] - it.rfbs[1])
        for account in self.world.wb:
            total += sum(max(0, it.seller_amount) for it in self._wb_sizes(account).get(sku, ()))
        return total

    def _wb_sizes(self, account: str) -> dict:
        index = getattr(self, "_wb_index", {})
        if account not in index:
            by_sku: dict[str, list] = {}
            for it in self.world.wb[account]:
                by_sku.setdefault(it.sku, []).append(it)
            index[account] = by_sku
            self._wb_index = index
        return index[account]

    def shown(self, sku: str) -> int | None:
        """What Wix shows for a SKU, or None when no one variant has it."""
        index = getattr(self, "_wix_index", None)
        if index is None or index[0] != self.site:
            by_sku: dict[str, list] = {}
            for product in self.world.wix[self.site]:
                for variant in product.variants:
                    by_sku.setdefault(variant.sku, []).append(variant)
            index = self._wix_index = (self.site, by_sku)
        variants = index[1].get(sku, [])
        return variants[0].quantity if len(variants) == 1 else None

    def _wrong(self) -> set[str]:
        """The SKUs one Wix variant holds at a figure other than the truth's."""
        self.shown("")  # builds the index of the site's variants
        return {
            sku for sku in self._wix_index[1] if (shown := self.shown(sku)) is not None and shown != self.expected(sku)
        }

    def _changed(self, sku: str, at: float) -> None:
        self.changes += 1
        shown = self.shown(sku)
        if shown is None:
            return
        if shown != self.expected(sku):
            self.pending.setdefault(sku, at)
        if shown > self.expected(sku):
            self.oversold.setdefault(sku, at)

    def _settle(self, now: float) -> None:
        for sku in list(self.pending):
            shown = self.shown(sku)
            expected = self.expected(sku)
            if shown is not None and shown > expected:
                self.oversold.setdefault(sku, now)
            elif sku in self.oversold:
                self.oversold_seconds += now - self.oversold.pop(sku)
            if shown is None or shown == expected:
                self.lags.append(now - self.pending.pop(sku))

    # -- Ozon's push deliveries ------------------------------------------------------------
    def _push(self, account: str, message: dict) -> None:
        if not self.push_url:
            return
        with self._delivery_lock:
            heapq.heappush(self._deliveries, Delivery(time.time(), 0, message))
        self._wakeup.set()

    def _deliver_loop(self) -> None:
        session = requests.Session()
        while True:
            with self._delivery_lock:
                due = self._deliveries[0].due if self._deliveries else None
                delivery = heapq.heappop(self._deliveries) if due is not None and due <= time.time() else None
            if delivery is None:
                self._wakeup.wait(0.5 if due is None else max(0.0, min(0.5, due - time.time())))
                self._wakeup.clear()
                continue
            started = time.monotonic()
            try:
                answer = session.post(self.push_url, json=delivery.body, timeout=PUSH_TIMEOUT_SECONDS)
                ok = answer.status_code == 200 and answer.json().get("result") is True
            except (requests.RequestException, ValueError):
                ok = False
            self.push_seconds.append(time.monotonic() - started)
            if ok:
                self.pushes["delivered"] += 1
                continue
            self.pushes["failed"] += 1
            if delivery.attempt >= len(self.push_retry_seconds):
                self.pushes["dropped"] += 1
                continue
            delay = self.push_retry_seconds[delivery.attempt]
            with self._delivery_lock:
                heapq.heappush(self._deliveries, Delivery(time.time() + delay, delivery.attempt + 1, delivery.body))
