"""The Haier supplier catalogue (group ``supplier``): products, prices, stock by county, images."""

import hashlib
import json
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import requests
from dagster import (
    AssetCheckSpec,
    AssetExecutionContext,
    AssetsDefinition,
    Config,
    Failure,
    MaterializeResult,
    asset,
)

from inventory_pipeline import checks, sync_log
from inventory_pipeline.clock import utcnow
from inventory_pipeline.defs.stock import ledger
from inventory_pipeline.defs.stock.normalize import row as ledger_row
from inventory_pipeline.defs.stock.normalize import unstorable
from inventory_pipeline.defs.supplier import store
from inventory_pipeline.defs.supplier.rules import (
    IMAGE_TYPES,
    BadItem,
    image_path,
    matches,
    price_row,
    product_row,
    stock_units,
)
from inventory_pipeline.resources.database import InventoryDatabase
from inventory_pipeline.resources.haier import HaierResource
from inventory_pipeline.settings import Settings

RATE_CHECKS = {
    "success_rate": "At least 95 % of the items synced (as the Haier Django sync required).",
    "error_rate": "Under 5 % of the items failed (as the Haier Django sync required).",
}


@dataclass
class Tally:
    """What one supplier sync did, for sync_logs, metadata and the rate checks."""

    succeeded: int = 0
    failed: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def result(self, haier: HaierResource, extra: dict) -> MaterializeResult:
        total = self.succeeded + len(self.failed)
        minutes = max(1e-9, (time.monotonic() - self.started) / 60)
        success_rate = self.succeeded / total if total else 1.0
        error_rate = len(self.failed) / total if total else 0.0
        metadata = {
            "total": total,
            "succeeded": self.succeeded,
            "failed": len(self.failed),
            "items_per_minute": round(self.succeeded / minutes, 1),
            "success_rate": round(success_rate, 4),
            "error_rate": round(error_rate, 4),
            "api_calls": haier.calls,
            "mean_api_latency_ms": round(1000 * haier.seconds_in_calls / max(1, haier.calls), 1),
            **extra,
        }
        if self.failed:
            metadata["failed_items"] = "; ".join(self.failed[:20])
        verdicts = [checks.at_least("success_rate", success_rate, 0.95), checks.below("error_rate", error_rate, 0.05)]
        return MaterializeResult(
            metadata=metadata,
            check_results=[v.result() for v in verdicts],
        )


class ProductsConfig(Config):
    product_codes: list[str] = []
    category: str | None = None
    brand: str | None = None


class PricesConfig(Config):
    product_codes: list[str] = []


class StockConfig(Config):
    county_codes: list[str] = []
    """Default: HAIER_COUNTY_CODES (110101)."""
    product_codes: list[str] = []
    """Default: every product of the stored catalogue."""


def _specs(name: str) -> list[AssetCheckSpec]:
    return [AssetCheckSpec(check, asset=name, description=text) for check, text in RATE_CHECKS.items()]


