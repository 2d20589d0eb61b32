"""The weekly report: figures from the week's logs, a real PNG chart, an HTML mail to a real SMTP server."""

from __future__ import annotations

from pathlib import Path

import requests

from inventory_pipeline_tests.support.pipeline import make_pipeline
from inventory_pipeline_tests.support.servers import nginx_front
from inventory_pipeline_tests.test_sales_and_events import mailbox  # noqa: F401 - a fixture


def test_the_week_in_numbers_a_chart_and_a_mail(monkeypatch, sandbox, sqlite_url, tmp_path, mailbox):  # noqa: F811
    p = make_pipeline(
        monkeypatch,
        sandbox,
        sqlite_url,
        REPORT_DIR=str(tmp_path),
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(mailbox.port),
        SMTP_STARTTLS="0",
        ALERT_EMAIL="ops@example.com",
        WIX_SITE_ID="site-v1",
        WIX_MAX_ZERO_SHARE="0.9",
        WIX_MAX_TOTAL_CHANGE="5",
    )
    assert p.run().success
    assert p.run().success
    p.faults("500@/wb/content")
    assert not p.run("stock_sync_wb").success
    result = p.defs.resolve_job_def("weekly_report_job").execute_in_process(instance=p.instance)
    assert result.success
    meta = result.asset_materializations_for_node("weekly_report")[0].metadata
    report = meta["report"].value
    lines = {line.split("|")[1].strip(): line for line in report.splitlines() if line.startswith("| ")}
    assert "100" in lines["ozon"] and "66.7" in lines["wb"]  # 2 of 2 Ozon syncs, 2 of 3 WB syncs succeeded
    assert meta["wix_writes_applied"].value > 0 and meta["sent_to"].value == "email"
    chart = Path(meta["chart_file"].value)
    assert chart.read_bytes().startswith(b"\x89PNG") and chart.stat().st_size > 5000
    # The picture is on the asset's page: a short markdown image (the UI renders those inline) that the
    # UI's front serves from REPORT_DIR, behind the same password.
    picture = meta["chart"].value
    assert picture.startswith("![") and picture.endswith(f"(/reports/{chart.name})") and len(picture) < 1000
    assert "base64" not in meta["report"].value and next(iter(meta)) == "chart"
    with nginx_front("127.0.0.1:9", {"operator": "pw"}, tmp_path / "front", reports=tmp_path) as front:
        served = requests.get(f"{front}/reports/{chart.name}", auth=("operator", "pw"), timeout=10)
        assert served.status_code == 200 and served.content == chart.read_bytes()
        assert served.headers["Content-Type"] == "image/png"
        assert requests.get(f"{front}/reports/{chart.name}", timeout=10).status_code == 401
    mail = mailbox.messages[-1]
    assert "Weekly inventory report" in mail and "text/html" in mail and "<table" in mail
