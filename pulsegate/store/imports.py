"""SQL for the imports registry, shared by every importer: start, finish, list and remove one."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import NamedTuple

import duckdb

from pulsegate.store import rollup


class ImportRow(NamedTuple):
    """One row of `imports`."""

    id: int
    project: str
    origin: str
    label: str
    status: str
    first_day: date | None
    last_day: date | None
    timezone: str
    row_count: int
    state: str | None
    created_at: datetime
    finished_at: datetime | None


IMPORT_COLUMNS = ", ".join(ImportRow._fields)


def create_import(
    connection: duckdb.DuckDBPyConnection,
    *,
    project: str,
    origin: str,
    label: str,
    timezone: str,
    created_at: datetime,
    first_day: date | None = None,
    last_day: date | None = None,
    state: str | None = None,
) -> int:
    """A new import in status 'loading'; returns its id."""
    (import_id,) = connection.execute(
        "INSERT INTO imports "
        "(project, origin, label, status, first_day, last_day, timezone, state, created_at)"
        " VALUES (?, ?, ?, 'loading', ?, ?, ?, ?, ?) RETURNING id",
        [project, origin, label, first_day, last_day, timezone, state, created_at],
    ).fetchall()[0]
    return int(import_id)


def import_rows(connection: duckdb.DuckDBPyConnection, *, origin: str | None = None) -> list[ImportRow]:
    """Every import (of `origin`, when given), oldest first."""
    where, params = ("WHERE origin = ?", [origin]) if origin else ("", [])
    found = connection.execute(f"SELECT {IMPORT_COLUMNS} FROM imports {where} ORDER BY id", params).fetchall()
    return [ImportRow(*row) for row in found]


def find_import(connection: duckdb.DuckDBPyConnection, import_id: int) -> ImportRow | None:
    """The import `import_id`, or None."""
    found = connection.execute(f"SELECT {IMPORT_COLUMNS} FROM imports WHERE id = ?", [import_id]).fetchall()
    return ImportRow(*found[0]) if found else None


def add_row_count(
    connection: duckdb.DuckDBPyConnection, import_id: int, rows: int, state: str | None
) -> None:
    """Count `rows` more into the import and keep its progress `state` (None leaves it)."""
    connection.execute(
        "UPDATE imports SET row_count = row_count + ?, state = coalesce(?, state) WHERE id = ?",
        [rows, state, import_id],
    )


def finish_import(
    connection: duckdb.DuckDBPyConnection,
    import_id: int,
    finished_at: datetime,
    first_day: date | None = None,
    last_day: date | None = None,
) -> None:
    """Mark the import complete (the reports count it from then on), with the days it covers."""
    connection.execute(
        "UPDATE imports SET status = 'complete', finished_at = ?, "
        "first_day = coalesce(?, first_day), last_day = coalesce(?, last_day) WHERE id = ?",
        [finished_at, first_day, last_day, import_id],
    )


def delete_import(connection: duckdb.DuckDBPyConnection, import_id: int) -> None:
    """Remove an import and every row it brought: its daily aggregates, and the sessions and events
    it wrote (then the event rollup of their hours is made again). Call it in a transaction."""
    span = connection.execute(
        "SELECT min(s.started_at), max(s.last_seen_at) FROM imported_sessions i "
        "JOIN sessions s USING (session_id) WHERE i.import_id = ?",
        [import_id],
    ).fetchall()[0]
    written = "SELECT session_id FROM imported_sessions WHERE import_id = ?"
    connection.execute(f"DELETE FROM events WHERE session_id IN ({written})", [import_id])
    connection.execute(f"DELETE FROM sessions WHERE session_id IN ({written})", [import_id])
    connection.execute("DELETE FROM imported_sessions WHERE import_id = ?", [import_id])
    connection.execute("DELETE FROM imported_daily WHERE import_id = ?", [import_id])
    connection.execute("DELETE FROM imports WHERE id = ?", [import_id])
    if span[0] is not None:
        rollup.rebuild(connection, span[0], span[1] + timedelta(hours=1))
