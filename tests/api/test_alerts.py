"""Scheduled anomaly alerts: a broken form is posted to the webhook once, not on every scan; on
both engines (the seeded file copied into chDB for ClickHouse)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from pulsegate.app import create_app
from pulsegate.store.database import Database
from tests.api.anomaly_fixture import seed_broken_form
from tests.crm_receiver import CrmReceiver
from tests.helpers import app_rows, chdb_url, copy_everything, on_engine
from tests.windows import wait_for_fresh_window


@pytest.mark.parametrize("engine", ["duckdb", "clickhouse"])
def test_findings_are_posted_once_with_a_slack_text(
    make_settings: Any, database_path: Path, engine: str, unique_database: str
) -> None:
    wait_for_fresh_window(3600, margin=20)
    database_path.parent.mkdir(parents=True)
    seed_broken_form(database_path)
    if engine == "clickhouse":
        seeded = Database.open(database_path)
        try:
            copy_everything(seeded.connection, chdb_url(unique_database))
        finally:
            seeded.close()
    with CrmReceiver() as hook:
        settings = on_engine(make_settings, engine, unique_database)(
            alerts={"webhook_url": hook.url, "scan_interval_seconds": 1, "signing_secret": "a"}
        )
        with TestClient(create_app(settings)) as client:
            deadline = time.monotonic() + 10
            while not hook.received and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(3)  # three more scans: the same finding must not be posted again
            delivered = app_rows(client, "SELECT target, subject_id, status FROM deliveries")
    assert len(hook.received) == 1
    body = json.loads(hook.received[0].body)
    assert body["text"].startswith(
        "🔴 PulseGate critical: Lead submissions for project acme: 0 in the last 6 h"
    )
    assert body["finding"]["kind"] == "submission_drop"
    assert hook.received[0].headers["x-pulsegate-signature"].startswith("sha256=")
    assert delivered == [("alerts", "submission_drop:acme", "delivered")]
