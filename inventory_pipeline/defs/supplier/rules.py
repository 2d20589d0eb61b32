"""Haier answers → catalogue rows. Pure functions: a bad item gives a reason, never a guess.

Sale price, following the Haier Django sync's precedence (supply price first, then invoice price, then the
rebates, the final price last): the supply price when Haier gives one; else the invoice price; else
the supply price less the stock rebate share and the rebate money. An item Haier says cannot be
bought (``isSales`` "0") keeps its figures but is not sellable, with Haier's reason.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

IMAGE_TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/gif": "gif"}


class BadItem(ValueError):
    """An item whose shape we cannot use; the message says what is wrong."""


def _text(raw: dict, field: str, required: bool = True) -> str:
    value = raw.get(field)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise BadItem(f"{field} is {value!r}")
    return value.strip()


def product_row(raw: object) -> dict:
    if not isinstance(raw, dict):
        raise BadItem(f"product is {type(raw).__name__}, not an object")
    code = _text(raw, "productCode")
    sales = raw.get("isSales")
    if sales not in ("0", "1"):
        raise BadItem(f"{code}: isSales is {sales!r}")
    images = raw.get("productLageUrls") or ([raw["productImageUrl"]] if raw.get("productImageUrl") else [])
    if not isinstance(images, list) or not all(isinstance(u, str) for u in images):
        raise BadItem(f"{code}: image URLs are not a list of strings")
    row = {
        "product_code": code,
        "source": "haier",
        "model": _text(raw, "productModel"),
        "category": _text(raw, "productGroupNamd", required=False),
        "brand": _text(raw, "productBrandName", required=False),
        "sellable": sales == "1",
        "not_sellable_reason": _text(raw, "noSalesReason", required=False),
        "image_urls": json.dumps(images, ensure_ascii=False),
    }
    row["content_hash"] = hashlib.sha256(json.dumps(row, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    return row


def _money(raw: dict, field: str) -> float | None:
    value = raw.get(field)
    if value in (None, ""):
        return None
    try:
        return round(float(value), 2)
    except (TypeError, ValueError):
        raise BadItem(f"{raw.get('productCode')}: {field} is {value!r}") from None


def price_row(raw: object) -> dict:
    if not isinstance(raw, dict):
        raise BadItem(f"price is {type(raw).__name__}, not an object")
    code = _text(raw, "productCode")
    supply, invoice = _money(raw, "supplyPrice"), _money(raw, "invoicePrice")
    rebate, money = _money(raw, "stockRebatePolicy"), _money(raw, "rebateMoney")
    derived = round(supply * (1 - (rebate or 0)) - (money or 0), 2) if supply else None
    sale = next((p for p in (supply, invoice, derived) if p and p > 0), None)
    return {
        "product_code": code,
        "supply_price": supply,
        "invoice_price": invoice,
        "stock_rebate": rebate,
        "rebate_money": money,
        "sale_price": sale,
        "sellable": raw.get("isSales", "1") == "1" and sale is not None,
        "reason": _text(raw, "reason", required=False),
    }


def stock_units(data: object) -> int:
    """Haier's ``stock`` is a string of digits."""
    value = data.get("stock") if isinstance(data, dict) else None
    text = str(value).strip() if value is not None else ""
    if not text.isdigit():
        raise BadItem(f"stock is {value!r}")
    return int(text)


def matches(row: dict, brand: str | None, category: str | None) -> bool:
    return (not brand or row["brand"] == brand) and (not category or row["category"] == category)


def image_path(now: datetime, name: str, content_type: str) -> str:
    """Where a stored image lives under the media folder: ``YYYY/MM/DD/<uuid>.<ext>``."""
    return f"{now:%Y/%m/%d}/{name}.{IMAGE_TYPES[content_type]}"
