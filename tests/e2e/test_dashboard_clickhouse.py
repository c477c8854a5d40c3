"""The dashboard in real Chromium against a real server on ClickHouse (chDB in the server's
process): the demo database, copied with `pulsegate storage copy`, shows the API's numbers, as the
DuckDB dashboard test holds them (test_dashboard.test_the_numbers_shown_are_the_api_s)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e import test_dashboard
from tests.e2e.running_server import RunningServer
from tests.helpers import cli_output, clickhouse_environ

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def on_clickhouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, str]]:
    folder = tmp_path_factory.mktemp("dashboard-clickhouse")
    database = folder / "demo.duckdb"
    cli_output("demo", "seed", "--sessions", "1500", "--days", "30", "--seed", "4", database=database)
    key = cli_output("keys", "create", "dashboard", "--quiet", database=database).strip()
    url = f"chdb://{folder / 'ch'}"
    cli_output("storage", "copy", "--to", url, database=database)  # the key goes along
    env = clickhouse_environ(url)
    server = RunningServer(None, folder, env=env, cwd=folder).start(timeout=60)
    yield server, key
    server.stop()


def test_the_dashboard_shows_the_api_s_numbers(
    chromium: Any, on_clickhouse: tuple[RunningServer, str]
) -> None:
    test_dashboard.test_the_numbers_shown_are_the_api_s(chromium, on_clickhouse)


def test_the_goals_funnel_and_leads_panels_too(
    chromium: Any, on_clickhouse: tuple[RunningServer, str]
) -> None:
    test_dashboard.test_the_goals_and_funnel_panels_show_the_api_s_numbers(chromium, on_clickhouse)
    test_dashboard.test_the_leads_section_shows_attribution_won_deals_forms_and_touches(
        chromium, on_clickhouse
    )
