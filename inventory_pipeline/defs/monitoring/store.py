"""The monitoring domain's SQL: what stock events, anomalies and the weekly report read, where
anomalies and notifications are kept, and the once-per-window claim that stops alert storms."""

from datetime import UTC, date, datetime, timedelta

import pandas as pd
from sqlalchemy import Engine, and_, case, false, func, insert, or_, select, true, update
from sqlalchemy.exc import IntegrityError

from inventory_pipeline.db.dialect import locked_transaction, select_in
from inventory_pipeline.db.tables import (
    accounts,
    event_cursors,
    event_dedupe,
    inventory_data,
    inventory_history,
    inventory_synced,
    notifications,
    product_status,
    sales,
    stock_anomalies,
    sync_logs,
    synced_at,
    wix_push_log,
)
from inventory_pipeline.defs.monitoring.anomalies import KEY, AnomalyRules
from inventory_pipeline.defs.sales.rules import MARKETPLACE_WAREHOUSE_TYPES, STOCK_TYPES
from inventory_pipeline.defs.sales.store import account_sales
from inventory_pipeline.defs.stock.ledger import SLICE_LOCK_SECONDS, account_slices

CLOCK_MARGIN_SECONDS = 60


def _stock_group(column):
    """Ozon's and Wildberries' names for the same idea, as in the sales rules: fbo/fbw → fbo, else fbs."""
    return case((column.in_(sorted(MARKETPLACE_WAREHOUSE_TYPES)), "fbo"), else_="fbs")


def fbo_movements(engine: Engine, account: str) -> tuple[list, dict] | None:
    """Marketplace-warehouse stock moved per (source, SKU) since the last evaluation, with the totals
    now; the evaluation's cursor moves on in the same transaction. None on the first evaluation,
    whose state is the baseline."""
    h, d = inventory_history, inventory_data
    with _account_quiet(engine, account) as conn:
        cursor, newest = _advance(conn, f"fbo:{account}")
        if cursor is None:
            return None
        moved = conn.execute(
            select(h.c.source, h.c.sku, func.sum(h.c.current_after - func.coalesce(h.c.current_before, 0)))
            .where(
                h.c.id > cursor,
                h.c.id <= newest,
                h.c.account == account,
                h.c.stock_type.in_(MARKETPLACE_WAREHOUSE_TYPES),
            )
            .group_by(h.c.source, h.c.sku)
        ).all()
        now_totals = {
            (r[0], r[1]): int(r[2] or 0)
            for r in conn.execute(
                select(d.c.source, d.c.sku, func.sum(d.c.current_stock))
                .where(
                    d.c.account == account,
                    d.c.stock_type.in_(MARKETPLACE_WAREHOUSE_TYPES),
                    d.c.sku.in_([m[1] for m in moved]) if moved else false(),
                )
                .group_by(d.c.source, d.c.sku)
            )
        }
    return [(source, sku, int(delta)) for source, sku, delta in moved], now_totals


def _account_quiet(engine: Engine, account: str):
    """A transaction in which no writer of the account's ledger slices or sales is mid-transaction,
    until it has committed its cursors: a fast-path run's history (a day of sales) committed after
    the newest id was read would otherwise be stepped past."""
    return locked_transaction(engine, [*account_slices(account), *account_sales(account)], SLICE_LOCK_SECONDS)


def _advance(conn, name: str, ids=inventory_history.c.id) -> tuple[int | None, int]:
    """A cursor over a table's ids (the history's, by default) moved on to the newest: where it was
    (None the first time, when the state now is the baseline) and where it is now."""
    cursor = conn.execute(select(event_cursors.c.last_history_id).where(event_cursors.c.name == name)).scalar()
    newest = conn.execute(select(func.max(ids))).scalar() or 0
    if cursor is None:
        conn.execute(insert(event_cursors).values(name=name, last_history_id=newest))
    else:
        conn.execute(update(event_cursors).where(event_cursors.c.name == name).values(last_history_id=newest))
    return cursor, newest


