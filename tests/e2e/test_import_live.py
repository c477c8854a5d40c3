"""`pulsegate import plausible` into a running server (over its control socket), read back over HTTP
and in the dashboard (real Chromium): imported days marked, and a toggle that leaves them out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.cli.test_import_plausible import EXAMPLE, WINDOW, write_zip
from tests.e2e.running_server import RunningServer
from tests.e2e.test_dashboard import api, open_dashboard
from tests.helpers import cli, wait_for

pytestmark = pytest.mark.e2e


def test_an_import_into_a_running_server_shows_in_its_reports(server: RunningServer, tmp_path: Path) -> None:
    export = write_zip(tmp_path / "example_org_20240304.zip", EXAMPLE)
    done = cli("import", "plausible", str(export), "--project", "example", database=server.database)
    assert done.returncode == 0, done.stderr
    key = cli("keys", "create", "reader", "--quiet", database=server.database).stdout.strip()
    answer = httpx.get(
        f"{server.base_url}/analytics/overview", params=WINDOW, headers={"Authorization": f"Bearer {key}"}
    ).json()
    assert answer["imported"] == "included"
    assert answer["current"]["visitors"] == 12 + 9 + 15 and answer["current"]["sessions"] == 14 + 10 + 17
    assert answer["imported_range"] == {"from": "2024-03-01", "to": "2024-03-03"}
    # Removed while the server runs: its reports stop counting it at once.
    assert cli("import", "remove", "1", database=server.database).returncode == 0
    after = httpx.get(
        f"{server.base_url}/analytics/overview", params=WINDOW, headers={"Authorization": f"Bearer {key}"}
    ).json()
    assert after["imported"] is None and after["current"]["visitors"] == 0


def test_the_dashboard_marks_imported_days_and_turns_them_off(
    server: RunningServer, chromium: Any, tmp_path: Path
) -> None:
    export = write_zip(tmp_path / "example_org_20240304.zip", EXAMPLE)
    assert (
        cli("import", "plausible", str(export), "--project", "example", database=server.database).returncode
        == 0
    )
    key = cli("keys", "create", "dashboard", "--quiet", database=server.database).stdout.strip()
    page = open_dashboard(chromium, server, key, url="/dashboard?period=custom&from=2024-03-01&to=2024-03-03")
    visitors = api(server, key, "/analytics/overview", **WINDOW)["current"]["visitors"]
    assert visitors == 12 + 9 + 15
    wait_for(lambda: page.text_content("[data-metric=visitors] .value") == f"{visitors:,}", page=page)
    note = page.text_content("#imported-note")
    assert note.startswith("Includes imported data for 2024-03-01 to 2024-03-03"), note
    assert page.is_visible("#imported-toggle")
    assert page.locator("#daily-chart .bar.imported").count() == 3  # one bar per imported day

    page.uncheck("#include-imported")
    wait_for(lambda: page.text_content("[data-metric=visitors] .value") == "0", page=page)
    assert "is not counted here: include_imported=false" in page.text_content("#imported-note")
    assert "imported=0" in page.url
    assert page.locator("#daily-chart .bar.imported").count() == 0
    assert page.problems == []
