"""A `make_settings` fixture that runs a module's tests on both engines: import it into a test
module (`from tests.engines import make_settings_on_both_engines`) and each of its tests that asks
for `make_settings` runs on DuckDB and on ClickHouse (through chDB)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pulsegate.config import Settings
from tests.helpers import on_engine


@pytest.fixture(name="make_settings", params=["duckdb", "clickhouse"])
def make_settings_on_both_engines(
    request: pytest.FixtureRequest, make_settings: Callable[..., Settings], unique_database: str
) -> Callable[..., Settings]:
    return on_engine(make_settings, request.param, unique_database)
