"""The app on the ClickHouse engine (chDB in the process): tracking and health answer as on DuckDB;
lead capture links its session."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from pulsegate.app import create_app
from pulsegate.config import Settings
from tests.helpers import chdb_url


@pytest.fixture
def clickhouse_client(
    make_settings: Callable[..., Settings], unique_database: str
) -> Iterator[TestClient[Any]]:
    settings = make_settings(storage={"engine": "clickhouse"}, clickhouse={"url": chdb_url(unique_database)})
    with TestClient(create_app(settings)) as client:
        yield client


def test_tracking_and_health_work(clickhouse_client: TestClient[Any]) -> None:
    started = clickhouse_client.post("/track/session/start", json={"url": "https://a.test/"})
    assert started.status_code == 200
    session_id = started.json()["session_id"]
    event = clickhouse_client.post("/track/event", json={"session_id": session_id, "type": "click"})
    assert event.status_code == 200 and event.json()["accepted"] == 1
    ended = clickhouse_client.post(
        "/track/session/end", json={"session_id": session_id, "engaged_ms": 120_000}
    )
    # 35 for two engaged minutes, 3 for one interaction of five.
    assert ended.status_code == 200 and ended.json()["engagement_score"] == 38
    assert clickhouse_client.get("/health").status_code == 200
    unknown = clickhouse_client.post("/track/event", json={"session_id": "nope", "type": "click"})
    assert unknown.status_code == 404 and "Unknown session" in unknown.json()["error"]


def test_a_lead_is_captured_and_linked_to_its_session(clickhouse_client: TestClient[Any]) -> None:
    started = clickhouse_client.post("/track/session/start", json={"url": "https://a.test/?utm_source=mail"})
    lead = {
        "submission_id": "late-0001",
        "email": "a@example.com",
        "session_id": started.json()["session_id"],
    }
    captured = clickhouse_client.post("/lead.capture", json=lead)
    assert captured.status_code == 200, captured.text
    assert captured.json()["visitor_id"] == started.json()["visitor_id"]
    assert clickhouse_client.post("/lead.capture", json=lead).json() == captured.json()
