"""The fast path's run: an account's queued signals, the SKUs they name read again, applied to the
ledger as a partial snapshot, and pushed to Wix. One step in the run's own process (no step process
to start): a few SKUs are seconds of work, not a sync."""

import time

from dagster import AssetKey, AssetObservation, Config, Failure, MetadataValue, OpExecutionContext, Output, op

from inventory_pipeline import sync_log
from inventory_pipeline.assets.metadata import table
from inventory_pipeline.clock import utcnow
from inventory_pipeline.defs.monitoring.assets import evaluate_events
from inventory_pipeline.defs.signals import queue
from inventory_pipeline.defs.signals.targeted import READERS, TargetedRead
from inventory_pipeline.defs.stock import ledger
from inventory_pipeline.defs.wix.assets import PUSHED_COLUMNS, SHOWN, change_row, target_rules
from inventory_pipeline.defs.wix.fast import FastPush, push_skus
from inventory_pipeline.resources import client_key
from inventory_pipeline.settings import Settings


class FastPathConfig(Config):
    account: str = "main"
    """The seller account whose queued signals this run takes."""


class _Counts:
    def __init__(self) -> None:
        self.succeeded = 0
        self.failed: list[str] = []


def build_fast_path_op(settings: Settings):
    rules = target_rules(settings)
    clients = {client_key("ozon", a) for a in settings.ozon_accounts} | {
        client_key("wb", a) for a in settings.wb_accounts
    }

    @op(
        name="apply_stock_signals",
        required_resource_keys={"database", "wix", "notifier", *clients},
        description="Re-read the SKUs an account's queued signals name, apply them to the ledger, push them to "
        "Wix, and raise the stock events their changes make (as stock_events does after a sync).",
    )
    def apply_stock_signals(context: OpExecutionContext, config: FastPathConfig) -> Output[dict]:
        account = config.account
        if account not in settings.accounts:
            raise Failure(f"no seller account {account!r}: SELLER_ACCOUNTS names {', '.join(settings.accounts)}")
        engine = context.resources.database.engine
        started = time.monotonic()
        claimed = queue.claim(engine, account, context.run_id)
        if not claimed:
            return Output({"signals": 0}, metadata={"signals": 0, "note": "nothing queued: another run took them"})
        oldest = min(s.received_at for s in claimed)
        try:
            reads, applied = {}, {}
            for source, reader in READERS.items():
                mine = [s for s in claimed if s.source == source]
                if not mine:
                    continue
                key = client_key(source, account)
                if key not in clients:
                    queue.settle(
                        engine, context.run_id, "failed", f"no {source} account {account}", [s.id for s in mine]
                    )
                    continue
                counts = _Counts()
                with sync_log.logged(engine, context.instance, source, account, context.run_id, "signals", counts):
                    fetched_at = utcnow()
                    read = reader(getattr(context.resources, key), engine, account, mine)
                    _judge(read, source)
                    applied[source] = ledger.apply_partial(
                        engine, source, account, fetched_at, read.rows, context.run_id, read.zero_within
                    )
                    counts.succeeded = len(read.rows)
                    counts.failed = read.skipped
                reads[source] = read
            skus = set().union(*(r.skus for r in reads.values())) if reads else set()
            pushed = _push(context, settings, rules, engine, skus)
        except Exception:
            queue.settle(engine, context.run_id, "pending")  # the next run takes them again
            raise
        unresolved = [u for r in reads.values() for u in r.unresolved]
        retry = set().union(*(r.retry for r in reads.values())) if reads else set()
        unknown = set().union(*(r.unknown for r in reads.values())) - retry if reads else set()
        # What the answer left out or could not read is read again by a later run (a few times, then
        # failed); what names nothing the ledger knows waits for the full sync; the rest is done.
        queue.settle(engine, context.run_id, "pending", "not in the answer, or unreadable", retry)
        queue.settle(engine, context.run_id, "failed", "unknown to the ledger: the next full sync reads it", unknown)
        queue.settle(engine, context.run_id, "applied")
        lag = (utcnow() - oldest).total_seconds()
        metadata = _metadata(claimed, reads, applied, pushed, unresolved, lag, time.monotonic() - started)
        metadata |= {"signals_read_again_later": len(retry), "signals_left_to_the_full_sync": len(unknown)}
        # Alerts follow the change as quickly as Wix does: LowOnStock for a SKU that just sold down.
        events, raised, sent = evaluate_events(
            engine, context.resources.notifier, account, context.run_id, settings, skus=skus
        )
        metadata |= {"events_found": len(events), "events_raised": len(raised), "events_sent": sent}
        context.log_event(AssetObservation(asset_key=AssetKey("inventory_data"), partition=account, metadata=metadata))
        if pushed and (pushed.outcome.failed or pushed.mismatched):
            failed = [w.item.sku for w in pushed.outcome.failed] + pushed.mismatched
            raise Failure(
                f"fast path: {len(failed)} SKUs not at target in Wix ({', '.join(failed[:10])}); "
                "the hourly push tries them again",
                metadata=metadata,
            )
        if pushed and pushed.verdict and not pushed.verdict.passed:
            raise Failure(f"fast path: Wix push stopped by its guard: {pushed.verdict.description}", metadata=metadata)
        return Output({"signals": len(claimed), "skus": len(skus)}, metadata=metadata)

    return apply_stock_signals