def changed_skus(engine: Engine, account: str) -> set[str] | None:
    """The account's SKUs whose cover may have moved since the last evaluation: their stock changed,
    or their sales were (re)loaded (a day backfilled, today's orders so far). None the first time:
    every SKU is evaluated once."""
    h, s = inventory_history, sales
    with _account_quiet(engine, account) as conn:
        stock_cursor, newest_change = _advance(conn, f"cover:{account}")
        sales_cursor, newest_sale = _advance(conn, f"cover_sales:{account}", s.c.id)
        if stock_cursor is None or sales_cursor is None:
            return None
        changed = conn.execute(
            select(h.c.sku).distinct().where(h.c.id > stock_cursor, h.c.id <= newest_change, h.c.account == account)
        ).scalars()
        sold = conn.execute(
            select(s.c.sku).distinct().where(s.c.id > sales_cursor, s.c.id <= newest_sale, s.c.account == account)
        ).scalars()
        return set(changed) | set(sold)


def cover_inputs(
    engine: Engine, account: str, since: date, until: date, skus: set[str] | None = None
) -> tuple[dict, dict, list]:
    """Units ordered per (source, SKU, stock group) on the days [``since``, ``until``), each SKU's
    status, and the available units per (source, SKU, stock group) of the SKUs that sold; of every
    SKU, or only of ``skus``."""
    d, s, ps = inventory_data, sales, product_status
    group, sold_group = _stock_group(d.c.stock_type), _stock_group(s.c.scheme)
    orders = select(s.c.source, s.c.sku, sold_group, func.sum(s.c.quantity)).where(
        s.c.account == account,
        s.c.sale_date >= since,
        s.c.sale_date < until,
        s.c.kind == "order",
        s.c.cancelled.is_(False),
    )
    status = select(ps.c.sku, ps.c.status).where(ps.c.account == account)
    with engine.connect() as conn:
        by_sku = orders.group_by(s.c.source, s.c.sku, sold_group)
        sold = {(r[0], r[1], r[2]): int(r[3] or 0) for r in select_in(conn, by_sku, s.c.sku, skus, 1000)}
        statuses = dict(select_in(conn, status, ps.c.sku, skus, 1000))
        # Without sales there is no cover figure and no alert: only SKUs that sold are looked up.
        skus = sorted({sku for _, sku, _ in sold})
        available = []
        for start in range(0, len(skus), 1000):
            available += conn.execute(
                select(d.c.source, d.c.sku, group, func.sum(d.c.available_stock))
                .where(
                    d.c.account == account,
                    d.c.stock_type.in_(sorted(STOCK_TYPES)),
                    d.c.sku.in_(skus[start : start + 1000]),
                )
                .group_by(d.c.source, d.c.sku, group)
            ).all()
    return sold, statuses, [tuple(r) for r in available]


def last_judged(engine: Engine, account: str) -> datetime | None:
    """When the account's anomalies were last judged (None the first time); now from here on, taken
    while no write of the account is open (a write stamped earlier and committed later is not missed)."""
    name = f"anomalies:{account}"
    with _account_quiet(engine, account) as conn:
        before = conn.execute(select(event_cursors.c.last_history_id).where(event_cursors.c.name == name)).scalar()
        # Writers stamp rows by their own host's clock: a margin for clocks that differ (a minute of
        # rows read twice costs little).
        stamp = int(datetime.now(UTC).timestamp()) - CLOCK_MARGIN_SECONDS
        if before is None:
            conn.execute(insert(event_cursors).values(name=name, last_history_id=stamp))
        else:
            conn.execute(update(event_cursors).where(event_cursors.c.name == name).values(last_history_id=stamp))
    return None if before is None else datetime.fromtimestamp(before, UTC).replace(tzinfo=None)


