"""The weekly report (group ``monitoring``): the cron stock-sync service's ``sync_monitor.py --weekly-report``."""

import base64
import io
from datetime import timedelta
from pathlib import Path

import pandas as pd
from dagster import AssetExecutionContext, AssetsDefinition, MaterializeResult, MetadataValue, asset

from inventory_pipeline.clock import utcnow
from inventory_pipeline.defs.monitoring import store
from inventory_pipeline.resources.database import InventoryDatabase
from inventory_pipeline.resources.notify import NotifierResource
from inventory_pipeline.settings import Settings

REPORTS_URL = "/reports/"


def chart(daily: pd.DataFrame, days: list) -> bytes:
    """Two panels over the week's seven days: stock rows synced per day and source, and the share of
    that day's syncs that succeeded."""
    # Imported here: matplotlib costs every run process ~27 MB, and only this weekly chart needs it.
    import matplotlib

    matplotlib.use("Agg")  # files only, no screen
    from matplotlib import pyplot as plt

    figure, (top, bottom) = plt.subplots(2, 1, figsize=(8, 6), sharex=True)
    positions = range(len(days))
    groups = list(daily.groupby("source"))
    width = 0.8 / max(1, len(groups))
    for n, (source, rows) in enumerate(groups):
        by_day = rows.set_index("day").reindex(days)
        top.bar(
            [p - 0.4 + width * (n + 0.5) for p in positions],
            by_day["records_processed"].fillna(0),
            width=width,
            label=source,
        )
        bottom.plot(list(positions), by_day["success_rate"] * 100, marker="o", label=source)
    top.set_title("Stock rows synced per day")
    bottom.set_title("Syncs that succeeded, %")
    bottom.set_ylim(0, 105)
    bottom.set_xticks(list(positions), [f"{d:%a %d.%m}" for d in days])
    for axis in (top, bottom):
        axis.grid(alpha=0.3)
        if not daily.empty:
            axis.legend()
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    plt.close(figure)
    return buffer.getvalue()


def build_report_asset(settings: Settings) -> AssetsDefinition:
    @asset(
        name="weekly_report",
        group_name="monitoring",
        # It reads the ledger, its anomalies and events, and the Wix push log.
        deps=["inventory_data", "stock_anomalies", "stock_events", "wix_stock_push"],
        kinds={"pandas"},
        description="Per source over the last 7 days: syncs, success rate, mean duration, records processed, "
        "stale SKUs, anomalies; Wix writes and alerts sent; a chart of the week. Shown here and "
        "sent by e-mail as HTML.",
    )
    def weekly_report(
        context: AssetExecutionContext, database: InventoryDatabase, notifier: NotifierResource
    ) -> MaterializeResult:
        now = utcnow()
        since = now - timedelta(days=7)
        table, daily, totals = store.week_figures(database.engine, since, now, settings.max_sync_age_hours)
        png = chart(daily, [(now - timedelta(days=n)).date() for n in range(6, -1, -1)])
        folder = Path(settings.report_dir)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"weekly_report_{now:%Y%m%d}.png"
        path.write_bytes(png)
        markdown = table.to_markdown(index=False) if not table.empty else "_no syncs this week_"
        alerts = f"alerts sent {totals['alerts_sent']}, recorded without a channel {totals['alerts_recorded_only']}"
        wix = f"Wix writes applied {totals['wix_writes_applied']}, failed {totals['wix_writes_failed']}"
        image = base64.b64encode(png).decode()
        html = (
            f"<h2>Inventory pipeline: week {since:%Y-%m-%d} to {now:%Y-%m-%d}</h2>"
            f"{table.to_html(index=False) if not table.empty else '<p>No syncs this week.</p>'}"
            f"<p>{wix}; {alerts}.</p><img alt='week chart' src='data:image/png;base64,{image}'>"
        )
        delivery = notifier.send(
            f"Weekly inventory report {now:%Y-%m-%d}",
            f"{markdown}\n\n{wix}; {alerts}.",
            {"event": "WeeklyReport", **totals, "sources": table.to_dict("records")},
            html=html,
        )
        return MaterializeResult(
            metadata={
                # First and short, so that the UI shows the picture on the asset's page: the front that
                # serves the UI serves REPORT_DIR under /reports/ (make ui, deploy/nginx).
                "chart": MetadataValue.md(
                    f"![The week: stock rows synced and syncs that succeeded]({REPORTS_URL}{path.name})"
                ),
                "report": MetadataValue.md(f"{markdown}\n\n{wix}; {alerts}."),
                **totals,
                "sent_to": ", ".join(delivery.delivered)
                or (
                    f"nobody: every channel failed ({'; '.join(delivery.errors)[:300]}); the report is here only"
                    if notifier.channels
                    else "nobody: no channel is configured; the report is here only"
                ),
                "chart_file": MetadataValue.path(str(path.resolve())),
            }
        )

    return weekly_report
