"""A ClickHouse connection behind the part of DuckDB's connection interface the store's modules
use (`execute(...).fetchall()`, `fetchone()`, `begin`/`commit`/`rollback`), so a function whose
SQL both engines read alike serves both; one that differs asks `is_clickhouse(connection)`.

ClickHouse runs no multi-statement transactions: `begin`, `commit` and `rollback` do nothing, and
each statement stands alone. The store's writes on ClickHouse are inserts (and, on the small
control tables, lightweight updates), each atomic by itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pulsegate.store.clickhouse.connection import ClickHouse, Row

# Statements that return no rows; everything else is a query.
_COMMANDS = ("INSERT", "UPDATE", "DELETE", "ALTER", "CREATE", "DROP", "TRUNCATE", "OPTIMIZE", "SET", "SYSTEM")


class ClickHouseCursor:
    """DuckDB's `execute(sql, params).fetchall()` over a ClickHouse connection."""

    def __init__(self, connection: ClickHouse) -> None:
        self.clickhouse = connection
        self.target = connection.target
        self._rows: list[Row] = []

    # The ClickHouse interface too, for the ClickHouse store's own modules.
    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self.clickhouse.query(sql, params)

    def command(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.clickhouse.command(sql, params)

    def insert(self, table: str, columns: Sequence[str], rows: Sequence[Row], *, token: str = "") -> None:
        self.clickhouse.insert(table, columns, rows, token=token)

    def close(self) -> None:
        """The connection is the store's: closing a cursor leaves it open."""

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> ClickHouseCursor:
        if sql.lstrip().upper().startswith(_COMMANDS):
            self.clickhouse.command(sql, params or ())
            self._rows = []
        else:
            self._rows = self.clickhouse.query(sql, params or ())
        return self

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
