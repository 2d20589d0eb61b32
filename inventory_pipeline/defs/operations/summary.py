"""A short plain-text account of the ledger, for the demo and for operators' terminals."""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from inventory_pipeline.db.tables import inventory_data, inventory_synced, sync_logs, synced_at, wix_plans, wix_push_log


def ledger_summary(engine: Engine) -> str:
    d, s = inventory_data, sync_logs
    with engine.connect() as conn:
        per_source = conn.execute(
            select(
                d.c.source,
                d.c.account,
                func.count(func.distinct(d.c.sku)),
                func.count(),
                func.sum(d.c.current_stock),
                func.max(synced_at),
            )
            .select_from(inventory_synced)
            .group_by(d.c.source, d.c.account)
            .order_by(d.c.source, d.c.account)
        ).all()
        logs = conn.execute(
            select(s.c.source, s.c.account, s.c.status, s.c.records_processed, s.c.duration_seconds)
            .order_by(s.c.id.desc())
            .limit(8)
        ).all()
    lines = ["", "source  account   SKUs   rows   units  last sync (UTC)"]
    lines += [f"{r[0]:<7} {r[1]:<8} {r[2]:>5} {r[3]:>6} {r[4] or 0:>7}  {r[5]:%Y-%m-%d %H:%M:%S}" for r in per_source]
    lines += ["", "latest sync_logs: source/account status records duration"]
    lines += [f"  {r[0]}/{r[1]} {r[2]} {r[3]} {r[4] or 0:.1f}s" for r in logs]
    return "\n".join(lines)


def wix_summary(engine: Engine) -> str:
    with engine.connect() as conn:
        plan = conn.execute(select(wix_plans).order_by(wix_plans.c.id.desc()).limit(1)).first()
        pushed = conn.execute(select(wix_push_log.c.status, func.count()).group_by(wix_push_log.c.status)).all()
    if plan is None:
        return "\nWix: no plan yet"
    return (
        f"\nWix ({plan.catalog_version}): {plan.total_products} SKUs, {plan.found_in_wix} found in Wix, "
        f"{plan.unknown_in_wix} only in Wix (untouched); writes so far: "
        + (", ".join(f"{n} {status}" for status, n in pushed) or "none")
    )
