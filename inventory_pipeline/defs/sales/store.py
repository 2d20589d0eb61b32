"""The sales domain's SQL: days of sales, what the analysis reads and writes, product statuses."""

import logging
import time
from datetime import date, datetime

import pandas as pd
from sqlalchemy import Engine, delete, func, insert, select
from sqlalchemy.exc import DBAPIError

from inventory_pipeline.db.dialect import is_deadlock, locked_transaction, rows_only_locks
from inventory_pipeline.db.tables import (
    inventory_data,
    inventory_history,
    product_status,
    product_status_history,
    sales,
    sales_analysis,
)

log = logging.getLogger(__name__)
SOLD_COLUMNS = ["source", "account", "sku", "sale_date", "kind", "quantity", "amount", "cancelled"]
LEDGER_KEY = ["source", "account", "sku", "warehouse_id", "stock_type"]


DEADLOCK_ATTEMPTS = 3
LOCK_SECONDS = 600  # a day of the account waits this long for another day's replacement


def sales_lock_name(source: str, account: str) -> str:
    """Held by whoever replaces a day of the account's sales, until it has committed: an evaluation
    that moves its cursor over sales ids waits for it (the days' transactions could commit out of
    the order of their ids)."""
    return f"sales:{source}:{account}"


def account_sales(account: str) -> list[str]:
    """The sales lock names of ``account``, one per marketplace."""
    return [sales_lock_name(source, account) for source in ("ozon", "wb")]


def replace_day(engine: Engine, source: str, account: str, day: date, rows: list[dict]) -> int:
    """The day's rows exactly as the API reports them now: delete, then insert, in one transaction
    that locks only the day's own rows, under the account's sales lock; should the server still pick
    it as a deadlock's victim, it is run again (it rolled back)."""
    unique = list({(r["kind"], r["external_id"]): r for r in rows}.values())
    for attempt in range(1, DEADLOCK_ATTEMPTS + 1):
        try:
            with locked_transaction(rows_only_locks(engine), [sales_lock_name(source, account)], LOCK_SECONDS) as conn:
                conn.execute(
                    delete(sales).where(sales.c.source == source, sales.c.account == account, sales.c.sale_date == day)
                )
                if unique:
                    conn.execute(insert(sales), unique)
            return len(unique)
        except DBAPIError as exc:
            if not is_deadlock(exc) or attempt == DEADLOCK_ATTEMPTS:
                raise
            log.warning(f"{source}/{account} {day}: deadlock while replacing the day; trying again ({attempt + 1})")
            time.sleep(0.2 * attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def _frame(conn, query, columns: list[str]) -> pd.DataFrame:
    rows = conn.execute(query).mappings().all()
    return pd.DataFrame(rows) if rows else pd.DataFrame(columns=columns)


def analysis_inputs(engine: Engine, first: date, last: date, since: datetime) -> tuple[pd.DataFrame, ...]:
    """Sales of the days ``first``..``last``, the ledger now, and the ledger's changes since ``since``."""
    d, h = inventory_data, inventory_history
    with engine.connect() as conn:
        sold = _frame(
            conn,
            select(*(sales.c[c] for c in SOLD_COLUMNS)).where(sales.c.sale_date.between(first, last)),
            SOLD_COLUMNS,
        )
        current_columns = [*LEDGER_KEY, "current_stock", "first_seen_at"]
        current = _frame(conn, select(*(d.c[c] for c in current_columns)), current_columns)
        history_columns = [*LEDGER_KEY, "changed_at", "current_before"]
        history = _frame(
            conn, select(*(h.c[c] for c in history_columns)).where(h.c.changed_at >= since), history_columns
        )
    return sold, current, history


def save_analysis(engine: Engine, result: pd.DataFrame, computed: dict) -> None:
    """One analysis run's rows, each with when and over which period it was computed."""
    if result.empty:
        return
    with engine.begin() as conn:
        conn.execute(insert(sales_analysis), [{**r, **computed} for r in result.to_dict("records")])


def status_inputs(engine: Engine) -> tuple[dict, dict, dict]:
    """Per (account, SKU): when the ledger first saw it, when it was first ordered (not cancelled),
    and its status now."""
    d = inventory_data
    with engine.connect() as conn:
        seen = {
            (r[0], r[1]): r[2]
            for r in conn.execute(
                select(d.c.account, d.c.sku, func.min(d.c.first_seen_at)).group_by(d.c.account, d.c.sku)
            )
        }
        ordered = {
            (r[0], r[1]): r[2]
            for r in conn.execute(
                select(sales.c.account, sales.c.sku, func.min(sales.c.event_at))
                .where(sales.c.kind == "order", sales.c.cancelled.is_(False))
                .group_by(sales.c.account, sales.c.sku)
            )
        }
        known = {(r.account, r.sku): r.status for r in conn.execute(select(product_status))}
    return seen, ordered, known


def save_status_changes(engine: Engine, changes: list[tuple], now: datetime) -> dict[str, int]:
    """Each ((account, sku), old, new) applied with its history row; returns the count per status after."""
    with engine.begin() as conn:
        for (account, sku), old, new in changes:
            if old is None:
                conn.execute(insert(product_status).values(account=account, sku=sku, status=new, since=now))
            else:
                conn.execute(
                    product_status.update()
                    .where(product_status.c.account == account, product_status.c.sku == sku)
                    .values(status=new, since=now)
                )
            conn.execute(
                insert(product_status_history).values(
                    account=account, sku=sku, old_status=old, new_status=new, changed_at=now
                )
            )
        return dict(conn.execute(select(product_status.c.status, func.count()).group_by(product_status.c.status)).all())
