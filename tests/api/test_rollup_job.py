"""The server fills the event rollup by itself, and its answers stay those of the raw events."""

from __future__ import annotations

import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from litestar.testing import TestClient

from pulsegate.app import create_app
from pulsegate.domain.goals import Goal
from pulsegate.domain.timestamps import now_ms, utc_datetime
from pulsegate.store import rollup
from pulsegate.store.database import Database
from pulsegate.store.goals import upsert_goal
from tests.helpers import app_cursor, new_api_key


def write_page_views(database_path: Path, views: list[tuple[datetime, str, str, str]]) -> None:
    """Page views (received_at, session, visitor, path) on a file no server has rolled up, as an
    older PulseGate left it."""
    database = Database.open(database_path)
    database.connection.executemany(
        "INSERT INTO events (received_at, session_id, visitor_id, type, path) VALUES (?, ?, ?, 'pageview', ?)",
        views,
    )
    database.close()


def test_a_server_rolls_up_an_older_file_and_answers_the_same(make_settings: Any) -> None:
    settings = make_settings(storage={"rollup_interval_seconds": 0.2})
    now = utc_datetime(now_ms())
    # Three days of page views on a file no server has rolled up (as an older PulseGate left it).
    views = [(now - timedelta(hours=hours, minutes=7), f"s{hours % 9}", f"v{hours % 5}", f"/p{hours % 4}")
             for hours in range(1, 72)]  # fmt: skip
    write_page_views(settings.database_path, views)
    expected_views = Counter(path for *_, path in views)
    expected_visitors = {
        path: len({visitor for _, _, visitor, p in views if p == path}) for path in expected_views
    }

    with TestClient(create_app(settings)) as client:
        deadline = time.monotonic() + 20
        # Caught up: every hour that had settled when the test began (ten minutes after its end).
        settled = rollup.floor_hour(now - rollup.SETTLE)
        with app_cursor(client) as cursor:
            while (coverage := rollup.coverage(cursor)) is None or coverage.frontier < settled:
                assert time.monotonic() < deadline, "the rollup job did not catch up"
                time.sleep(0.1)
            stored = cursor.execute("SELECT sum(views) FROM page_facts").fetchall()[0][0]
        assert stored == sum(1 for at, *_ in views if at < coverage.frontier) > 0
        response = client.get(
            "/analytics/breakdown",
            params={"dimension": "page", "period": "7d", "metrics": "visitors,pageviews"},
            headers={"X-API-Key": new_api_key(settings)},
        )
        assert response.status_code == 200, response.text
        rows = {row["value"]: row for row in response.json()["rows"]}
        assert {path: row["pageviews"] for path, row in rows.items()} == dict(expected_views)
        assert {path: row["visitors"] for path, row in rows.items()} == expected_visitors


def test_the_rollup_job_holds_the_goal_facts_of_a_goal_added_while_it_runs(make_settings: Any) -> None:
    settings = make_settings(storage={"rollup_interval_seconds": 0.2})
    now = utc_datetime(now_ms())
    views = [(now - timedelta(hours=hours, minutes=7), f"s{hours}", f"v{hours % 5}", f"/docs/{hours % 3}")
             for hours in range(1, 30)]  # fmt: skip
    write_page_views(settings.database_path, views)
    rule = rollup.goal_rule("page", None, None, None, "/docs/*")
    with TestClient(create_app(settings)) as client:
        with app_cursor(client) as cursor:
            upsert_goal(cursor, Goal(name="Docs", kind="page", page="/docs/*"), now)
        deadline = time.monotonic() + 20
        with app_cursor(client) as cursor:
            while (coverage := rollup.coverage(cursor)) is None or rule not in coverage.goal_rules:
                assert time.monotonic() < deadline, "the rollup job did not hold the goal's rule"
                time.sleep(0.1)
            stored = cursor.execute("SELECT sum(hits) FROM goal_facts WHERE rule = ?", [rule]).fetchall()[0][
                0
            ]
        assert stored == sum(1 for at, *_ in views if at < coverage.frontier) > 0
        response = client.get("/analytics/goals", headers={"X-API-Key": new_api_key(settings)})
        assert response.status_code == 200, response.text
        (docs,) = response.json()["goals"]
        assert (docs["conversions"], docs["visitors"]) == (len(views), 5)
