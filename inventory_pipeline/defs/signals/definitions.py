"""The signals domain: the fast path's job and sensor (the Ozon receiver runs beside the webserver)."""

from dagster import Definitions, in_process_executor, job

from inventory_pipeline.defs.signals.fast_path import build_fast_path_op
from inventory_pipeline.defs.signals.sensors import JOB, build_signals_sensor
from inventory_pipeline.settings import Settings


def build_defs(settings: Settings) -> Definitions:
    apply_stock_signals = build_fast_path_op(settings)

    # Not partitioned: one run per account at a time is the sensor's rule, and a fast-path run must not
    # queue behind its account's full sync (the production run queue allows one run per partition).
    @job(
        name=JOB,
        executor_def=in_process_executor,
        tags={"signals/job": "fast_path"},
        description="The fast path: one account's queued change signals (Ozon pushes, WB orders) re-read, "
        "applied to the ledger and pushed to Wix within a minute. The full syncs stay the reconciliation.",
    )
    def stock_fast_path() -> None:
        apply_stock_signals()

    return Definitions(jobs=[stock_fast_path], sensors=[build_signals_sensor(settings, stock_fast_path)])
