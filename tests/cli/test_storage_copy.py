"""`pulsegate storage copy`: a DuckDB file's rows arrive in ClickHouse (chDB here) as they were,
the same API key reads the same answers there, an interrupted copy goes on without a duplicate,
and a store holding other data is refused."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from litestar.testing import TestClient

from pulsegate.app import create_app
from pulsegate.config import load_settings
from pulsegate.domain.clickhouse_target import parse_target
from pulsegate.store.clickhouse import copy
from pulsegate.store.clickhouse.connection import ClickHouse, connect
from tests.e2e.running_server import RunningServer
from tests.helpers import chdb_url, clickhouse_environ, invoke, invoke_with

ROUTES = [
    ("/analytics/overview", {}),
    ("/analytics/breakdown", {"dimension": "source", "metrics": "visitors,sessions,bounce_rate,leads"}),
    ("/analytics/breakdown", {"dimension": "page", "metrics": "visitors,pageviews"}),
    ("/analytics/timeseries", {"interval": "day", "metrics": "sessions,visitors"}),
    ("/analytics/goals", {}),
    ("/analytics/leads", {"limit": "100"}),
]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A file with demo traffic, leads, goals, a funnel and an API key."""
    database = tmp_path_factory.mktemp("copy") / "p.duckdb"
    seeded = invoke(database, "demo", "seed", "--days", "6", "--sessions", "400")
    assert seeded.exit_code == 0, seeded.output
    created = invoke(database, "keys", "create", "reader", "-q")
    assert created.exit_code == 0, created.output
    return database, created.output.strip()


def copy_into(database: Path, url: str, *extra: str) -> dict[str, Any]:
    result = invoke(database, "storage", "copy", "--to", url, "--json", *extra)
    assert result.exit_code == 0, result.output
    answer: dict[str, Any] = json.loads(result.stdout)
    return answer


