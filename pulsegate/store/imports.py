"""SQL for the imports registry, shared by every importer: start, finish, list and remove one.

On ClickHouse (no transactions there) each statement stands alone; the order of a removal's
deletes leaves the `imports` row last, so one a crash interrupted is still listed and
`import remove` finishes it.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

import duckdb

from pulsegate.domain.plausible_export import STORED_METRICS
from pulsegate.store import rollup
from pulsegate.store.clickhouse import storage as clickhouse_storage
from pulsegate.store.clickhouse.cursor import is_clickhouse


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
    if is_clickhouse(connection):
        return _create_import_on_clickhouse(
            connection, [project, origin, label, first_day, last_day, timezone, state, created_at]
        )
    (import_id,) = connection.execute(
        "INSERT INTO imports "
        "(project, origin, label, status, first_day, last_day, timezone, state, created_at)"
        " VALUES (?, ?, ?, 'loading', ?, ?, ?, ?, ?) RETURNING id",
        [project, origin, label, first_day, last_day, timezone, state, created_at],
    ).fetchall()[0]
    return int(import_id)


def _create_import_on_clickhouse(connection: duckdb.DuckDBPyConnection, values: list[Any]) -> int:
    """ClickHouse has no sequences: the next id after the highest. Two imports started in the same
    instant could take one id; these are commands a person runs, one at a time."""
    (import_id,) = connection.execute("SELECT coalesce(max(id), 0) + 1 FROM imports").fetchall()[0]
    connection.execute(
        "INSERT INTO imports "
        "(id, project, origin, label, status, first_day, last_day, timezone, state, created_at)"
        " VALUES (?, ?, ?, ?, 'loading', ?, ?, ?, ?, ?)",
        [import_id, *values],
    )
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


def add_daily_rows(
    connection: duckdb.DuckDBPyConnection,
    row: ImportRow,
    kind: str,
    columns: Mapping[str, Sequence[Any]],
    keep_before: date | None,
) -> int:
    """Store a batch of an import's daily rows (`columns`: one list per column, days as ISO dates),
    those inside its days and before `keep_before`; returns how many. In a transaction."""
    names = list(columns)
    if is_clickhouse(connection):
        at_day = names.index("day")
        rows = []
        for values in zip(*columns.values(), strict=True):
            day = date.fromisoformat(str(values[at_day]))
            if _kept(day, row, keep_before):
                rows.append((row.id, row.project, kind, *values[:at_day], day, *values[at_day + 1 :]))
        insert = connection.insert  # type: ignore[attr-defined]  # the ClickHouse cursor's
        insert("imported_daily", ["import_id", "project", "kind", *names], rows, token=fresh_token())
        return len(rows)
    types = {"day": "DATE", **{name: "BIGINT" for name in names if name in STORED_METRICS}}
    unnested = ", ".join(f"unnest(?::{types.get(name, 'VARCHAR')}[]) AS {name}" for name in names)
    listed = ", ".join(names)
    (kept,) = connection.execute(
        f"INSERT INTO imported_daily (import_id, project, kind, {listed}) "
        f"SELECT ?, ?, ?, {listed} FROM (SELECT {unnested}) "
        "WHERE day BETWEEN ? AND ? AND (?::DATE IS NULL OR day < ?::DATE)",
        [row.id, row.project, kind, *columns.values(), row.first_day, row.last_day, keep_before, keep_before],
    ).fetchall()[0]
    return int(kept)


def fresh_token() -> str:
    """A deduplication token no other insert has: ClickHouse keeps a window of recent inserts on
    the imported tables (migration 0004), and would drop one equal to an earlier (the same export
    imported again after `import remove`, into an id used before) as a repeat."""
    return "import-" + secrets.token_hex(16)


def _kept(day: date, row: ImportRow, keep_before: date | None) -> bool:
    inside = row.first_day is not None and row.last_day is not None and row.first_day <= day <= row.last_day
    return inside and (keep_before is None or day < keep_before)


def daily_days(connection: duckdb.DuckDBPyConnection, import_id: int) -> tuple[date | None, date | None]:
    """The first and last day an import's daily rows hold (None, None without any)."""
    first, last = connection.execute(
        # Not min() alone: ClickHouse's min of no rows is 1970, not NULL.
        "SELECT CASE WHEN count(*) > 0 THEN min(day) END, CASE WHEN count(*) > 0 THEN max(day) END "
        "FROM imported_daily WHERE import_id = ?",
        [import_id],
    ).fetchall()[0]
    return first, last


def daily_totals(connection: duckdb.DuckDBPyConnection, import_id: int) -> tuple[int, int, int]:
    """An import's days with visitors, its summed daily visitors and its page views."""
    days, visitors, pageviews = connection.execute(
        "SELECT count(DISTINCT day), coalesce(sum(visitors), 0), coalesce(sum(pageviews), 0) "
        "FROM imported_daily WHERE import_id = ? AND kind = 'visitors'",
        [import_id],
    ).fetchall()[0]
    return int(days), int(visitors), int(pageviews)


def first_session_at(connection: duckdb.DuckDBPyConnection, project: str) -> datetime | None:
    """When the project's first session started (tracked, or imported from Umami: both imports
    would otherwise count those days), in naive UTC; None before any."""
    (first,) = connection.execute(
        "SELECT CASE WHEN count(*) > 0 THEN min(started_at) END FROM sessions "
        "WHERE project = ? AND NOT is_bot",
        [project],
    ).fetchall()[0]
    return first  # type: ignore[no-any-return]


def delete_import(connection: duckdb.DuckDBPyConnection, import_id: int) -> None:
    """Remove an import and every row it brought: its daily aggregates, and the sessions and events
    it wrote (then the event rollup of their hours is made again). Call it in a transaction."""
    written = "SELECT session_id FROM imported_sessions WHERE import_id = ?"
    # Not a join: on ClickHouse its right side (every session) would be held in memory.
    span = connection.execute(
        "SELECT CASE WHEN count(*) > 0 THEN min(started_at) END, "
        f"CASE WHEN count(*) > 0 THEN max(last_seen_at) END FROM sessions WHERE session_id IN ({written})",
        [import_id],
    ).fetchall()[0]
    connection.execute(f"DELETE FROM events WHERE session_id IN ({written})", [import_id])
    # Before the sessions go, whose times find the hours: on ClickHouse, where each statement
    # stands alone, a removal a crash cut short is taken again whole by `import remove`.
    if span[0] is not None:
        rollup.rebuild(connection, span[0], span[1] + timedelta(hours=1))
    if is_clickhouse(connection):
        # `sessions` is a view there, over the tables that hold a session's rows.
        clickhouse_storage.delete_sessions(connection, written, [import_id])  # type: ignore[arg-type]
    else:
        connection.execute(f"DELETE FROM sessions WHERE session_id IN ({written})", [import_id])
    connection.execute("DELETE FROM imported_sessions WHERE import_id = ?", [import_id])
    connection.execute("DELETE FROM imported_daily WHERE import_id = ?", [import_id])
    connection.execute("DELETE FROM imports WHERE id = ?", [import_id])
