"""retention.events_older_than_days while serving, on both engines: the server's schedule deletes
the events older than that (on ClickHouse any process may take a run) and answers meanwhile."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from litestar.testing import TestClient

from pulsegate.app import create_app
from pulsegate.config import Settings
from pulsegate.domain.timestamps import now_ms, utc_datetime
from tests.engines import make_settings_on_both_engines
from tests.helpers import app_cursor, app_rows, served_key, wait_for

__all__ = ["make_settings_on_both_engines"]  # the fixture: each test here runs on both engines
AGES_DAYS = range(1, 60)  # an event a day, each 3 hours past its day mark


def test_the_schedule_deletes_what_is_older_while_serving(make_settings: Callable[..., Settings]) -> None:
    # 0.0005 h = 1.8 s between runs, so the schedule fires inside the test.
    settings = make_settings(retention={"events_older_than_days": 30, "run_every_hours": 0.0005})
    now = utc_datetime(now_ms())
    kept = [days for days in AGES_DAYS if days < 30]
    with TestClient(create_app(settings)) as client:
        with app_cursor(client) as cursor:
            cursor.executemany(
                "INSERT INTO events (received_at, session_id, visitor_id, type, path) VALUES (?, ?, ?, ?, ?)",
                [
                    (now - timedelta(days=days, hours=3), f"s{days}", "v", "pageview", "/old")
                    for days in AGES_DAYS
                ],
            )
        wait_for(
            lambda: app_rows(client, "SELECT count(*) FROM events") == [(len(kept),)],
            timeout=30,
            what="the retention run",
        )
        key = served_key(client)
        pages = client.get("/analytics/pages/top", params={"period": "90d"}, headers={"X-API-Key": key})
        assert pages.status_code == 200
        assert [(page["path"], page["views"]) for page in pages.json()["pages"]] == [("/old", len(kept))]
