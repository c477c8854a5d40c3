"""Pruned events archived to Parquet still count in analytics when the archive is configured."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
from litestar.testing import TestClient

from pulsegate.app import create_app
from pulsegate.domain.timestamps import now_ms, utc_datetime
from pulsegate.ops.runner import run_operation
from pulsegate.ops.storage import PRUNE, PruneArgs
from tests.helpers import app_cursor, app_rows, app_runtime, new_api_key


def test_archived_events_are_still_counted(make_settings: Any, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    settings = make_settings(retention={"archive_dir": str(archive)})
    with TestClient(create_app(settings)) as client:
        now = utc_datetime(now_ms())
        with app_cursor(client) as cursor:
            appender = cursor.appender(
                "events", columns=["received_at", "session_id", "visitor_id", "type", "path"]
            )
            appender.append_rows([(now - timedelta(days=days, hours=3), f"s{days}", "v", "pageview", "/old")
                                  for days in range(1, 60)])  # fmt: skip
            appender.flush()
        secret = new_api_key(settings, name="t")
        headers = {"X-API-Key": secret}

        def page_views() -> int:
            # Page views by page read the events themselves (the overview reads session summaries).
            body = client.get("/analytics/pages/top", params={"period": "90d"}, headers=headers).json()
            return sum(page["views"] for page in body["pages"])

        assert page_views() == 59
        pruned = run_operation(settings, PRUNE, PruneArgs(older_than_days=30, archive_dir=str(archive)))
        assert pruned.events == 30  # days 30..59 (each 3 hours past the day mark)
        assert page_views() == 59  # 29 in the table, 30 read from the Parquet archive
        table_only = app_rows(client, "SELECT count(*) FROM events")
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
        assert app_runtime(restarted).tracking.open_sessions == 1


def test_scheduled_retention_prunes_and_archives_while_serving(make_settings: Any, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    # 0.0005 h = 1.8 s between runs, so the schedule fires inside the test.
    settings = make_settings(
        retention={"archive_dir": str(archive), "events_older_than_days": 30, "run_every_hours": 0.0005}
    )
    now = utc_datetime(now_ms())
    ages_days = list(range(1, 60))
    expected_pruned = sum(1 for days in ages_days if days >= 30)  # each row 3 hours past its day mark
    with TestClient(create_app(settings)) as client, app_cursor(client) as cursor:
        appender = cursor.appender(
            "events", columns=["received_at", "session_id", "visitor_id", "type", "path"]
        )
        appender.append_rows([(now - timedelta(days=days, hours=3), f"s{days}", "v", "pageview", "/old")
                              for days in ages_days])  # fmt: skip
        appender.flush()

        def table_count() -> int:
            return cursor.execute("SELECT count(*) FROM events").fetchall()[0][0]

        deadline = time.monotonic() + 20
        while table_count() != len(ages_days) - expected_pruned and time.monotonic() < deadline:
            time.sleep(0.2)
        assert table_count() == len(ages_days) - expected_pruned
        archived = duckdb.sql(f"SELECT count(*) FROM read_parquet('{archive}/**/*.parquet')").fetchall()
        assert archived == [(expected_pruned,)]
        # The server kept answering meanwhile, and analytics still count the archived rows.
        secret = new_api_key(settings, name="t")
        pages = client.get("/analytics/pages/top", params={"period": "90d"}, headers={"X-API-Key": secret})
        assert pages.json()["pages"] == [
            {"path": "/old", "views": len(ages_days), "visitors": 1, "average_engaged_ms": 0.0}
        ]