def build_supplier_assets(settings: Settings) -> list[AssetsDefinition]:
    common = {"group_name": "supplier", "pool": "haier_api", "kinds": {"api"}, "tags": {"source": "haier"}}

    @asset(
        name="haier_products",
        check_specs=_specs("haier_products"),
        **common,
        description="Haier's procurable catalogue: model, category, brand, whether it can be bought and why "
        "not. Incremental: an unchanged product is not rewritten.",
    )
    def haier_products(
        context: AssetExecutionContext, config: ProductsConfig, database: InventoryDatabase, haier: HaierResource
    ) -> MaterializeResult:
        engine, tally = database.engine, Tally()
        rows: list[dict] = []
        with sync_log.logged(
            engine, context.instance, "haier", settings.haier_account, context.run_id, "products", tally
        ):
            for page in haier.products(config.product_codes or None):
                for raw in page:
                    try:
                        item = product_row(raw)
                    except BadItem as exc:
                        tally.failed.append(str(exc))
                        continue
                    if matches(item, config.brand, config.category):
                        rows.append(item)
            created, updated = store.upsert_changed(engine, rows)
            tally.succeeded = len(rows)
        return tally.result(haier, {"created": created, "updated": updated, "unchanged": len(rows) - created - updated})

    @asset(
        name="haier_prices",
        deps=[haier_products],
        check_specs=_specs("haier_prices"),
        **common,
        description="Supply price, invoice price, rebates and the resulting sale price per Haier product.",
    )
    def haier_prices(
        context: AssetExecutionContext, config: PricesConfig, database: InventoryDatabase, haier: HaierResource
    ) -> MaterializeResult:
        engine, tally = database.engine, Tally()
        with sync_log.logged(
            engine, context.instance, "haier", settings.haier_account, context.run_id, "prices", tally
        ):
            rows = []
            for page in haier.prices(store.catalogue_codes(engine, config.product_codes)):
                for raw in page:
                    try:
                        rows.append({**price_row(raw), "updated_at": utcnow()})
                    except BadItem as exc:
                        tally.failed.append(str(exc))
            store.replace_prices(engine, rows)
            tally.succeeded = len(rows)
        return tally.result(
            haier, {"priced": len(rows), "without_sale_price": sum(1 for r in rows if r["sale_price"] is None)}
        )

    @asset(
        name="haier_stock",
        deps=[haier_products],
        check_specs=_specs("haier_stock"),
        **common,
        description="Stock Haier can ship per product and county code, kept in the stock ledger as the source "
        "'haier' (stock type 'supplier', warehouse = county code).",
    )
    def haier_stock(
        context: AssetExecutionContext, config: StockConfig, database: InventoryDatabase, haier: HaierResource
    ) -> MaterializeResult:
        engine, tally = database.engine, Tally()
        counties = config.county_codes or list(settings.haier_counties)
        with sync_log.logged(engine, context.instance, "haier", settings.haier_account, context.run_id, "stock", tally):
            fetched_at = utcnow()
            codes = store.catalogue_codes(engine, config.product_codes)
            if not codes:
                raise Failure(
                    "no Haier product to read stock for"
                    + (f" among {config.product_codes}" if config.product_codes else ": the stored catalogue is empty")
                    + " (materialize haier_products first); the ledger's Haier stock is unchanged"
                )
            pairs = [(code, county) for code in codes for county in counties]
            rows = []
            for answer in haier.stock(pairs):
                try:
                    if answer.error:
                        raise BadItem(answer.error)
                    units = stock_units(answer.data)
                except BadItem as exc:
                    tally.failed.append(f"{answer.product_code}@{answer.county_code}: {exc}")
                    continue
                stock_row = ledger_row(
                    "haier",
                    settings.haier_account,
                    answer.product_code,
                    answer.county_code,
                    "supplier",
                    product_id=answer.product_code,
                    marketplace_sku=str((answer.data or {}).get("secCode", ""))[:32],
                    warehouse_name=f"Haier county {answer.county_code}",
                    present=units,
                    reserved=0,
                )
                problem = unstorable(stock_row)
                if problem:
                    tally.failed.append(f"{answer.product_code}@{answer.county_code}: {problem}")
                    continue
                rows.append(stock_row)
            if not rows:
                raise Failure(
                    f"Haier answered no readable stock for any of the {len(pairs)} product and county pairs asked "
                    f"({'; '.join(tally.failed[:3])}); the ledger's Haier stock is unchanged"
                )
            # An incomplete read must not look like a sell-out: rows it missed keep their figures, and
            # what was not asked for (another county, another product) is not touched.
            asked = {"warehouse_id": counties, **({"sku": codes} if config.product_codes else {})}
            result = ledger.apply(
                engine,
                "haier",
                settings.haier_account,
                fetched_at,
                [rows],
                context.run_id,
                zero_missing=not tally.failed,
                zero_within=asked,
            )
            tally.succeeded = len(rows)
        return tally.result(
            haier,
            {
                "counties": ", ".join(counties),
                "ledger_rows": result.staged,
                "changed": result.changed,
                "zeroed": result.zeroed,
            },
        )

    @asset(
        name="product_images",
        deps=[haier_products],
        check_specs=_specs("product_images"),
        group_name="supplier",
        kinds={"files"},
        description="Each Haier product's images, checked and stored once under the media folder as "
        "YYYY/MM/DD/<uuid>.<ext>, recorded in product_images.",
    )
    def product_images_asset(
        context: AssetExecutionContext, database: InventoryDatabase, haier: HaierResource
    ) -> MaterializeResult:
        engine, tally = database.engine, Tally()
        media = Path(settings.media_dir)
        stored = skipped = 0
        with sync_log.logged(
            engine, context.instance, "haier", settings.haier_account, context.run_id, "images", tally
        ):
            catalogue, have, by_hash = store.image_inputs(engine)
            session = requests.Session()
            for code, urls in catalogue:
                for url in json.loads(urls):
                    if (code, url) in have:
                        skipped += 1
                        continue
                    try:
                        body, content_type = download(
                            session, url, settings.image_max_bytes, settings.image_timeout_seconds
                        )
                    except BadItem as exc:
                        tally.failed.append(f"{code} {url}: {exc}")
                        continue
                    digest = hashlib.sha256(body).hexdigest()
                    path = by_hash.get(digest)
                    if path is None:
                        path = image_path(utcnow(), uuid.uuid4().hex, content_type)
                        (media / path).parent.mkdir(parents=True, exist_ok=True)
                        (media / path).write_bytes(body)
                        by_hash[digest] = path
                        stored += 1
                    store.record_image(
                        engine,
                        {
                            "product_code": code,
                            "url": url,
                            "path": path,
                            "sha256": digest,
                            "content_type": content_type,
                            "size_bytes": len(body),
                        },
                    )
                    tally.succeeded += 1
        return tally.result(
            haier, {"files_written": stored, "already_stored": skipped, "media_dir": str(media.resolve())}
        )

    return [haier_products, haier_prices, haier_stock, product_images_asset]


def download(session: requests.Session, url: str, max_bytes: int, timeout: float) -> tuple[bytes, str]:
    """An image's bytes and content type; anything that is not an image, or is too big, is refused."""
    try:
        with session.get(url, timeout=timeout, stream=True) as answer:
            if answer.status_code != 200:
                raise BadItem(f"HTTP {answer.status_code}")
            content_type = answer.headers.get("content-type", "").split(";")[0].strip().lower()
            if content_type not in IMAGE_TYPES:
                raise BadItem(f"not an image ({content_type or 'no content type'})")
            body = bytearray()
            for chunk in answer.iter_content(64 * 1024):
                body += chunk
                if len(body) > max_bytes:
                    raise BadItem(f"larger than {max_bytes} bytes")
    except requests.RequestException as exc:
        raise BadItem(f"download failed: {type(exc).__name__}") from None
    return bytes(body), content_type
