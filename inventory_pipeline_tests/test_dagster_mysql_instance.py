"""The production ``deploy/dagster.yaml`` (dagster-mysql storage) against the test MariaDB server."""

from __future__ import annotations

import shutil

from dagster import AssetKey, DagsterInstance

from inventory_pipeline.settings import PROJECT_ROOT
from inventory_pipeline_tests.support.pipeline import make_pipeline


def test_materializes_through_an_instance_on_dagster_mysql(monkeypatch, tmp_path, mariadb, sandbox, sqlite_url):
    for name, value in mariadb.dagster_storage_env("dagster_storage").items():
        monkeypatch.setenv(name, value)
    shutil.copy(PROJECT_ROOT / "deploy" / "dagster.yaml", tmp_path / "dagster.yaml")
    pipeline = make_pipeline(monkeypatch, sandbox, sqlite_url)
    with DagsterInstance.from_config(str(tmp_path)) as instance:
        assert type(instance.run_storage).__name__ == "MySQLRunStorage"
        pipeline.instance = instance
        result = pipeline.run()
        assert result.success
        stored = instance.get_run_by_id(result.run_id)
        assert stored.is_success
        event = instance.get_latest_materialization_event(AssetKey("inventory_data"))
        assert event is not None and event.run_id == result.run_id
        assert event.asset_materialization.partition == "main"
        assert event.asset_materialization.metadata["ledger_rows"].value > 0
