"""The sandbox's world: a seller's catalogue on every channel, its stock, and its sales.

Everything is derived from one seed so that a failing test can be replayed. Stock lives
in small ``__slots__`` objects so that a million-SKU world fits comfortably in memory.

The world is as varied as real catalogues, by default: a fifth of the articles are sold in sizes
(a WB card with several sizes, an Ozon offer per size, a Wix product with a size variant each),
some SKUs differ from another only by case, a trailing space or Ё/Е, and a few stock rows are
unreadable at any time (a different few after every ``advance``); the truth says which.
"""

from __future__ import annotations

import random
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

MOSCOW = timedelta(hours=3)

# Seller accounts (legal entities). The credentials are sandbox-only and published by
# ``GET /_sandbox/accounts``; they are not secrets of any real service.
OZON_ACCOUNTS = {
    "main": {"client_id": "1001", "api_key": "sandbox-ozon-key-main"},
    "second": {"client_id": "1002", "api_key": "sandbox-ozon-key-second"},
}
WB_ACCOUNTS = {
    "main": {"token": "sandbox-wb-token-main"},
    "second": {"token": "sandbox-wb-token-second"},
}
WIX_API_KEY = "sandbox-wix-api-key"
WIX_SITES = {"site-v1": "V1_CATALOG", "site-v3": "V3_CATALOG"}
HAIER_CLIENT = {
    "client_id": "sandbox-haier-client",
    "client_secret": "sandbox-haier-secret",
    "customer_code": "8800000001",
    "send_to_code": "8800000001",
    "supplier_code": "1001",
    "password": "sandbox-haier-password",
}
# Share of the catalogue each account lists on a marketplace.
ACCOUNT_SHARE = {"main": 0.85, "second": 0.3}

OZON_FBO_WAREHOUSES = [
    (1020000000001, "ХОРУГВИНО_РФЦ"),
    (1020000000002, "ТВЕРЬ_РФЦ"),
    (1020000000003, "КАЗАНЬ_РФЦ"),
    (1020000000004, "ЕКАТЕРИНБУРГ_РФЦ_НОВЫЙ"),
]
OZON_FBS_WAREHOUSES = [(22142605386000, "Склад Москва (FBS)"), (22142605387000, "Склад Казань (FBS)")]
OZON_RFBS_WAREHOUSES = [(22142605388000, "Склад Москва (rFBS)")]
WB_WAREHOUSES = [
    (507, "Коледино", "Центральный"),
    (117501, "Подольск", "Центральный"),
    (117986, "Казань", "Приволжский"),
    (120762, "Электросталь", "Центральный"),
]
WB_SELLER_WAREHOUSES = [(1, "Склад Москва", 15), (2, "Склад Казань", 16)]
HAIER_COUNTIES = ["110101", "310101", "440103"]
HAIER_BRANDS = ["海尔", "卡萨帝", "统帅"]
HAIER_GROUPS = ["冰箱", "洗衣机", "空调", "热水器", "厨电"]
CATEGORIES = [
    ("Бытовая техника", "Холодильники"),
    ("Бытовая техника", "Стиральные машины"),
    ("Климатическая техника", "Кондиционеры"),
    ("Бытовая техника", "Водонагреватели"),
]


# Articles sold in sizes: a fifth of the catalogue, each with one of these runs of sizes.
SIZE_RUNS = [("S", "M", "L"), ("S", "M", "L", "XL"), ("M", "L"), ("44", "46", "48", "50")]
SIZED_SHARE = 0.2
ONE_SIZE = ("0",)  # WB's techSize of a product without sizes
CARD_EDIT_SHARE = 0.02  # WB cards edited per advance (names, photos, sizes: a newer updatedAt)
UNREADABLE_SHARE = 0.006  # stock rows served with an unreadable figure at any time


def article(i: int) -> str:
    """The seller's article for catalogue index ``i`` (the same on every channel). A few differ from a
    neighbour's only by case, a trailing space or Ё/Е: real catalogues have them, and each is its own
    product."""
    twin = i % 50
    if twin == 11:
        return f"hr-{i - 1:06d}"
    if twin == 12:
        return f"HR-{i - 2:06d} "
    if twin == 13:
        return f"Ёлка-{i:06d}"
    if twin == 14:
        return f"Елка-{i - 1:06d}"
    if twin == 15:
        return f"ёлка-{i - 2:06d}"
    return f"HR-{i:06d}"


