"""One slice's ledger sync, in the pieces the slice assets and ``inventory_data`` string together:
which snapshot to apply (a rule), applying it with its sync log (the write), and what the result
says (figures and check verdicts, rules)."""

from datetime import datetime

from sqlalchemy import Engine

from inventory_pipeline import checks, sync_log
from inventory_pipeline.defs.stock import ledger, snapshots
from inventory_pipeline.settings import Settings


def skip_reason(snapshot: snapshots.Snapshot | None, full_resync: bool) -> str | None:
    """Why the ledger slice stays as it is, or None when ``snapshot`` is to be applied."""
    if snapshot is None:
        return "no accepted snapshot yet"
    if snapshot.applied_at and not full_resync:
        return f"snapshot {snapshot.id} already applied; ledger unchanged"
    return None


def _comparison(engine: Engine, snapshot: snapshots.Snapshot) -> ledger.Comparison | None:
    """The snapshot the slice was last made equal to, to compare the new one with, when there is one."""
    previous_id = ledger.last_applied(engine, snapshot.source, snapshot.account)
    if previous_id is None or previous_id == snapshot.id:
        return None
    return ledger.Comparison(previous_id, snapshots.hashed(engine, previous_id), snapshots.hashed(engine, snapshot.id))


def apply_snapshot(
    engine: Engine, snapshot: snapshots.Snapshot, run_id: str, full_resync: bool, max_stock: int
) -> ledger.ApplyResult:
    """Make the snapshot's ledger slice equal to it, logged in ``sync_logs`` (a failure too)."""
    source, account = snapshot.source, snapshot.account
    log_id = sync_log.open_log(engine, source, account, run_id) or sync_log.start(
        engine, source, account, run_id, "full_resync" if full_resync else "stock"
    )
    try:
        result = ledger.apply(
            engine,
            source,
            account,
            snapshot.fetched_at,
            # Read only when the ledger asks: a steady-state sync compares hashes instead.
            snapshots.stored_rows(engine, snapshot.id),
            run_id,
            full_resync=full_resync,
            snapshot_id=snapshot.id,
            comparison=_comparison(engine, snapshot),
            max_stock=max_stock,
        )
    except Exception as exc:
        sync_log.finish(engine, log_id, "failed", error=f"ledger apply failed: {exc}")
        raise
    snapshots.mark_applied(engine, snapshot.id)
    # Unreadable rows were skipped when the snapshot was read: the sync is then partial.
    status = "partial" if snapshot.skipped_count else "success"
    sync_log.finish(engine, log_id, status, processed=result.staged, failed=snapshot.skipped_count)
    return result


def close_superseded(engine: Engine, source: str, account: str, run_id: str, note: str) -> None:
    """This run's snapshot was accepted but a newer one of the slice was applied instead (two runs of
    one slice, the other first): the ledger holds the newer truth, so this run's sync ends as a
    success saying so, instead of waiting ``processing`` to be swept as abandoned."""
    log_id = sync_log.open_log(engine, source, account, run_id)
    if log_id is not None:
        sync_log.finish(engine, log_id, "success", error=f"superseded: {note}")


def applied_figures(snapshot: snapshots.Snapshot, result: ledger.ApplyResult) -> dict:
    """What one apply did to its slice: the counts the operator reads first."""
    return {
        "rows": result.staged,
        "inserted": result.inserted,
        "changed": result.changed,
        "zeroed": result.zeroed,
        "skipped_rows": snapshot.skipped_count,
        "corrupt_removed": result.corrupt_removed,
        **({"not_compared": result.not_compared} if result.not_compared else {}),
    }


def slice_figures(health: list[ledger.SliceHealth]) -> dict:
    rows = sum(h.rows for h in health)
    return {
        "ledger_rows": rows,
        "total_present": sum(h.total_present for h in health),
        "reserved_over_present_rows": sum(h.reserved_over_present for h in health),
        "dagster/row_count": rows,
    }


def verdicts(health: list[ledger.SliceHealth], max_stock: int) -> list[checks.Verdict]:
    """The ledger's checks over the account's slices."""
    return [
        checks.no_negative_stock(sum(h.negative for h in health)),
        checks.stock_within_limit(sum(h.above_max for h in health), max_stock),
    ]


def fresh_for(engine: Engine, settings: Settings, account: str, now: datetime) -> checks.Verdict:
    """Is each source of ``account`` within MAX_SYNC_AGE_HOURS?"""
    return _fresh_by_account(ledger.freshness(engine), settings, now)[account]


def every_account_fresh(engine: Engine, settings: Settings, now: datetime) -> checks.Verdict:
    """Is each source of each seller account within MAX_SYNC_AGE_HOURS? One verdict, each account
    named in its description."""
    found = _fresh_by_account(ledger.freshness(engine), settings, now)
    return checks.Verdict(
        "every_account_fresh",
        all(v.passed for v in found.values()),
        "; ".join(f"{a}: {v.description}" for a, v in found.items()),
        {
            **{f"{a}_fresh": v.passed for a, v in found.items()},
            **{f"{a}_{k}": m for a, v in found.items() for k, m in v.metadata.items()},
        },
    )


def _fresh_by_account(synced: dict, settings: Settings, now: datetime) -> dict[str, checks.Verdict]:
    sources = {"ozon": settings.ozon_accounts, "wb": settings.wb_accounts}
    return {
        account: checks.fresh(
            {s: synced.get((s, account)) for s, accounts in sources.items() if account in accounts},
            now,
            settings.max_sync_age_hours,
        )
        for account in settings.accounts
    }
