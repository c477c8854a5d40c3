"""Pruned events archived to Parquet still count in analytics when the archive is configured."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from litestar.testing import TestClient

from pulsegate.app import create_app
from pulsegate.domain.timestamps import now_ms, utc_datetime
from pulsegate.ops.keys import CreateKey
from pulsegate.ops.runner import run_operation
from pulsegate.ops.storage import PruneArgs


def test_archived_events_are_still_counted(make_settings: Any, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    settings = make_settings(retention={"archive_dir": str(archive)})
    with TestClient(create_app(settings)) as client:
        now = utc_datetime(now_ms())
        cursor = client.app.state.database.connection.cursor()
        appender = cursor.appender(
            "events", columns=["received_at", "session_id", "visitor_id", "type", "path"]
        )
        appender.append_rows([(now - timedelta(days=days, hours=3), f"s{days}", "v", "pageview", "/old")
                              for days in range(1, 60)])  # fmt: skip
        appender.flush()
        cursor.close()
        secret = run_operation(settings, "keys.create", CreateKey(name="t")).secret
        headers = {"X-API-Key": secret}

        def page_views() -> int:
            body = client.get("/analytics/overview", params={"period": "90d"}, headers=headers).json()
            return body["current"]["page_views"]

        assert page_views() == 59
        pruned = run_operation(
            settings, "storage.prune", PruneArgs(older_than_days=30, archive_dir=str(archive))
        )
        assert pruned.events == 30  # days 30..59 (each 3 hours past the day mark)
        assert page_views() == 59  # 29 in the table, 30 read from the Parquet archive
        table_only = (
            client.app.state.database.connection.cursor().execute("SELECT count(*) FROM events").fetchall()
        )
        assert table_only == [(29,)]
        storage = client.get("/analytics/storage", headers=headers).json()
        assert storage["archive_bytes"] > 0
        # An open session and a lead with a timeline: both read events through the archive view.
        sid = client.post("/track/session/start", json={"url": "https://e.com/"},
                          headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/132.0"}).json()["session_id"]  # fmt: skip
        lead = client.post(
            "/lead.capture", json={"submission_id": "arch-00001", "email": "a@example.com", "session_id": sid}
        ).json()
        detail = client.get(f"/analytics/leads/{lead['lead_id']}", headers=headers)
        assert detail.status_code == 200 and detail.json()["timeline"][0]["session_id"] == sid
    with TestClient(create_app(settings)) as restarted:  # rebuilds open sessions through the view
        assert restarted.app.state.tracking.open_sessions == 1
