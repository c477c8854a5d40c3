"""GET /analytics/anomalies and `pulsegate anomalies scan` on a database with a broken form."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from litestar.testing import TestClient
from typer.testing import CliRunner

from cli.main import app as cli_app
from pulsegate.app import create_app
from pulsegate.domain.timestamps import now_ms, utc_datetime
from pulsegate.ops.keys import CreateKey
from pulsegate.ops.runner import run_operation
from pulsegate.store.database import Database
from tests.windows import wait_for_fresh_window

HOUR = timedelta(hours=1)


def seed_broken_form(database: Path) -> None:
    """Five weeks of steady traffic for acme with 1 lead in 20 sessions, and no leads at all in
    the last 6 hours; globex steady throughout."""
    now = utc_datetime(now_ms())
    this_hour = now.replace(minute=0, second=0, microsecond=0)
    sessions, leads = [], []
    for hours_back in range(1, 35 * 24):
        hour = this_hour - hours_back * HOUR
        for project in ("acme", "globex"):
            for n in range(40):
                sessions.append((f"{project}-{hours_back}-{n}", "v", project, hour + n * timedelta(seconds=30),
                                 hour, "https://e.com/", False, False))  # fmt: skip
            if project == "globex" or hours_back > 6:
                for n in range(2):
                    leads.append((f"l-{project}-{hours_back}-{n}", f"l-{project}-{hours_back}-{n}",
                                  hour + timedelta(minutes=10 + n), project, False))  # fmt: skip
    db = Database.open(database)
    try:
        appender = db.connection.appender(
            "sessions",
            columns=["session_id", "visitor_id", "project", "started_at", "last_seen_at", "entry_url", "is_bot",
                     "is_hosting"],
        )  # fmt: skip
        appender.append_rows(sessions)
        appender.flush()
        appender = db.connection.appender(
            "leads", columns=["lead_id", "submission_id", "created_at", "project", "is_spam"]
        )
        appender.append_rows(leads)
        appender.flush()
    finally:
        db.close()


def test_api_and_cli_find_the_broken_form(tmp_path: Path, make_settings: Any, database_path: Path) -> None:
    wait_for_fresh_window(3600, margin=20)  # the scan's window is whole hours: stay inside one
    database_path.parent.mkdir(parents=True)
    seed_broken_form(database_path)
    # Offline first: the CLI opens the file itself.
    offline = CliRunner().invoke(cli_app, ["anomalies", "scan", "--json", "--database", str(database_path)])
    assert offline.exit_code == 1, offline.output
    assert '"kind":"submission_drop"' in offline.output and '"project":"acme"' in offline.output
    clean = CliRunner().invoke(
        cli_app, ["anomalies", "scan", "--project", "globex", "--database", str(database_path)]
    )
    assert clean.exit_code == 0 and "No anomalies" in clean.output

    settings = make_settings()
    with TestClient(create_app(settings)) as client:
        secret = run_operation(settings, "keys.create", CreateKey(name="t")).secret
        body = client.get(
            "/analytics/anomalies", params={"window": "6h"}, headers={"X-API-Key": secret}
        ).json()
        assert [(f["kind"], f["project"]) for f in body["findings"]] == [("submission_drop", "acme")]
        finding = body["findings"][0]
        assert (
            finding["observed"] == 0 and finding["expected"] == 12
        )  # 6 h x 40 sessions x (2 leads / 40 sessions)
        assert finding["message"] == "Lead submissions for project acme: 0 in the last 6 h, 12.0 expected"
        assert finding["severity"] == "critical"
        scoped = run_operation(settings, "keys.create", CreateKey(name="g", projects=["globex"])).secret
        assert client.get("/analytics/anomalies", headers={"X-API-Key": scoped}).json()["findings"] == []
        bad = client.get(
            "/analytics/anomalies", params={"sensitivity": "paranoid"}, headers={"X-API-Key": secret}
        )
        assert bad.status_code == 400 and bad.json()["error"].startswith("sensitivity:")
        assert client.get("/analytics/anomalies").status_code == 401