def seller_sku(article_text: str, size: str) -> str:
    """The seller's SKU of one size, on every channel: the article for a product without sizes,
    article-size otherwise (the pipeline's default WB_SKU_RULE, article_size)."""
    return article_text if size == "0" else f"{article_text}-{size}"


class OzonItem:
    __slots__ = ("offer_id", "product_id", "sku", "fbo", "fbs_wh", "fbs", "rfbs_wh", "rfbs", "has_rows", "price")

    def __init__(self, offer_id: str, product_id: int, sku: int, price: int) -> None:
        self.offer_id = offer_id
        self.product_id = product_id
        self.sku = sku
        self.price = price
        self.fbo: list[list[int]] = []  # [warehouse_index, present, reserved]
        self.fbs_wh = 0
        self.fbs = [0, 0]
        self.rfbs_wh: int | None = None
        self.rfbs = [0, 0]
        self.has_rows = True


class WbItem:
    """One size of a WB card: its own size id (chrtID), techSize, barcodes and stock."""

    __slots__ = (
        "vendor_code",
        "sku",
        "nm_id",
        "chrt_id",
        "tech_size",
        "barcodes",
        "wb",
        "seller_wh",
        "seller_amount",
        "updated_at",
        "price",
        "category",
        "subject",
    )

    def __init__(
        self,
        vendor_code: str,
        nm_id: int,
        chrt_id: int,
        tech_size: str,
        barcodes: list[str],
        price: int,
        category: str,
        subject: str,
        updated_at: str,
    ) -> None:
        self.vendor_code = vendor_code
        self.sku = seller_sku(vendor_code, tech_size)
        self.nm_id = nm_id
        self.chrt_id = chrt_id
        self.tech_size = tech_size
        self.barcodes = barcodes
        self.price = price
        self.category = category
        self.subject = subject
        self.updated_at = updated_at
        self.wb: list[list[int]] = []  # [warehouse_index, quantity, inWayToClient, inWayFromClient]
        self.seller_wh = 0
        self.seller_amount = 0


@dataclass
class WixVariant:
    id: str
    sku: str
    choices: dict[str, str]
    price: int
    quantity: int
    inventory_item_id_v3: str
    revision: int = 1
    refuses_writes: bool = False  # a V3 item whose every write fails inside a 200 (PUT /_sandbox/config)


@dataclass
class WixProduct:
    id: str
    numeric_id: int
    name: str
    sku: str
    inventory_item_id: str
    manage_variants: bool
    variants: list[WixVariant]
    last_updated: str


@dataclass
class HaierProduct:
    code: str
    model: str
    group: str
    brand: str
    supply_price: float
    stock_rebate: float
    rebate_money: float
    is_sales: str
    no_sales_reason: str
    image_count: int
    stock: dict[str, int]
    sec_code: str


@dataclass
class Sale:
    """One unit ordered by a buyer (WB row) or one posting line (Ozon)."""

    channel: str
    account: str
    scheme: str  # fbo/fbs for Ozon, fbw/fbs for WB
    sku: str
    at: datetime  # UTC
    quantity: int
    price: int
    order_id: str
    status: str = "delivered"
    cancelled: bool = False
    returned: bool = False
    last_change: datetime = field(default_factory=lambda: datetime.now(UTC))


