"""Analytics SQL: one function per question, parameterised, bots always excluded.

Session questions read the per-session summary rows (a session's events are never rescanned);
event questions read `events`, which is stored in arrival order, so a time filter lets DuckDB
skip every row group outside the window.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb


@dataclass(frozen=True, slots=True)
class Scope:
    """What a query may count: [start, end) in naive UTC, and the projects (None: all)."""

    start: datetime
    end: datetime
    projects: tuple[str, ...] | None

    def where(self, time_column: str, *, extra: str = "") -> tuple[str, list[Any]]:
        """The WHERE clause and its parameters for this scope (`time_column` is ours, not input)."""
        clause = f"{time_column} >= ? AND {time_column} < ? AND NOT is_bot"
        params: list[Any] = [self.start, self.end]
        if self.projects is not None:
            clause += f" AND project IN ({', '.join('?' for _ in self.projects)})"
            params.extend(self.projects)
        if extra:
            clause += f" AND {extra}"
        return clause, params


def recent_activity(
    cursor: duckdb.DuckDBPyConnection, since: datetime, until: datetime, active_since: datetime,
    last_minute_since: datetime, projects: tuple[str, ...] | None, condition: str = "TRUE",
    condition_params: Sequence[Any] = (),
) -> tuple[int, int, int, list[tuple[datetime, int]], list[tuple[str, int]]]:  # fmt: skip
    """For the realtime view: sessions and visitors active since `active_since`, events since
    `last_minute_since`, events per minute since `since`, and the most viewed paths since
    `active_since`, of the events that meet `condition` (the report filters)."""
    recent = Scope(since, until, projects)
    where, params = recent.where("received_at", extra=condition)
    params += condition_params
    active = Scope(active_since, until, projects)
    active_where, active_params = active.where("received_at", extra=condition)
    active_params += condition_params
    pages_where, pages_params = active.where(
        "received_at", extra=f"type = 'pageview' AND path IS NOT NULL AND {condition}"
    )
    pages_params += condition_params
    counts = cursor.execute(
        f"""
        SELECT count(DISTINCT session_id), count(DISTINCT visitor_id),
               count(*) FILTER (WHERE received_at >= ?)
        FROM events WHERE {active_where}
        """,
        [last_minute_since, *active_params],
    ).fetchall()[0]
    per_minute = cursor.execute(
        f"""
        SELECT date_trunc('minute', received_at) AS minute, count(*)
        FROM events WHERE {where} GROUP BY minute ORDER BY minute
        """,
        params,
    ).fetchall()
    pages = cursor.execute(
        f"""
        SELECT path, count(*) AS views FROM events WHERE {pages_where}
        GROUP BY path ORDER BY views DESC, path LIMIT 10
        """,
        pages_params,
    ).fetchall()
    return counts[0], counts[1], counts[2], per_minute, pages


def table_stats(
    cursor: duckdb.DuckDBPyConnection, known_bytes: dict[str, int] | None = None
) -> list[tuple[str, int, int]]:
    """(table, rows, estimated bytes on disk) for every table, from DuckDB's catalog and block map.

    Bytes are the distinct storage blocks a table's columns occupy times the block size: an
    estimate (blocks can be shared), without scanning any rows. `known_bytes` (table -> bytes,
    from `table_bytes`) are used as they are; the other tables' are read.
    """
    tables = cursor.execute(
        "SELECT table_name, estimated_size FROM duckdb_tables() "
        "WHERE schema_name = 'main' AND database_name = current_database() ORDER BY table_name"
    ).fetchall()
    known = dict(known_bytes or {})
    known.update(table_bytes(cursor, [name for name, _ in tables if name not in known]))
    return [(name, rows, known[name]) for name, rows in tables]


def table_bytes(cursor: duckdb.DuckDBPyConnection, names: Sequence[str]) -> dict[str, int]:
    """Each table's distinct blocks on disk times the block size."""
    if not names:
        return {}
    catalog, block_size = cursor.execute(
        "SELECT current_database(), (SELECT block_size FROM pragma_database_size() "
        "WHERE database_name = current_database())"
    ).fetchall()[0]
    found = {}
    for name in names:
        # Names from DuckDB's own catalog, never from a request; qualified, because a reader's
        # temporary `events` view (the Parquet archive) would shadow the table.
        quoted = f"{catalog}.main.{name}".replace("'", "''")
        blocks = cursor.execute(
            f"SELECT count(DISTINCT block_id) FROM pragma_storage_info('{quoted}') "
            "WHERE persistent AND block_id >= 0"
        ).fetchall()[0][0]
        found[name] = blocks * block_size
    return found


def block_state(cursor: duckdb.DuckDBPyConnection) -> tuple[Any, ...]:
    """The database file's block counts (total, used, free) and block size: with the file's size and
    modification time, what tells that its blocks may have changed."""
    return tuple(
        cursor.execute(
            "SELECT block_size, total_blocks, used_blocks, free_blocks FROM pragma_database_size() "
            "WHERE database_name = current_database()"
        ).fetchall()[0]
    )


def event_time_range(cursor: duckdb.DuckDBPyConnection) -> tuple[datetime | None, datetime | None]:
    """The oldest and newest event's receive time (DuckDB answers min/max from row-group stats)."""
    row = cursor.execute("SELECT min(received_at), max(received_at) FROM events").fetchall()[0]
    return row[0], row[1]


def project_names(cursor: duckdb.DuckDBPyConnection, projects: Sequence[str] | None) -> list[str]:
    """Distinct named projects of the sessions and leads, within `projects` when given."""
    where, params = "project IS NOT NULL", []
    if projects is not None:
        where += f" AND project IN ({', '.join('?' for _ in projects)})"
        params = list(projects)
    rows = cursor.execute(
        f"SELECT project FROM sessions WHERE {where} "
        f"UNION SELECT project FROM leads WHERE {where} ORDER BY 1",
        params + params,
    ).fetchall()
    return [project for (project,) in rows]


def _lead_where(scope: Scope) -> tuple[str, Sequence[Any]]:
    clause = "created_at >= ? AND created_at < ? AND NOT is_spam"
    params: list[Any] = [scope.start, scope.end]
    if scope.projects is not None:
        clause += f" AND project IN ({', '.join('?' for _ in scope.projects)})"
        params.extend(scope.projects)
    return clause, params


def hourly_counts(
    cursor: duckdb.DuckDBPyConnection, start: datetime, end: datetime, projects: tuple[str, ...] | None
) -> list[tuple[str | None, datetime, int, int, int]]:
    """(project, hour, sessions, hosting sessions, leads) for every hour with any of them."""
    sessions_where, sessions_params = Scope(start, end, projects).where("started_at")
    leads_where, leads_params = _lead_where(Scope(start, end, projects))
    return cursor.execute(
        f"""
        WITH s AS (
            SELECT project, date_trunc('hour', started_at) AS hour, count(*) AS sessions,
                   count(*) FILTER (WHERE is_hosting) AS hosting
            FROM sessions WHERE {sessions_where} GROUP BY ALL
        ),
        l AS (
            SELECT project, date_trunc('hour', created_at) AS hour, count(*) AS leads
            FROM leads WHERE {leads_where} GROUP BY ALL
        )
        SELECT coalesce(s.project, l.project), coalesce(s.hour, l.hour), coalesce(s.sessions, 0),
               coalesce(s.hosting, 0), coalesce(l.leads, 0)
        FROM s FULL JOIN l ON s.project IS NOT DISTINCT FROM l.project AND s.hour = l.hour
        """,
        [*sessions_params, *leads_params],
    ).fetchall()
