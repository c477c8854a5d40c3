"""`?` marks to ClickHouse's typed placeholders (store/clickhouse/params.py)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from pulsegate.store.clickhouse.params import BindError, bind, tsv_escape


def test_each_mark_becomes_a_typed_placeholder_in_order() -> None:
    sql, named = bind(
        "SELECT ? AND x IN (?, ?) AND t >= ? AND d = ? AND f < ? AND b = ?",
        ["a", 1, 1 << 63, datetime(2026, 1, 2, 3, 4, 5, 6000), date(2026, 1, 2), 0.5, True],
    )
    assert sql == (
        "SELECT {p0:String} AND x IN ({p1:Int64}, {p2:UInt64}) AND t >= {p3:DateTime64(6)} "
        "AND d = {p4:Date} AND f < {p5:Float64} AND b = {p6:Bool}"
    )
    assert named == {"p0": "a", "p1": 1, "p2": 1 << 63, "p3": "2026-01-02 03:04:05.006000",
                     "p4": "2026-01-02", "p5": 0.5, "p6": True}  # fmt: skip


def test_null_is_written_as_a_literal_not_bound() -> None:
    assert bind("SELECT ?, ?", [None, "x"]) == ("SELECT NULL, {p1:String}", {"p1": "x"})


def test_marks_inside_quotes_and_identifiers_are_text() -> None:
    sql, named = bind("SELECT '?', 'it''s ?', \"a?\", `b?`, 'esc\\'?', ?", [7])
    assert sql == "SELECT '?', 'it''s ?', \"a?\", `b?`, 'esc\\'?', {p0:Int64}" and named == {"p0": 7}


@pytest.mark.parametrize(("sql", "params"), [("SELECT ?, ?", [1]), ("SELECT ?", [1, 2])])
def test_marks_and_parameters_must_agree(sql: str, params: list[int]) -> None:
    with pytest.raises(BindError):
        bind(sql, params)


@pytest.mark.parametrize("value", [datetime(2026, 1, 1).astimezone(), 1 << 64, object()])
def test_values_without_a_clickhouse_type_are_refused(value: object) -> None:
    with pytest.raises(BindError):
        bind("SELECT ?", [value])


def test_strings_are_escaped_as_clickhouse_reads_parameters() -> None:
    assert tsv_escape("a\\b\tc\nd\re\0") == "a\\\\b\\tc\\nd\\re\\0"


def test_a_list_is_bound_as_json_text_read_into_an_array() -> None:
    sql, named = bind("SELECT ?, ?, ?", [["a", "it's"], [1, 2], []])
    assert sql == (
        "SELECT JSONExtract({p0:String}, 'Array(String)'), JSONExtract({p1:String}, 'Array(Int64)'), "
        "JSONExtract({p2:String}, 'Array(String)')"
    )
    assert named == {"p0": '["a","it\'s"]', "p1": "[1,2]", "p2": "[]"}
    with pytest.raises(BindError):
        bind("SELECT ?", [["a", 1]])
