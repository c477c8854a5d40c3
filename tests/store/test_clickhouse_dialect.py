"""DuckDB's SQL said in ClickHouse's words (store/clickhouse/dialect.py): names rewritten, quoted
text left alone, and the functions whose meaning differs give DuckDB's answers on chDB."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import duckdb
import pytest

from pulsegate.domain.clickhouse_target import parse_target
from pulsegate.store.clickhouse.connection import connect
from pulsegate.store.clickhouse.cursor import ClickHouseCursor
from pulsegate.store.clickhouse.dialect import translate
from tests.helpers import chdb_url


def test_names_are_rewritten_and_quoted_text_is_not() -> None:
    sql = "SELECT any_value(x), strpos(path, 'strpos(') , (key >> 16), NULL::VARCHAR FROM t"
    assert translate(sql) == (
        "SELECT any(x), position(path, 'strpos(') , bitShiftRight(key, 16), NULL::Nullable(String) FROM t"
    )
    assert translate("json_extract_string(props, ?)") == "JSON_VALUE(coalesce(props, ''), ?)"
    assert translate("SELECT 'json_extract_string(props, 1)'") == "SELECT 'json_extract_string(props, 1)'"
    assert translate("SELECT * EXCLUDE (a) FROM e ORDER BY e.rowid, rowid") == (
        "SELECT * EXCEPT (a) FROM e ORDER BY (e._block_number, e._block_offset), (_block_number, _block_offset)"
    )


# No JSON null: tracking drops a property whose value is not a string, number or boolean
# (domain/tracking.clean_props), and the engines differ there (ClickHouse gives 'null').
ROWS = [
    '{"plan": "pro", "seats": 3}',
    '{"seats": 3}',
    '{"plan": ""}',
    None,
    "{}",
    '{"plan": 1.5, "seats": true}',
]
QUERIES = [
    ("SELECT n, json_extract_string(props, ?) FROM t ORDER BY n", ['$."plan"']),
    ("SELECT n, json_extract_string(props, '$.seats') FROM t ORDER BY n", []),
    ("SELECT count(*) FROM t WHERE json_extract_string(props, ?) IS NULL", ["$.plan"]),
    ("SELECT median(n), any_value(n) IS NOT NULL FROM t", []),
]


@pytest.fixture
def both(unique_database: str) -> Iterator[tuple[Any, ClickHouseCursor]]:
    duck = duckdb.connect()
    duck.execute("CREATE TABLE t (n INTEGER, props VARCHAR)")
    duck.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(ROWS)))
    clickhouse = connect(parse_target(chdb_url(unique_database)))
    clickhouse.command("DROP TABLE IF EXISTS t")
    clickhouse.command("CREATE TABLE t (n Int32, props Nullable(String)) ENGINE = MergeTree ORDER BY n")
    clickhouse.insert("t", ("n", "props"), list(enumerate(ROWS)))
    yield duck, ClickHouseCursor(clickhouse)
    duck.close()
    clickhouse.close()


@pytest.mark.parametrize(("sql", "params"), QUERIES)
def test_the_engines_agree(both: tuple[Any, ClickHouseCursor], sql: str, params: list[Any]) -> None:
    duck, clickhouse = both
    expected = duck.execute(sql, params).fetchall()
    got = clickhouse.execute(sql, params).fetchall()
    assert [tuple(row) for row in got] == [tuple(row) for row in expected]
