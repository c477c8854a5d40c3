"""GET /analytics/anomalies and `pulsegate anomalies scan` on a database with a broken form."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar.testing import TestClient
from typer.testing import CliRunner

from cli.main import app as cli_app
from pulsegate.app import create_app
from tests.api.anomaly_fixture import seed_broken_form
from tests.helpers import chdb_url, clickhouse_environ, new_api_key
from tests.windows import wait_for_fresh_window


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
        secret = new_api_key(settings, name="t")
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
        scoped = new_api_key(settings, "globex", name="g")
        assert client.get("/analytics/anomalies", headers={"X-API-Key": scoped}).json()["findings"] == []
        bad = client.get(
            "/analytics/anomalies", params={"sensitivity": "paranoid"}, headers={"X-API-Key": secret}
        )
        assert bad.status_code == 400 and bad.json()["error"].startswith("sensitivity:")
        assert client.get("/analytics/anomalies").status_code == 401


def test_on_clickhouse_the_same_form_is_found(
    tmp_path: Path, make_settings: Any, unique_database: str
) -> None:
    """The same database copied into ClickHouse (chDB) by `storage copy`: the API and the CLI find
    the same finding there."""
    wait_for_fresh_window(3600, margin=30)
    database = tmp_path / "broken.duckdb"
    seed_broken_form(database)
    secret = new_api_key(make_settings(storage={"database": str(database)}), name="t")  # copied along
    url = chdb_url(unique_database)
    copied = CliRunner().invoke(cli_app, ["storage", "copy", "--to", url, "--database", str(database)])
    assert copied.exit_code == 0, copied.output
    on_clickhouse = clickhouse_environ(url)
    scanned = CliRunner().invoke(cli_app, ["anomalies", "scan", "--json"], env=on_clickhouse)
    assert scanned.exit_code == 1 and '"kind":"submission_drop"' in scanned.output, scanned.output
    settings = make_settings(storage={"engine": "clickhouse"}, clickhouse={"url": url})
    with TestClient(create_app(settings)) as client:
        body = client.get(
            "/analytics/anomalies", params={"window": "6h"}, headers={"X-API-Key": secret}
        ).json()
    assert [(f["kind"], f["project"], f["observed"], f["expected"]) for f in body["findings"]] == [
        ("submission_drop", "acme", 0, 12)
    ]