def comparable(value: Any) -> Any:
    """A value as both engines give it: times as text to the millisecond (chDB gives a time inside
    an array of tuples as text), numbers as floats, JSON text parsed, structs as lists."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat(sep=" ", timespec="milliseconds")
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, dict):
        return [comparable(item) for item in value.values()]
    if isinstance(value, list | tuple):
        return [comparable(item) for item in value]
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def rows_of(run: Callable[[str], list[tuple[Any, ...]]], table: str, columns: list[str]) -> list[Any]:
    quoted = ", ".join(f'"{name}"' for name in columns)
    return sorted((comparable(row) for row in run(f"SELECT {quoted} FROM {table}")), key=repr)


def test_every_row_arrives_as_it_was_and_the_key_reads_the_same_answers(
    seeded: tuple[Path, str], unique_database: str
) -> None:
    database, key = seeded
    url = chdb_url(unique_database)
    done = copy_into(database, url)
    source = duckdb.connect(str(database), read_only=True)
    clickhouse: ClickHouse = connect(parse_target(url))
    try:
        copied = {item["table"]: item for item in done["tables"]}
        assert done["resumed"] is False and set(copied) == {table.source for table in copy.COPIED_TABLES}
        for table in copy.COPIED_TABLES:
            expected = source.execute(f"SELECT count(*) FROM {table.source}").fetchone()[0]  # type: ignore[index]
            assert copied[table.source]["rows"] == copied[table.source]["in_clickhouse"] == expected
            columns = copy.shared_columns(source, clickhouse, table)
            assert len(columns) > 1, table
            read_back = table.counted or table.target
            assert rows_of(clickhouse.query, read_back, columns) == rows_of(
                lambda sql: source.execute(sql).fetchall(), table.source, columns
            ), table.source
        # The tables with something to check hold it.
        assert all(copied[name]["rows"] > 0 for name in ("sessions", "events", "leads", "goals", "api_keys"))
        salt = source.execute("SELECT value FROM meta WHERE key = 'secret:visitor_salt'").fetchall()
        kept = clickhouse.query("SELECT value FROM meta WHERE key = 'secret:visitor_salt'")
        assert [tuple(row) for row in kept] == [tuple(row) for row in salt]
    finally:
        source.close()
        clickhouse.close()

    # Whole days, so both servers ask the same window whenever they ask.
    today = datetime.now(UTC).date()
    window = {"from": (today - timedelta(days=10)).isoformat(), "to": (today + timedelta(days=1)).isoformat()}
    answers = {}
    for engine, clickhouse_url in (("duckdb", ""), ("clickhouse", url)):
        settings = load_settings(None, environ={}, overrides={
            "storage": {"database": str(database), "engine": engine, "rollup_interval_seconds": 0},
            "clickhouse": {"url": clickhouse_url},
        })  # fmt: skip
        with TestClient(create_app(settings)) as client:
            headers = {"Authorization": f"Bearer {key}"}
            answers[engine] = [
                client.get(route, params={**window, **params}, headers=headers) for route, params in ROUTES
            ]
    for (route, _), on_duckdb, on_clickhouse in zip(
        ROUTES, answers["duckdb"], answers["clickhouse"], strict=True
    ):
        assert on_duckdb.status_code == on_clickhouse.status_code == 200, (route, on_clickhouse.text)
        assert on_clickhouse.json() == on_duckdb.json(), route


def test_an_interrupted_copy_goes_on_without_a_duplicate(
    seeded: tuple[Path, str], unique_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    database, _ = seeded
    url = chdb_url(unique_database)
    # Killed after the third batch of events reached ClickHouse, before its place was kept: the
    # next run inserts that batch again, and ClickHouse drops it by its token.
    original, places = copy.write_place, []

    def dies_after_an_insert(clickhouse: ClickHouse, table: copy.CopiedTable, place: copy.Place) -> None:
        if table.source == "events" and len(places) == 2:
            raise KeyboardInterrupt
        if table.source == "events":
            places.append(place)
        original(clickhouse, table, place)

    monkeypatch.setattr(copy, "write_place", dies_after_an_insert)
    stopped = invoke(database, "storage", "copy", "--to", url, "--batch-rows", "500")
    assert stopped.exit_code == 130 and "run the same command again" in stopped.stderr
    monkeypatch.setattr(copy, "write_place", original)

    done = copy_into(database, url, "--batch-rows", "500")
    tables = {item["table"]: item for item in done["tables"]}
    events = tables["events"]
    assert done["resumed"] is True
    assert events["in_clickhouse"] == events["rows"] > 1500
    # This run began at the batch whose place was not kept: the one inserted twice.
    assert events["copied_now"] == events["rows"] - 1000
    assert tables["sessions"]["copied_now"] == 0  # finished before the interruption
    again = copy_into(database, url)
    assert again["resumed"] is True and sum(item["copied_now"] for item in again["tables"]) == 0


def test_a_store_with_other_rows_is_refused_and_left_alone(
    seeded: tuple[Path, str], unique_database: str, tmp_path: Path
) -> None:
    database, _ = seeded
    url = chdb_url(unique_database)
    clickhouse = connect(parse_target(url))
    try:
        copy_into(database, url)  # migrates the store; then a server's own traffic lands there
        other = tmp_path / "other.duckdb"
        assert invoke(other, "demo", "seed", "--days", "1", "--sessions", "5").exit_code == 0
        refused = invoke(other, "storage", "copy", "--to", url)
        assert refused.exit_code == 2 and "holds a copy of another file" in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1

        fresh_url = chdb_url(unique_database + "_fresh")
        copy_into(other, fresh_url)
        fresh = connect(parse_target(fresh_url))
        try:
            fresh.command("TRUNCATE TABLE meta")  # as if a server, not a copy, had written the rows
            counted = fresh.query("SELECT count() FROM events")[0][0]
            again = invoke(other, "storage", "copy", "--to", fresh_url)
            assert again.exit_code == 2 and "already has rows in" in again.stderr, again.output
            assert fresh.query("SELECT count() FROM events")[0][0] == counted
        finally:
            fresh.close()
    finally:
        clickhouse.close()


def test_storage_commands_on_clickhouse_say_what_they_are_for(
    seeded: tuple[Path, str], unique_database: str
) -> None:
    database, _ = seeded
    url = chdb_url(unique_database)
    copy_into(database, url)
    engine = clickhouse_environ(url)
    stats = invoke_with(engine, database, "storage", "stats", "--json")
    assert stats.exit_code == 0, stats.output
    rows = {table["table"]: table["rows"] for table in json.loads(stats.stdout)["tables"]}
    source = duckdb.connect(str(database), read_only=True)
    try:
        assert rows["events"] == source.execute("SELECT count(*) FROM events").fetchone()[0]  # type: ignore[index]
    finally:
        source.close()
    compact = invoke_with(engine, database, "storage", "compact")
    assert compact.exit_code == 2 and "ClickHouse merges its parts" in compact.stderr, compact.output
    assert len(compact.stderr.strip().splitlines()) == 1


@pytest.mark.e2e
def test_a_file_a_server_is_running_on_is_refused(tmp_path: Path, unique_database: str) -> None:
    database = tmp_path / "served.duckdb"
    assert invoke(database, "keys", "create", "first").exit_code == 0
    server = RunningServer(database, tmp_path).start()
    try:
        refused = invoke(database, "storage", "copy", "--to", chdb_url(unique_database))
    finally:
        server.stop()
    assert refused.exit_code == 2 and "A server is running on" in refused.stderr, refused.output
    assert "pulsegate backup" in refused.stderr
