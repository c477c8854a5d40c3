"""`pulsegate import plausible` into a running server (over its control socket), read back over HTTP."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.cli.test_import_plausible import EXAMPLE, WINDOW, write_zip
from tests.e2e.running_server import RunningServer
from tests.helpers import cli

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
