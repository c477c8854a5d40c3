"""Shared fixtures: a settings factory on a temporary database, and an in-process API client."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from pulsegate.app import create_app
from pulsegate.config import Settings, load_settings
from tests.clickhouse_endpoint import ClickHouseEndpoint, start_endpoint
from tests.helpers import chdb_url, databases_in, drop_databases, shared_chdb_databases

# The CLI's tables are as wide as the terminal. Tests read them at 200 columns, whether pytest
# runs in a terminal or in pytest-xdist's workers, which have none (a test that wants a narrow
# table sets COLUMNS itself).
os.environ.setdefault("COLUMNS", "200")


@pytest.fixture
def database_path(tmp_path: Path) -> Path:
    """Where this test's DuckDB file lives (not created yet)."""
    return tmp_path / "data" / "pulsegate.duckdb"


@pytest.fixture
def make_settings(database_path: Path) -> Callable[..., Settings]:
    """Settings on this test's database, with per-section overrides."""

    def make(**sections: dict[str, Any]) -> Settings:
        overrides: dict[str, dict[str, Any]] = {"storage": {"database": str(database_path)}}
        for section, values in sections.items():
            overrides.setdefault(section, {}).update(values)
        return load_settings(None, environ={}, overrides=overrides)

    return make


@pytest.fixture(scope="session")
def clickhouse_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClickHouseEndpoint]:
    """ClickHouse's HTTP interface, served by chDB in a process of its own (tests/clickhouse_http.py);
    each test takes a database of its own (`unique_database`)."""
    endpoint = start_endpoint(tmp_path_factory.mktemp("clickhouse-endpoint"))
    yield endpoint
    endpoint.stop()


@pytest.fixture(autouse=True)
def _drop_the_chdb_databases_a_test_made(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test on chDB makes a database in the process's one chDB store (or the endpoint's), and
    every database left there slows every later statement: with 150 of them, opening a store took
    6.5 s rather than 0.4 (a full run's ClickHouse tests had got slower as it went on). Those of
    fixtures wider than the test (a module's app) were made before and stay."""
    endpoint = (
        request.getfixturevalue("clickhouse_endpoint")
        if "clickhouse_endpoint" in request.fixturenames
        else None
    )
    shared_before = shared_chdb_databases()
    endpoint_before = databases_in(endpoint.store) if endpoint else set()
    yield
    if made := shared_chdb_databases() - shared_before:
        drop_databases(chdb_url("default"), made)
    if endpoint and (made := databases_in(endpoint.store) - endpoint_before):
        drop_databases(endpoint.url("default"), made)


@pytest.fixture
def unique_database(request: pytest.FixtureRequest) -> str:
    """A ClickHouse database name for this test alone."""
    return "t_" + hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:16]


@pytest.fixture
def client(make_settings: Callable[..., Settings]) -> Iterator[TestClient[Any]]:
    """An in-process client for the full app, lifespan included."""
    with TestClient(create_app(make_settings())) as test_client:
        yield test_client
