"""Whether a snapshot may be trusted: enough products, no collapse against the last accepted
snapshot, every part answered in full, every key once. Pure."""

from inventory_pipeline import checks
from inventory_pipeline.defs.stock.fetch import Tally
from inventory_pipeline.defs.stock.snapshots import Snapshot
from inventory_pipeline.settings import Settings


def judge(
    source: str, tally: Tally, previous: Snapshot | None, settings: Settings, accept_collapse: bool
) -> list[checks.Verdict]:
    sku_count = len(tally.skus)
    verdicts = [
        checks.enough_products(sku_count, settings.min_products_threshold),
        checks.no_collapse(
            sku_count,
            tally.rows,
            previous.sku_count if previous else None,
            previous.row_count if previous else None,
            settings.max_snapshot_drop,
            accept_collapse,
        ),
    ]
    if source == "ozon":
        verdicts.append(checks.complete(tally.received_items, tally.expected_items, tally.problems))
    else:
        verdicts.append(
            checks.parts_complete(
                dict(tally.parts),
                previous.part_rows if previous else {},
                settings.max_part_drop,
                tally.problems,
                accept_collapse,
            )
        )
    verdicts.append(checks.no_duplicate_keys(tally.keys.repeated(), tally.shared_skus))
    return verdicts
