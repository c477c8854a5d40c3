"""A ClickHouse connection behind the part of DuckDB's connection interface the store's modules
use (`execute(...).fetchall()`, `fetchone()`, `begin`/`commit`/`rollback`), so a function whose
SQL both engines read alike serves both; one that differs asks `is_clickhouse(connection)`.

ClickHouse runs no multi-statement transactions: `begin`, `commit` and `rollback` do nothing, and
each statement stands alone. The store's writes on ClickHouse are inserts (and, on the small
control tables, lightweight updates), each atomic by itself.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pulsegate.store.clickhouse.connection import ClickHouse, Row
from pulsegate.store.clickhouse.dialect import translate
from pulsegate.store.clickhouse.params import BindError

# Where an insert into one of DuckDB's tables goes on ClickHouse (sessions is a view there).
INSERT_TABLES = {"sessions": "session_rows"}
_INSERT_VALUES = re.compile(r"^\s*INSERT INTO (\w+) \(([^)]*)\) VALUES \(", re.IGNORECASE)
_UPSERT = re.compile(
    r"^\s*INSERT INTO (?P<table>\w+) \((?P<columns>[^)]*)\) VALUES \([?,\s]*\) "
    r"ON CONFLICT \((?P<keys>[^)]*)\) DO (?P<action>NOTHING|UPDATE SET (?P<assignments>.*))\s*$",
    re.IGNORECASE | re.DOTALL,
)
# Statements that return no rows; everything else is a query.
_COMMANDS = ("INSERT", "UPDATE", "DELETE", "ALTER", "CREATE", "DROP", "TRUNCATE", "OPTIMIZE", "SET", "SYSTEM")


class ClickHouseCursor:
    """DuckDB's `execute(sql, params).fetchall()` over a ClickHouse connection."""

    def __init__(self, connection: ClickHouse) -> None:
        self.clickhouse = connection
        self.target = connection.target
        self._rows: list[Row] = []
        # DuckDB's: (name, type, …) per column of the last query; only the name is filled in.
        self.description: list[tuple[str, None, None, None, None, None, None]] = []

    # The ClickHouse interface too, for the ClickHouse store's own modules.
    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self.clickhouse.query(sql, params)

    def query_named(self, sql: str, params: Sequence[Any] = ()) -> tuple[list[str], list[Row]]:
        return self.clickhouse.query_named(sql, params)

    def command(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.clickhouse.command(sql, params)

    def raw(self, sql: str, params: Sequence[Any], fmt: str) -> bytes:
        """DuckDB's SELECT, translated, answered in ClickHouse's output format `fmt`."""
        return self.clickhouse.raw(translate(sql), params, fmt)

    def insert(self, table: str, columns: Sequence[str], rows: Sequence[Row], *, token: str = "") -> None:
        self.clickhouse.insert(INSERT_TABLES.get(table, table), columns, rows, token=token)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> ClickHouseCursor:
        """DuckDB's `INSERT INTO t (columns) VALUES (?, …)` for many rows, as one insert."""
        match = _INSERT_VALUES.match(sql)
        if match is None:
            for row in rows:
                self.execute(sql, row)
            return self
        columns = [name.strip() for name in match.group(2).split(",")]
        self.insert(match.group(1), columns, [tuple(row) for row in rows])
        return self

    def close(self) -> None:
        """The connection is the store's: closing a cursor leaves it open."""

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> ClickHouseCursor:
        upsert = _UPSERT.match(sql)
        if upsert is not None:
            self._upsert(upsert, list(params or ()))
            return self
        if sql.lstrip().upper().startswith(_COMMANDS):
            self.clickhouse.command(translate(sql), params or ())
            self._rows = []
        else:
            names, self._rows = self.clickhouse.query_named(translate(sql), params or ())
            self.description = [(name, None, None, None, None, None, None) for name in names]
        return self

    def _upsert(self, statement: re.Match[str], params: list[Any]) -> None:
        """DuckDB's `INSERT … VALUES (?, …) ON CONFLICT (key) DO UPDATE SET c = excluded.c` (or DO
        NOTHING) on a table without unique keys: an UPDATE when a row has the key, else the insert.
        Two processes upserting one new key at the same instant could both insert: these are
        commands people run (goals, projects, reports), not traffic."""
        table = statement.group("table")
        columns = [name.strip() for name in statement.group("columns").split(",")]
        if len(columns) != len(params):
            raise BindError(f"An upsert into {table} names {len(columns)} columns for {len(params)} values")
        value = dict(zip(columns, params, strict=True))
        keys = [name.strip() for name in statement.group("keys").split(",")]
        where = " AND ".join(f"{key} = ?" for key in keys)
        key_values = [value[key] for key in keys]
        exists = self.clickhouse.query(f"SELECT count() FROM {table} WHERE {where}", key_values)[0][0]
        if not exists:
            self.insert(table, columns, [tuple(params)])
            return
        if statement.group("action").upper() == "NOTHING":
            return
        assigned = []
        for assignment in statement.group("assignments").split(","):
            target, _, source = (part.strip() for part in assignment.partition("="))
            if source.lower() != f"excluded.{target.lower()}":
                raise BindError(f"ClickHouse upserts take `column = excluded.column`, not {assignment!r}")
            assigned.append(target)
        sets = ", ".join(f"{name} = ?" for name in assigned)
        self.clickhouse.command(
            f"UPDATE {table} SET {sets} WHERE {where}", [*(value[name] for name in assigned), *key_values]
        )

    def fetchall(self) -> list[Row]:
        rows, self._rows = self._rows, []
        return rows

    def fetchone(self) -> Row | None:
        if not self._rows:
            return None
        return self._rows.pop(0)

    def cursor(self) -> ClickHouseCursor:
        return ClickHouseCursor(self.clickhouse)

    def begin(self) -> None:
        pass

    def commit(self) -> None:
        pass

    def rollback(self) -> None:
        pass


def is_clickhouse(connection: object) -> bool:
    """Whether a store function was handed the ClickHouse store (its SQL may need to differ)."""
    return isinstance(connection, ClickHouseCursor)
