"""The app on the ClickHouse engine (chDB in the process): tracking and health answer as on DuckDB;
what is not on ClickHouse yet answers 501 naming itself, never a 500."""

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


def test_what_is_not_on_clickhouse_yet_says_so(clickhouse_client: TestClient[Any]) -> None:
    lead = clickhouse_client.post(
        "/lead.capture", json={"submission_id": "late-0001", "email": "a@example.com"}
    )
    assert lead.status_code == 501
    assert "Lead capture is not available on storage.engine = 'clickhouse' yet" in lead.json()["error"]
