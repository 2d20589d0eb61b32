"""How a Wildberries size becomes the seller SKU the ledger, Ozon and Wix know it by. Pure.

A WB card (one article, ``vendorCode``) has one or more sizes, each with its own size id
(``chrtID``), its ``techSize`` and its barcodes. Every size is its own ledger row, so every size needs
its own SKU. One rule, the same for stock (cards) and sales (statistics rows, which carry the
article, the ``techSize`` and the barcode sold):

* ``article_size`` (the default): the article for a size whose ``techSize`` is WB's ``"0"`` (a product
  without sizes) or empty; otherwise the article, ``WB_SKU_SEPARATOR`` (``-``) and the ``techSize``:
  ``HR-000123-M``.
* ``barcode``: the size's first barcode (a sale is named by the barcode it was sold under).

``WB_SKU_MAP_FILE`` names a CSV file (columns ``barcode,sku``) for sellers whose Ozon/Wix SKUs differ
from either rule: a size any of whose barcodes is listed takes the SKU the file gives it.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

WITHOUT_SIZE = {"0", ""}


class SkuMapError(ValueError):
    """The mapping file cannot be used; the message names the file and the line."""


@dataclass(frozen=True)
class WbSkuRule:
    rule: str = "article_size"
    separator: str = "-"
    mapping: Mapping[str, str] = field(default_factory=dict)  # barcode → seller SKU

    def sku(self, article: str, tech_size: object, barcodes: Sequence[object]) -> str | None:
        """The size's seller SKU, or None when the rule has nothing to name it by (the ``barcode``
        rule and a size without barcodes)."""
        texts = [str(b) for b in barcodes if b not in (None, "")]
        for barcode in texts:
            if barcode in self.mapping:
                return self.mapping[barcode]
        if self.rule == "barcode":
            return texts[0] if texts else None
        size = "" if tech_size is None else str(tech_size)
        return article if size.strip() in WITHOUT_SIZE else f"{article}{self.separator}{size}"


def load(rule: str, separator: str, map_file: str) -> WbSkuRule:
    """The rule with its mapping file read (when one is named)."""
    return WbSkuRule(rule, separator, read_map(Path(map_file)) if map_file else {})


def read_map(path: Path) -> dict[str, str]:
    """``barcode,sku`` lines with a header; a barcode listed twice with two SKUs is refused."""
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise SkuMapError(f"WB_SKU_MAP_FILE {path}: cannot be read ({exc.strerror})") from None
    out: dict[str, str] = {}
    with handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or not {"barcode", "sku"} <= {f.strip() for f in reader.fieldnames}:
            raise SkuMapError(f"WB_SKU_MAP_FILE {path}: the first line must name the columns barcode,sku")
        for line, entry in enumerate(reader, start=2):
            entry = {k.strip(): v for k, v in entry.items() if k}
            barcode, sku = (entry.get("barcode") or "").strip(), entry.get("sku") or ""
            if not barcode or not sku.strip():
                raise SkuMapError(f"WB_SKU_MAP_FILE {path} line {line}: a barcode and a SKU are both required")
            if out.get(barcode, sku) != sku:
                raise SkuMapError(
                    f"WB_SKU_MAP_FILE {path} line {line}: barcode {barcode} is mapped to both "
                    f"{out[barcode]!r} and {sku!r}"
                )
            out[barcode] = sku
    return out
