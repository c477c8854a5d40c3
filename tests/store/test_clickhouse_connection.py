"""Both ways to ClickHouse (chDB in the process, a server over HTTP through clickhouse-connect) give
the same rows for the same `?` SQL, keep every string intact, and refuse bad statements as 503s."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pulsegate.domain.clickhouse_target import parse_target
from pulsegate.errors import StorageUnavailable
from pulsegate.store.clickhouse.connection import ClickHouse, ClickHouseError, connect
from tests.clickhouse_endpoint import ClickHouseEndpoint
from tests.helpers import chdb_url


@pytest.fixture(params=["chdb", "http"])
def connection(request: pytest.FixtureRequest, unique_database: str) -> Iterator[ClickHouse]:
    if request.param == "chdb":
        opened = connect(parse_target(chdb_url(unique_database)))
    else:
        endpoint: ClickHouseEndpoint = request.getfixturevalue("clickhouse_endpoint")
        opened = connect(parse_target(endpoint.url(unique_database)))
    opened.command("DROP TABLE IF EXISTS t")
    opened.command(
        "CREATE TABLE t (n Int64, s Nullable(String), at DateTime64(3), f Float64, b Bool) "
        "ENGINE = MergeTree ORDER BY n"
    )
    yield opened
    opened.close()


def test_rows_come_back_as_python_values(connection: ClickHouse) -> None:
    rows = [
        (1, "plain", datetime(2026, 1, 2, 3, 4, 5, 678000), 0.25, True),
        (2, None, datetime(2026, 1, 2), -1.5, False),
        (1 << 62, "", datetime(1999, 12, 31, 23, 59, 59), 0.0, True),
    ]
    connection.insert("t", ("n", "s", "at", "f", "b"), rows)
    assert connection.query("SELECT n, s, at, f, b FROM t ORDER BY n") == rows
    assert connection.query("SELECT n FROM t WHERE at >= ? AND s IS NULL", [datetime(2026, 1, 1)]) == [(2,)]
    assert connection.query("SELECT count() FROM t WHERE s = ? OR n = ?", ["plain", 1 << 62]) == [(2,)]


# The table is emptied by each example itself.
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=40))
def test_any_string_goes_in_and_is_found_by_parameter_unchanged(connection: ClickHouse, text: str) -> None:
    connection.command("TRUNCATE TABLE t")
    connection.insert("t", ("n", "s", "at", "f", "b"), [(7, text, datetime(2026, 1, 1), 0.0, False)])
    assert connection.query("SELECT s, ? FROM t WHERE s = ?", [text, text]) == [(text, text)]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(st.text(max_size=12), max_size=5))
def test_a_list_of_strings_comes_back_whole(connection: ClickHouse, values: list[str]) -> None:
    assert connection.query("SELECT ?, length(?)", [values, values]) == [(values, len(values))]


def test_a_refused_statement_is_a_storage_error(connection: ClickHouse) -> None:
    with pytest.raises(ClickHouseError) as raised:
        connection.query("SELECT no_such_function() FROM system.one WHERE 'secret-looking text' != ''")
    assert isinstance(raised.value, StorageUnavailable) and raised.value.status_code == 503
    # The reason, not the statement: an error answer never quotes the SQL.
    assert "no_such_function" in str(raised.value) and "secret-looking" not in str(raised.value)
    assert len(str(raised.value)) < 400


def test_a_wrong_password_is_refused_with_the_servers_reason(
    clickhouse_endpoint: ClickHouseEndpoint, unique_database: str
) -> None:
    url = clickhouse_endpoint.url(unique_database).replace("endpoint-secret", "wrong")
    with pytest.raises(ClickHouseError, match="Authentication failed") as raised:
        connect(parse_target(url))
    assert "wrong" not in str(raised.value)


def test_an_answer_comes_back_as_parquet(connection: ClickHouse, tmp_path: Path) -> None:
    """The raw answer `leads export --parquet` writes: a Parquet file DuckDB reads back whole."""
    answer = connection.raw("SELECT number AS n, toString(number) AS s FROM numbers(?)", [5], "Parquet")
    (tmp_path / "x.parquet").write_bytes(answer)
    read = duckdb.connect()
    try:
        rows = read.execute(
            f"SELECT n, s FROM read_parquet('{tmp_path / 'x.parquet'}') ORDER BY n"
        ).fetchall()
    finally:
        read.close()
    assert rows == [(n, str(n)) for n in range(5)]