def _judge(read: TargetedRead, source: str) -> None:
    """The check a few rows can fail as a snapshot does: an answer that names what was not asked, or
    items that name no offer, writes nothing. Figures are judged as a sync's are: written, and
    flagged by the ledger's checks."""
    if read.problems:
        raise Failure(f"{source} targeted read refused, nothing written: {'; '.join(read.problems[:5])}")


def _push(context: OpExecutionContext, settings: Settings, rules, engine, skus: set[str]) -> FastPush | None:
    if not settings.wix_site_configured or not skus:
        return None
    return push_skus(
        engine,
        context.resources.wix,
        rules,
        skus,
        context.run_id,
        settings.wix_max_zero_share,
        settings.wix_max_total_change,
    )


def _metadata(claimed, reads, applied, pushed: FastPush | None, unresolved, lag: float, seconds: float) -> dict:
    metadata: dict = {
        "signals": len(claimed),
        "signal_kinds": MetadataValue.text(", ".join(sorted({s.kind for s in claimed}))),
        "oldest_signal_age_seconds": round(lag, 1),
        "duration_seconds": round(seconds, 2),
        "unresolved": table(
            [{"what": u} for u in unresolved[:SHOWN]], ["what"], "_every signal named a known SKU_", len(unresolved)
        ),
    }
    for source, read in reads.items():
        result = applied.get(source)
        metadata[f"{source}_asked"] = read.asked
        metadata[f"{source}_rows_read"] = len(read.rows)
        metadata[f"{source}_unreadable_kept"] = len(read.skipped)
        if result:
            metadata[f"{source}_changed"] = result.changed + result.inserted
            metadata[f"{source}_zeroed"] = result.zeroed
    if pushed is None:
        metadata["wix"] = MetadataValue.text("no Wix site configured, or nothing to push")
    elif pushed.skipped:
        metadata["wix"] = MetadataValue.text(pushed.skipped)
    else:
        written = [w for w in pushed.outcome.applied if w.item.quantity != w.target]
        metadata["wix_updated"] = len(written) - len(set(pushed.mismatched) & {w.item.sku for w in written})
        metadata["wix_already_at_target"] = len(pushed.outcome.applied) - len(written)
        metadata["wix_gone_from_store"] = len(pushed.gone)
        metadata["wix_errors"] = len(pushed.outcome.failed) + len(pushed.mismatched)
        metadata["wix_not_in_plan"] = len(pushed.not_in_wix)
        metadata["wix_calls"] = pushed.calls
        metadata["wix_guard"] = MetadataValue.text(pushed.verdict.description if pushed.verdict else "")
        metadata["wix_changed"] = table(
            [change_row(w, PUSHED_COLUMNS) for w in pushed.outcome.applied[:SHOWN]],
            PUSHED_COLUMNS,
            "_Wix already showed every target_",
            len(pushed.outcome.applied),
        )
    return metadata
