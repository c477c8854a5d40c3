"""Positional `?` parameters to ClickHouse's typed `{pN:Type}` placeholders, so the reports engine's
SQL (store/report_sql.py, `Sql` pieces with `?` marks) binds the same way on both engines.

ClickHouse parses a parameter's value as text of its declared type; the type is chosen here from
the Python value. NULL is written into the SQL as the literal `NULL`, never bound: a `Nullable`
parameter would need its type at every use, and NULL carries no value a caller could inject.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import msgspec

from pulsegate.errors import StorageUnavailable

_INT64_MIN, _INT64_MAX, _UINT64_MAX = -(1 << 63), (1 << 63) - 1, (1 << 64) - 1


class BindError(StorageUnavailable):
    """The SQL's `?` marks and its parameters do not agree, or a value has no ClickHouse type (a
    statement the ClickHouse store cannot run: a 503 naming it, never a 500)."""


def bind(sql: str, params: Sequence[Any]) -> tuple[str, dict[str, Any]]:
    """`sql` with each `?` outside quotes replaced by a typed placeholder, and the values by name.

    Values are Python's: the connection escapes strings for the wire (`tsv_escape`)."""
    pieces: list[str] = []
    named: dict[str, Any] = {}
    position = start = 0
    quote: str | None = None
    index = 0
    while index < len(sql):
        char = sql[index]
        if quote is not None:
            if char == "\\":
                index += 1  # an escaped character inside a literal
            elif char == quote:
                quote = None
        elif char in "'\"`":
            quote = char
        elif char == "?":
            if position >= len(params):
                raise BindError(f"The SQL has more ? marks than its {len(params)} parameters")
            pieces.append(sql[start:index])
            pieces.append(_placeholder(f"p{position}", params[position], named))
            position += 1
            start = index + 1
        index += 1
    if position != len(params):
        raise BindError(f"The SQL has {position} ? marks for {len(params)} parameters: {sql[:2000]}")
    pieces.append(sql[start:])
    return "".join(pieces), named


def _placeholder(name: str, value: Any, named: dict[str, Any]) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, (list, tuple)):
        # As JSON text in a String parameter: an Array parameter's own text form escapes its
        # elements differently on the two paths; a String's is the same on both.
        named[name] = msgspec.json.encode(list(value)).decode()
        return f"JSONExtract({{{name}:String}}, '{_array_type(value)}')"
    kind, text = typed(value)
    named[name] = text
    return f"{{{name}:{kind}}}"


def typed(value: Any) -> tuple[str, Any]:
    """The ClickHouse type of a Python value and the value as it is bound (str for dates)."""
    if isinstance(value, bool):  # before int: a bool is an int
        return "Bool", value
    if isinstance(value, int):
        if _INT64_MIN <= value <= _INT64_MAX:
            return "Int64", value
        if 0 <= value <= _UINT64_MAX:
            return "UInt64", value
        raise BindError(f"The integer {value} is out of ClickHouse's 64-bit range")
    if isinstance(value, float):
        return "Float64", value
    if isinstance(value, str):
        return "String", value
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            raise BindError("Timestamps are naive UTC in PulseGate's SQL; got an aware datetime")
        return "DateTime64(6)", value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return "Date", value.isoformat()
    raise BindError(f"No ClickHouse parameter type for {type(value).__name__}")


def _array_type(values: list[Any] | tuple[Any, ...]) -> str:
    if all(isinstance(value, str) for value in values):
        return "Array(String)"
    if all(isinstance(value, int) and not isinstance(value, bool) for value in values):
        return "Array(Int64)"
    raise BindError("Array parameters hold strings or integers, all of one kind")


_TSV_ESCAPES = str.maketrans(
    {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\0": "\\0", "\b": "\\b", "\f": "\\f"}
)


def tsv_escape(text: str) -> str:
    """A string parameter as ClickHouse reads it (its escaped text format: a backslash starts an
    escape, a tab or newline ends the value)."""
    return text.translate(_TSV_ESCAPES)