def anomaly_inputs(
    engine: Engine, account: str, now: datetime, rules: AnomalyRules, run_id: str, since: datetime | None = None
) -> tuple[pd.DataFrame, ...]:
    """The account's ledger rows some rule could flag, and what run ``run_id`` changed in it. Read in
    proportion to what changed: of each slice, the rows written since its last sync began (its
    fetch time) or since ``since`` (the last judgement: what fast-path runs wrote between syncs),
    whichever is earlier, found by index; all of a slice's rows only when the slice is stale."""
    d, h, a = inventory_data, inventory_history, accounts
    suspect = or_(
        d.c.current_stock < 0,
        d.c.reserved_stock < 0,
        d.c.current_stock > rules.max_stock,
        d.c.reserved_stock > d.c.current_stock,
    )
    columns = [*(d.c[c] for c in KEY), d.c.current_stock, d.c.reserved_stock, synced_at.label("last_sync_at")]
    with engine.connect() as conn:
        slices = conn.execute(select(a.c.marketplace, a.c.last_synced_at).where(a.c.name == account)).all()
        found = []
        for source, synced in slices:
            this_slice = and_(d.c.source == source, d.c.account == account)
            if synced is not None and synced < now - timedelta(hours=rules.max_age_hours):
                query = select(*columns).select_from(inventory_synced).where(this_slice)  # every row is stale
            else:
                start = min(synced, since) if synced is not None and since is not None else synced
                written = d.c.updated_at >= start if start is not None else true()
                query = select(*columns).select_from(inventory_synced).where(this_slice, written, suspect)
            found += conn.execute(query).mappings().all()
        current = pd.DataFrame(found, columns=[*KEY, "current_stock", "reserved_stock", "last_sync_at"])
        changes = pd.DataFrame(
            conn.execute(
                select(*(h.c[c] for c in KEY), h.c.current_before, h.c.current_after, h.c.change).where(
                    h.c.account == account, h.c.run_id == run_id
                )
            )
            .mappings()
            .all(),
            columns=[*KEY, "current_before", "current_after", "change"],
        )
    current["last_sync_at"] = pd.to_datetime(current["last_sync_at"])
    return current, changes


def slice_units(engine: Engine, account: str) -> dict[str, int]:
    """Units present per source in the account's ledger now: the figures each sync records for its
    slice (``accounts.row_figures``), summed from the rows only for a slice without them."""
    d, a = inventory_data, accounts
    with engine.connect() as conn:
        recorded = conn.execute(select(a.c.marketplace, a.c.row_figures).where(a.c.name == account)).all()
        units = {source: int(figures.split(",")[1]) for source, figures in recorded if figures}
        rows = conn.execute(
            select(d.c.source, func.coalesce(func.sum(d.c.current_stock), 0))
            .where(d.c.account == account, d.c.source.notin_(sorted(units)) if units else true())
            .group_by(d.c.source)
        ).all()
    return units | {source: int(n) for source, n in rows}


def save_anomalies(engine: Engine, found: pd.DataFrame, run_id: str, now: datetime) -> None:
    if found.empty:
        return
    with engine.begin() as conn:
        conn.execute(
            insert(stock_anomalies),
            [
                {**r, "run_id": run_id, "detected_at": now, "detail": str(r["detail"])[:255]}
                for r in found.to_dict("records")
            ],
        )


