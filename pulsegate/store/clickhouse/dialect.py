"""DuckDB's words in the store's SQL, said in ClickHouse's: the few functions and casts the two
spell differently, rewritten before a statement runs on the ClickHouse store (cursor.py).

Only names are rewritten, never structure: where the engines differ in more than a name, the
store's function asks `is_clickhouse(connection)` and says it in ClickHouse's own way.
"""

from __future__ import annotations

import re

# (DuckDB, ClickHouse), each a whole word followed by "(" or a cast's type name.
_FUNCTIONS = {
    "strpos": "position",
    # HyperLogLog, as DuckDB's: at 50M events, visitors per page with `uniq` took 1.27 s, with
    # uniqHLL12 0.42 s, within 4.5% of the exact count at most (DuckDB's estimate: 8.6%).
    "approx_count_distinct": "uniqHLL12",
    "hash": "cityHash64",
    "bool_or": "max",
    "list": "groupArray",
    "regexp_full_match": "match",
    "starts_with": "startsWith",
    "json_keys": "JSONExtractKeys",
    "unnest": "arrayJoin",
    "any_value": "any",
    "epoch_ms": "toUnixTimestamp64Milli",
    "list_contains": "has",
    # DuckDB's median interpolates between the two middle values; ClickHouse's plain `median` is
    # an estimate from a sample, its exact inclusive quantile is DuckDB's.
    "median": "quantileExactInclusive(0.5)",
}
_FUNCTION_CALL = re.compile(r"\b(" + "|".join(_FUNCTIONS) + r")\(", re.IGNORECASE)
# Nullable, since DuckDB casts NULL as readily as a value (`NULL::VARCHAR AS event`); a hash is
# never NULL.
_CASTS = {"UBIGINT": "UInt64", "TIMESTAMP": "Nullable(DateTime64(6))", "VARCHAR": "Nullable(String)",
          "BIGINT": "Nullable(Int64)", "INTEGER": "Nullable(Int32)", "DOUBLE": "Nullable(Float64)",
          "BOOLEAN": "Nullable(Bool)", "event_type": "String"}  # fmt: skip
_CAST_BY_NAME = {name.lower(): clickhouse for name, clickhouse in _CASTS.items()}
_CAST = re.compile(r"::\s*(" + "|".join(_CASTS) + r")\b", re.IGNORECASE)
_SHIFT_RIGHT = re.compile(r"\(([\w.]+) >> (\d+)\)")  # ClickHouse has no shift operators
# DuckDB's json_extract_string is NULL for a missing key. ClickHouse's JSON_VALUE is too (with
# function_json_value_return_type_allow_nullable, connection.py), but only for a String: on a
# Nullable(String) column it gives '' instead, so the column is made a String first (NULL as '',
# whose every path is missing).
_JSON_EXTRACT_STRING = re.compile(r"\bjson_extract_string\(\s*([\w.]+)\s*,", re.IGNORECASE)
# DuckDB's rowid orders rows as inserted; ClickHouse's block columns do (migration 0005).
_ROWID = re.compile(r"\b(\w+\.)?rowid\b")
_STRING = re.compile(r"'(?:[^'\\]|\\.|'')*'")


# A property named by a column (`'$."' || key || '"'`, the rollup's every key): ClickHouse's
# JSON_VALUE takes a constant path only. By key instead, a string's text or any other value's JSON
# (3, 1.5, true), which is what DuckDB's json_extract_string gives.
_JSON_BY_KEY = re.compile(r"""json_extract_string\((\w+), '\$\."' \|\| (\w+) \|\| '"'\)""")
_JSON_BY_KEY_CLICKHOUSE = (
    r"if(JSONType(coalesce(\1, ''), \2) = 'String', JSONExtractString(coalesce(\1, ''), \2), "
    r"JSONExtractRaw(coalesce(\1, ''), \2))"
)


def translate(sql: str) -> str:
    """`sql` with DuckDB's function names and cast types in ClickHouse's; quoted text untouched."""
    sql = _JSON_BY_KEY.sub(_JSON_BY_KEY_CLICKHOUSE, sql)
    # ClickHouse's LIKE escapes with a backslash already, and its strings read one as an escape.
    sql = sql.replace(" ESCAPE '\\'", "")
    # ClickHouse's CTEs are always inlined: DuckDB's hint has nothing to say there.
    sql = sql.replace(" AS NOT MATERIALIZED (", " AS (").replace("* EXCLUDE (", "* EXCEPT (")
    pieces = []
    position = 0
    for literal in _STRING.finditer(sql):
        pieces.append(_words(sql[position : literal.start()]))
        pieces.append(literal.group())
        position = literal.end()
    pieces.append(_words(sql[position:]))
    return "".join(pieces)


def _words(text: str) -> str:
    text = _SHIFT_RIGHT.sub(r"bitShiftRight(\1, \2)", text)
    text = _ROWID.sub(lambda match: f"({match[1] or ''}_block_number, {match[1] or ''}_block_offset)", text)
    text = _JSON_EXTRACT_STRING.sub(r"JSON_VALUE(coalesce(\1, ''),", text)
    text = _FUNCTION_CALL.sub(lambda match: _FUNCTIONS[match.group(1).lower()] + "(", text)
    return _CAST.sub(lambda match: "::" + _CAST_BY_NAME[match.group(1).lower()], text)