class World:
    """The whole mutable state behind every API. Guarded by one lock; handlers are short."""

    def __init__(self, skus: int = 200, seed: int = 1, now: datetime | None = None, wix_in_sync: bool = False) -> None:
        self.skus = skus
        self.seed = seed
        self.lock = threading.RLock()
        self.now = (now or datetime.now(UTC)).replace(minute=0, second=0, microsecond=0)
        self.rng = random.Random(seed)
        self.ozon: dict[str, list[OzonItem]] = {}
        self.ozon_by_offer: dict[str, dict[str, OzonItem]] = {}
        self.wb: dict[str, list[WbItem]] = {}
        self.wb_by_chrt: dict[str, dict[int, WbItem]] = {}
        self.wix: dict[str, list[WixProduct]] = {}
        self.haier: list[HaierProduct] = []
        self.sales: list[Sale] = []
        self.ozon_stock_updates: dict[tuple[str, str, int], datetime] = {}
        self.malformed_haier_codes: set[str] = set()
        self.malformed_ozon_offers: set[str] = set()
        self.malformed_wb_amounts: set[int] = set()  # chrtIds whose seller-warehouse amount is unreadable
        self.unreadable = True  # the odd unreadable row, as real feeds have (PUT /_sandbox/config)
        self.unreadable_ozon: set[tuple[str, str, str]] = set()  # (account, offer_id, stock type)
        self.unreadable_wb: set[tuple[str, int]] = set()  # (account, chrtId) of a seller-warehouse amount
        self._order_seq = 0
        self.advances = 0  # seeds what each advance does, so a replay does not depend on the wall clock
        self.card_edits = 0  # how many times WB cards were edited (the listing's order changes)
        self._last_card_edit = ""
        self.sizes = self._size_runs()
        self._build()
        self.pick_unreadable()
        if wix_in_sync:
            self._sync_wix(random.Random(f"{seed}-wix-in-sync"))

    # -- construction -------------------------------------------------------------------
    def _size_runs(self) -> list[tuple[str, ...]]:
        rng = random.Random(f"{self.seed}-sizes")
        return [rng.choice(SIZE_RUNS) if rng.random() < SIZED_SHARE else ONE_SIZE for _ in range(self.skus)]

    def _build(self) -> None:
        rng = self.rng
        for account, share in ACCOUNT_SHARE.items():
            self.ozon[account] = []
            self.wb[account] = []
            for i in range(self.skus):
                price = rng.randrange(9_990, 199_990, 10)
                if rng.random() < share:
                    self.ozon[account].extend(
                        self._new_ozon_item(rng, account, i, n, size, price) for n, size in enumerate(self.sizes[i])
                    )
                if rng.random() < share * 0.95:
                    self.wb[account].extend(self._new_wb_card(rng, account, i, price))
            self.ozon_by_offer[account] = {it.offer_id: it for it in self.ozon[account]}
            self.wb_by_chrt[account] = {it.chrt_id: it for it in self.wb[account]}
        listed = [i for i in range(self.skus) if rng.random() < 0.7]
        for site in WIX_SITES:
            self.wix[site] = self._new_wix_catalogue(random.Random(f"{self.seed}-{site}"), listed)
        self.haier = self._new_haier_catalogue(rng)
        self._seed_sales_history(days=14)

    def edit_cards(self, account: str, nm_ids: set[int]) -> int:
        """The seller edits (or WB creates) these cards now: each gets a newer ``updatedAt`` than any
        card before it, so a listing from the newest card it knew finds them. Returns how many."""
        with self.lock:
            edited = 0
            for it in self.wb[account]:
                if it.nm_id in nm_ids:
                    it.updated_at = self._card_stamp(it.nm_id)
                    edited += 1
            self.card_edits += 1
            return edited

    def _card_stamp(self, nm_id: int) -> str:
        # Microseconds apart, as WB's own stamps are: two edits in one hour are never one instant.
        stamp = self.now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        if stamp <= self._last_card_edit:
            last = datetime.strptime(self._last_card_edit, "%Y-%m-%dT%H:%M:%S.%fZ")
            stamp = (last + timedelta(microseconds=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        self._last_card_edit = stamp
        return stamp

    def pick_unreadable(self) -> None:
        """A few stock rows the APIs serve with an unreadable figure until the next ``advance``."""
        rng = random.Random(f"{self.seed}-unreadable-{self.advances}")
        self.unreadable_ozon, self.unreadable_wb = set(), set()
        if not self.unreadable:
            return

        def few(items: list) -> list:
            # At least one per account and marketplace, so that every end-to-end test meets the shape.
            picked = [it for it in items if rng.random() < UNREADABLE_SHARE]
            return picked or ([rng.choice(items)] if items else [])

        for account in ACCOUNT_SHARE:
            for it in few([it for it in self.ozon[account] if it.has_rows]):
                self.unreadable_ozon.add((account, it.offer_id, rng.choice(["fbs", "fbo"] if it.fbo else ["fbs"])))
            self.unreadable_wb.update((account, it.chrt_id) for it in few(self.wb[account]))

    def _sync_wix(self, rng: random.Random) -> None:
        """A store a previous pipeline kept in step: each variant shows the seller's own available
        stock (Ozon FBS/rFBS, WB seller warehouses, every account), one in twenty a little off."""
        own: dict[str, int] = {}
        for items in self.ozon.values():
            for it in items:
                available = it.fbs[0] - it.fbs[1] + (it.rfbs[0] - it.rfbs[1] if it.rfbs_wh is not None else 0)
                own[it.offer_id] = own.get(it.offer_id, 0) + available
        for items in self.wb.values():
            for it in items:
                own[it.sku] = own.get(it.sku, 0) + it.seller_amount
        for products in self.wix.values():
            for product in products:
                for variant in product.variants:
                    drift = rng.randint(-2, 2) if rng.random() < 0.05 else 0
                    variant.quantity = max(0, own.get(variant.sku, 0) + drift)

    def _new_ozon_item(self, rng: random.Random, account: str, i: int, n: int, size: str, price: int) -> OzonItem:
        """One Ozon offer: an article without sizes, or one size of a sized article."""
        offset = 0 if account == "main" else 50_000_000
        index = offset + i * 8 + n
        item = OzonItem(seller_sku(article(i), size), 300_000_000 + index, 1_500_000_000 + index, price)
        if rng.random() < 0.02:
            item.has_rows = False  # a listed product Ozon reports no stock rows for
            return item
        for wh in rng.sample(range(len(OZON_FBO_WAREHOUSES)), rng.randint(1, 3)):
            present = rng.choice([0, rng.randint(1, 60), rng.randint(1, 400)])
            item.fbo.append([wh, present, min(present, rng.randint(0, 5))])
        item.fbs_wh = rng.randrange(len(OZON_FBS_WAREHOUSES))
        present = rng.choice([0, rng.randint(1, 30), rng.randint(1, 120)])
        reserved = min(present, rng.randint(0, 3))
        if rng.random() < 0.005:
            reserved = present + rng.randint(1, 3)  # real feeds occasionally report more reserved than present
        item.fbs = [present, reserved]
        if rng.random() < 0.1:
            item.rfbs_wh = rng.randrange(len(OZON_RFBS_WAREHOUSES))
            p = rng.randint(0, 20)
            item.rfbs = [p, min(p, rng.randint(0, 2))]
        return item

    def _new_wb_card(self, rng: random.Random, account: str, i: int, price: int) -> list[WbItem]:
        """One WB card: its sizes, each with its own size id, barcodes and stock."""
        offset = 0 if account == "main" else 40_000_000
        category, subject = CATEGORIES[i % len(CATEGORIES)]
        updated = self.now - timedelta(days=rng.randint(1, 400), seconds=rng.randint(0, 86_399))
        sizes = []
        for n, tech_size in enumerate(self.sizes[i]):
            index = offset + i * 8 + n
            barcodes = [f"20{index:011d}"] + ([f"46{index:011d}"] if rng.random() < 0.1 else [])
            item = WbItem(
                article(i),
                150_000_000 + offset + i,
                400_000_000 + index,
                tech_size,
                barcodes,
                price,
                category,
                subject,
                updated.strftime("%Y-%m-%dT%H:%M:%S.000000Z"),
            )
            for wh in rng.sample(range(len(WB_WAREHOUSES)), rng.randint(1, 3)):
                quantity = rng.choice([0, rng.randint(1, 50), rng.randint(1, 300)])
                item.wb.append([wh, quantity, rng.randint(0, 3), rng.randint(0, 2)])
            item.seller_wh = rng.randrange(len(WB_SELLER_WAREHOUSES))
            item.seller_amount = rng.choice([0, rng.randint(1, 40)])
            sizes.append(item)
        return sizes

    def _new_wix_catalogue(self, rng: random.Random, listed: list[int]) -> list[WixProduct]:
        products: list[WixProduct] = []
        numeric = 1_598_904_314_932_000
        k = 0
        while k < len(listed):
            numeric += rng.randint(1, 5)
            pid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            inv = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            stamp = (self.now - timedelta(days=rng.randint(1, 90))).strftime("%Y-%m-%dT%H:%M:%S.000Z")
            sizes = self.sizes[listed[k]]
            if sizes != ONE_SIZE:
                i = listed[k]
                # A third of them offer on Wix one size more than the marketplaces sell: a variant whose
                # SKU matches nothing in the ledger, to be reported and left alone.
                sizes = (*sizes, "XXL") if rng.random() < 0.34 else sizes
                variants = [
                    WixVariant(
                        str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                        seller_sku(article(i), size),
                        {"Размер": size},
                        rng.randrange(9_990, 199_990, 10),
                        rng.randint(0, 20),
                        str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    )
                    for size in sizes
                ]
                products.append(
                    WixProduct(pid, numeric, f"Haier {article(i)} (размеры)", "", inv, True, variants, stamp)
                )
                k += 1
            elif rng.random() < 0.2 and k + 1 < len(listed) and self.sizes[listed[k + 1]] == ONE_SIZE:
                group = [listed[k], listed[k + 1]]
                colours = ["Белый", "Чёрный"]
                variants = [
                    WixVariant(
                        str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                        article(i),
                        {"Цвет": colours[n]},
                        rng.randrange(9_990, 199_990, 10),
                        rng.randint(0, 20),
                        str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    )
                    for n, i in enumerate(group)
                ]
                products.append(
                    WixProduct(pid, numeric, f"Haier {article(group[0])} (варианты)", "", inv, True, variants, stamp)
                )
                k += len(group)
            else:
                i = listed[k]
                variant = WixVariant(
                    "00000000-0000-0000-0000-000000000000",
                    article(i),
                    {},
                    rng.randrange(9_990, 199_990, 10),
                    rng.randint(0, 20),
                    str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                )
                products.append(
                    WixProduct(pid, numeric, f"Haier {article(i)}", article(i), inv, False, [variant], stamp)
                )
                k += 1
        for n in range(max(2, len(listed) // 50)):  # products the seller keeps only on Wix
            numeric += 1
            sku = f"WIX-ONLY-{n:04d}"
            variant = WixVariant(
                "00000000-0000-0000-0000-000000000000",
                sku,
                {},
                4_990,
                rng.randint(0, 5),
                str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            )
            products.append(
                WixProduct(
                    str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    numeric,
                    f"Аксессуар {n}",
                    sku,
                    str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    False,
                    [variant],
                    self.now.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                )
            )
        return products

    def _new_haier_catalogue(self, rng: random.Random) -> list[HaierProduct]:
        alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
        products: list[HaierProduct] = []
        codes: set[str] = set()
        for i in range(max(25, min(self.skus // 2, 5_000))):
            code = "GA0" + "".join(rng.choice(alphabet) for _ in range(6))
            while code in codes:
                code = "GA0" + "".join(rng.choice(alphabet) for _ in range(6))
            codes.add(code)
            group = HAIER_GROUPS[i % len(HAIER_GROUPS)]
            sellable = rng.random() > 0.1
            products.append(
                HaierProduct(
                    code=code,
                    model=f"{['BCD', 'EG', 'KFR', 'ES', 'CXW'][i % 5]}-{rng.randint(100, 999)}W{rng.choice('ABCDE')}",
                    group=group,
                    brand=rng.choice(HAIER_BRANDS),
                    supply_price=round(rng.uniform(800, 20_000), 2),
                    stock_rebate=rng.choice([0.0, 0.02, 0.05]),
                    rebate_money=rng.choice([0.0, 20.0, 50.0]),
                    is_sales="1" if sellable else "0",
                    no_sales_reason="" if sellable else "商品暂不可采",
                    image_count=rng.randint(1, 3),
                    stock={c: rng.choice([0, rng.randint(1, 200)]) for c in HAIER_COUNTIES},
                    sec_code=f"WA{rng.randint(10, 99)}",
                )
            )
        return products

    # -- sales and time -----------------------------------------------------------------
    def _seed_sales_history(self, days: int) -> None:
        rng = random.Random(f"{self.seed}-history")
        start = self.now - timedelta(days=days)
        for hour in range(days * 24):
            self._make_sales(rng, start + timedelta(hours=hour), touch_stock=False)

    def _make_sales(self, rng: random.Random, at: datetime, touch_stock: bool) -> None:
        for account in ACCOUNT_SHARE:
            ozon_items, wb_items = self.ozon[account], self.wb[account]
            for _ in range(rng.randint(0, min(30, max(1, len(ozon_items) // 60)))):
                if not ozon_items:
                    break
                item = rng.choice(ozon_items)
                scheme = "fbo" if item.fbo and rng.random() < 0.7 else "fbs"
                self._record_sale(rng, "ozon", account, scheme, item.offer_id, at, item.price)
                if touch_stock:
                    self._consume_ozon(item, scheme)
            for _ in range(rng.randint(0, min(30, max(1, len(wb_items) // 60)))):
                if not wb_items:
                    break
                item = rng.choice(wb_items)
                scheme = "fbw" if rng.random() < 0.7 else "fbs"
                self._record_sale(rng, "wb", account, scheme, item.sku, at, item.price)
                if touch_stock:
                    self._consume_wb(item, scheme)

    def _record_sale(
        self, rng: random.Random, channel: str, account: str, scheme: str, sku: str, hour: datetime, price: int
    ) -> None:
        self._order_seq += 1
        at = hour + timedelta(seconds=rng.randint(0, 3_599))
        sale = Sale(
            channel,
            account,
            scheme,
            sku,
            at,
            1,
            price,
            f"{self._order_seq:010d}",
            last_change=at + timedelta(minutes=rng.randint(1, 90)),
        )
        roll = rng.random()
        if roll < 0.05:
            sale.cancelled, sale.status = True, "cancelled"
        elif roll < 0.08:
            sale.returned = True
        self.sales.append(sale)

    @staticmethod
    def _consume_ozon(item: OzonItem, scheme: str) -> None:
        if scheme == "fbo":
            for entry in item.fbo:
                if entry[1] > 0:
                    entry[1] -= 1
                    entry[2] = min(entry[2], entry[1])
                    return
        elif item.fbs[0] > 0:
            item.fbs[0] -= 1

    @staticmethod
    def _consume_wb(item: WbItem, scheme: str) -> None:
        if scheme == "fbw":
            for entry in item.wb:
                if entry[1] > 0:
                    entry[1] -= 1
                    return
        elif item.seller_amount > 0:
            item.seller_amount -= 1

    def advance(self, hours: float) -> dict[str, int]:
        """Move the clock: buyers order, warehouses restock, Haier stock moves."""
        with self.lock:
            rng = random.Random(f"{self.seed}-advance-{self.advances}")
            before = len(self.sales)
            whole = max(1, int(hours))
            for h in range(whole):
                self._make_sales(rng, self.now + timedelta(hours=h), touch_stock=True)
            restocked = 0
            for account in ACCOUNT_SHARE:
                for item in self.ozon[account]:
                    if item.fbo and rng.random() < 0.03:
                        item.fbo[0][1] += rng.randint(5, 60)
                        restocked += 1
                    if rng.random() < 0.03:
                        item.fbs[0] += rng.randint(1, 20)
                        restocked += 1
                for item in self.wb[account]:
                    if item.wb and rng.random() < 0.03:
                        item.wb[0][1] += rng.randint(5, 60)
                        restocked += 1
            for product in self.haier:
                for county in product.stock:
                    if rng.random() < 0.1:
                        product.stock[county] = max(0, product.stock[county] + rng.randint(-5, 10))
            self.now += timedelta(hours=hours)
            # A few cards edited in the seller's cabinet every hour: the card listing's order moves.
            edits = random.Random(f"{self.seed}-card-edits-{self.advances}")
            for account in ACCOUNT_SHARE:
                cards = sorted({it.nm_id for it in self.wb[account]})
                self.edit_cards(account, {n for n in cards if edits.random() < CARD_EDIT_SHARE})
            self.advances += 1
            self.pick_unreadable()
            return {"sales": len(self.sales) - before, "restocked": restocked, "now": int(self.now.timestamp())}

    def collapse(self, channel: str, account: str, keep_share: float) -> int:
        """Delist most of an account's catalogue on one channel (a seller-side mistake)."""
        with self.lock:
            items = self.ozon[account] if channel == "ozon" else self.wb[account]
            keep = items[: int(len(items) * keep_share)]
            items[:] = keep
            if channel == "ozon":
                self.ozon_by_offer[account] = {it.offer_id: it for it in keep}
            else:
                self.wb_by_chrt[account] = {it.chrt_id: it for it in keep}
            return len(keep)

    # -- ground truth -------------------------------------------------------------------
    def truth(self, channel: str, account: str | None = None, site: str | None = None) -> list[dict]:
        """Every stock figure of a channel, as the channel itself would report it."""
        with self.lock:
            if channel == "ozon":
                return self._ozon_truth(account or "main")
            if channel == "wb":
                return self._wb_truth(account or "main")
            if channel == "wix":
                return [
                    {
                        "sku": v.sku,
                        "product_id": p.id,
                        "variant_id": v.id,
                        "quantity": v.quantity,
                        "inventory_item_id": p.inventory_item_id,
                        "v3_inventory_item_id": v.inventory_item_id_v3,
                        "revision": v.revision,
                        "refuses_writes": v.refuses_writes,
                    }
                    for p in self.wix[site or "site-v1"]
                    for v in p.variants
                ]
            if channel == "haier":
                return [
                    {"product_code": p.code, "county_code": c, "stock": s}
                    for p in self.haier
                    for c, s in p.stock.items()
                ]
            raise KeyError(channel)

    def ozon_unreadable(self, account: str, it: OzonItem, stock_type: str) -> bool:
        """Whether the API serves this item's row of ``stock_type`` with an unreadable figure now."""
        return it.offer_id in self.malformed_ozon_offers or (account, it.offer_id, stock_type) in self.unreadable_ozon

    def wb_unreadable(self, account: str, it: WbItem) -> bool:
        """Whether the API serves this size's seller-warehouse amount unreadable now."""
        return it.chrt_id in self.malformed_wb_amounts or (account, it.chrt_id) in self.unreadable_wb

    def _ozon_truth(self, account: str) -> list[dict]:
        rows = []
        for it in self.ozon[account]:
            if not it.has_rows:
                continue
            entries = [("fbo", OZON_FBO_WAREHOUSES[wh][0], present, reserved) for wh, present, reserved in it.fbo]
            entries.append(("fbs", OZON_FBS_WAREHOUSES[it.fbs_wh][0], it.fbs[0], it.fbs[1]))
            if it.rfbs_wh is not None:
                entries.append(("rfbs", OZON_RFBS_WAREHOUSES[it.rfbs_wh][0], it.rfbs[0], it.rfbs[1]))
            for stock_type, warehouse_id, present, reserved in entries:
                rows.append(
                    {
                        "sku": it.offer_id,
                        "stock_type": stock_type,
                        "warehouse_id": warehouse_id,
                        "present": present,
                        "reserved": reserved,
                        "readable": not self.ozon_unreadable(account, it, stock_type),
                    }
                )
        return rows

    def _wb_truth(self, account: str) -> list[dict]:
        rows = []
        for it in self.wb[account]:
            for wh, quantity, to_client, from_client in it.wb:
                rows.append(
                    {
                        "sku": it.sku,
                        "chrt_id": it.chrt_id,
                        "stock_type": "fbw",
                        "warehouse_id": WB_WAREHOUSES[wh][0],
                        "quantity": quantity,
                        "in_way_to_client": to_client,
                        "in_way_from_client": from_client,
                        "readable": True,
                    }
                )
            rows.append(
                {
                    "sku": it.sku,
                    "chrt_id": it.chrt_id,
                    "stock_type": "fbs",
                    "warehouse_id": WB_SELLER_WAREHOUSES[it.seller_wh][0],
                    "quantity": it.seller_amount,
                    "in_way_to_client": 0,
                    "in_way_from_client": 0,
                    "readable": not self.wb_unreadable(account, it),
                }
            )
        return rows

    def sales_truth(self, channel: str, account: str) -> list[dict]:
        with self.lock:
            return [
                {
                    "sku": s.sku,
                    "scheme": s.scheme,
                    "at": s.at.isoformat(),
                    "order_id": s.order_id,
                    "quantity": s.quantity,
                    "price": s.price,
                    "cancelled": s.cancelled,
                    "returned": s.returned,
                }
                for s in self.sales
                if s.channel == channel and s.account == account
            ]