def week_figures(engine: Engine, since, now, max_age_hours: float) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """(per source table, per day frame for the chart, totals) for the week since ``since``."""
    s = sync_logs
    with engine.connect() as conn:
        logs = pd.DataFrame(
            conn.execute(
                select(s.c.source, s.c.status, s.c.records_processed, s.c.duration_seconds, s.c.started_at).where(
                    s.c.started_at >= since,
                    s.c.sync_type != "signals",  # the syncs; the fast path's many small reads would drown them
                )
            )
            .mappings()
            .all(),
            columns=["source", "status", "records_processed", "duration_seconds", "started_at"],
        )
        stale = dict(
            conn.execute(
                select(inventory_data.c.source, func.count(func.distinct(inventory_data.c.sku)))
                .select_from(inventory_synced)
                .where(synced_at < now - timedelta(hours=max_age_hours))
                .group_by(inventory_data.c.source)
            ).all()
        )
        anomalies = dict(
            conn.execute(
                select(stock_anomalies.c.source, func.count())
                .where(stock_anomalies.c.detected_at >= since, stock_anomalies.c.severity != "info")
                .group_by(stock_anomalies.c.source)
            ).all()
        )
        pushes = dict(
            conn.execute(
                select(wix_push_log.c.status, func.count())
                .where(wix_push_log.c.pushed_at >= since)
                .group_by(wix_push_log.c.status)
            ).all()
        )
        delivered = dict(
            conn.execute(
                select(notifications.c.delivered == "log", func.count())
                .where(notifications.c.created_at >= since, notifications.c.delivered != "suppressed")
                .group_by(notifications.c.delivered == "log")
            ).all()
        )
    if logs.empty:
        table = pd.DataFrame(
            columns=[
                "source",
                "syncs",
                "success_rate",
                "mean_duration_s",
                "records_processed",
                "stale_skus",
                "anomalies",
            ]
        )
        daily = pd.DataFrame(columns=["day", "source", "records_processed", "success_rate"])
    else:
        logs["ok"] = logs["status"].isin(["success", "partial"])
        table = (
            logs.groupby("source")
            .agg(
                syncs=("status", "size"),
                success_rate=("ok", "mean"),
                mean_duration_s=("duration_seconds", "mean"),
                records_processed=("records_processed", "sum"),
            )
            .reset_index()
        )
        table["success_rate"] = (table["success_rate"] * 100).round(1)
        table["mean_duration_s"] = table["mean_duration_s"].round(1)
        table["stale_skus"] = table["source"].map(stale).fillna(0).astype(int)
        table["anomalies"] = table["source"].map(anomalies).fillna(0).astype(int)
        logs["day"] = pd.to_datetime(logs["started_at"]).dt.date
        daily = (
            logs.groupby(["day", "source"])
            .agg(records_processed=("records_processed", "sum"), success_rate=("ok", "mean"))
            .reset_index()
        )
    totals = {
        "wix_writes_applied": int(pushes.get("applied", 0)),
        "wix_writes_failed": int(pushes.get("failed", 0)),
        # "log": no channel was configured, so the alert was recorded (notifications, log), not sent.
        "alerts_sent": int(delivered.get(False, 0)),
        "alerts_recorded_only": int(delivered.get(True, 0)),
    }
    return table, daily, totals


def claim(engine: Engine, key: str, now: datetime, window: timedelta) -> bool:
    """True for the one caller that may send ``key`` now; False within ``window`` of the last send.
    A conditional update or a primary-key insert decides, so two concurrent runs cannot both win."""
    with engine.begin() as conn:
        if conn.execute(
            update(event_dedupe)
            .where(event_dedupe.c.dedupe_key == key, event_dedupe.c.last_sent_at <= now - window)
            .values(last_sent_at=now)
        ).rowcount:
            return True
        if conn.execute(select(event_dedupe.c.dedupe_key).where(event_dedupe.c.dedupe_key == key)).first():
            return False
        try:
            with conn.begin_nested():
                conn.execute(insert(event_dedupe).values(dedupe_key=key, last_sent_at=now))
        except IntegrityError:
            return False
        return True


def record_notification(engine: Engine, notification: dict) -> None:
    """One sent, suppressed or failed message in ``notifications``."""
    with engine.begin() as conn:
        conn.execute(insert(notifications).values(**notification))


def suppressed_since_last_send(engine: Engine, event_type: str, subject_key: str) -> int:
    """Messages about ``subject_key`` recorded as suppressed since the last one that went out."""
    n = notifications
    with engine.connect() as conn:
        # Ids, not times, order the rows: several alerts can share one second.
        last_sent = conn.execute(
            select(func.max(n.c.id)).where(
                n.c.event_type == event_type, n.c.sku == subject_key, n.c.delivered != "suppressed"
            )
        ).scalar()
        return conn.execute(
            select(func.count())
            .select_from(n)
            .where(
                n.c.event_type == event_type,
                n.c.sku == subject_key,
                n.c.delivered == "suppressed",
                n.c.id > (last_sent or 0),
            )
        ).scalar_one()
