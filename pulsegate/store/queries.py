"""Analytics SQL: one function per question, parameterised, bots always excluded.

Session questions read the per-session summary rows (a session's events are never rescanned);
event questions read `events`, which is stored in arrival order, so a time filter lets DuckDB
skip every row group outside the window.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
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


def session_totals(
    cursor: duckdb.DuckDBPyConnection, scope: Scope
) -> tuple[int, int, float | None, float | None]:
    """Sessions, distinct visitors, mean engaged ms and bounce rate (ended sessions of one page view)."""
    where, params = scope.where("started_at")
    row = cursor.execute(
        f"""
        SELECT count(*), count(DISTINCT visitor_id),
               avg(engaged_ms) FILTER (WHERE ended_at IS NOT NULL),
               avg(CASE WHEN page_views <= 1 THEN 1.0 ELSE 0.0 END) FILTER (WHERE ended_at IS NOT NULL)
        FROM sessions WHERE {where}
        """,
        params,
    ).fetchall()[0]
    return row[0], row[1], row[2], row[3]


def event_totals(cursor: duckdb.DuckDBPyConnection, scope: Scope) -> tuple[int, int]:
    """Events and page views."""
    where, params = scope.where("received_at")
    row = cursor.execute(
        f"SELECT count(*), count(*) FILTER (WHERE type = 'pageview') FROM events WHERE {where}", params
    ).fetchall()[0]
    return row[0], row[1]


def lead_count(cursor: duckdb.DuckDBPyConnection, scope: Scope) -> int:
    """Leads that are not spam."""
    where, params = _lead_where(scope)
    return cursor.execute(f"SELECT count(*) FROM leads WHERE {where}", params).fetchall()[0][0]


def daily_sessions(cursor: duckdb.DuckDBPyConnection, scope: Scope, tz: str) -> list[tuple[date, int, int]]:
    """(local day in `tz`, sessions, visitors) for days that have sessions."""
    where, params = scope.where("started_at")
    return cursor.execute(
        f"""
        SELECT CAST(timezone(?, started_at AT TIME ZONE 'UTC') AS DATE) AS day,
               count(*), count(DISTINCT visitor_id)
        FROM sessions WHERE {where} GROUP BY day ORDER BY day
        """,
        [tz, *params],
    ).fetchall()


def sessions_per_bucket(
    cursor: duckdb.DuckDBPyConnection, scope: Scope, tz: str, interval: str
) -> list[tuple[datetime, int, int]]:
    """(local bucket start in `tz`, sessions, visitors) for buckets that have sessions; `interval`
    is one of domain.intervals.INTERVALS (weeks start on Monday)."""
    where, params = scope.where("started_at")
    return cursor.execute(
        f"""
        SELECT date_trunc(?, timezone(?, started_at AT TIME ZONE 'UTC')) AS bucket,
               count(*), count(DISTINCT visitor_id)
        FROM sessions WHERE {where} GROUP BY bucket ORDER BY bucket
        """,
        [interval, tz, *params],
    ).fetchall()


def top_pages(
    cursor: duckdb.DuckDBPyConnection, scope: Scope, limit: int, offset: int
) -> list[tuple[str, int, int, float | None]]:
    """(path, page views, approximate distinct visitors, mean engaged ms per view), most viewed first.

    Visitors per path are approximate (HyperLogLog, typically within 2%): exact distinct counts
    per path cost five times more at millions of events. Engaged time is summed in a second,
    narrower query: one query with both aggregates FILTERed by type costs twice as much as the
    two together (BENCHMARKS.md).
    """
    where, params = scope.where("received_at", extra="type = 'pageview' AND path IS NOT NULL")
    ranked = cursor.execute(
        f"""
        SELECT path, count(*) AS views, approx_count_distinct(visitor_id)
        FROM events WHERE {where}
        GROUP BY path ORDER BY views DESC, path LIMIT ? OFFSET ?
        """,
        [*params, limit, offset],
    ).fetchall()
    if not ranked:
        return []
    # Every path's engaged time, not just the ranked ones: an IN list of paths makes DuckDB
    # compare strings row by row, which costs more than summing a few hundred groups.
    engaged_where, engaged_params = scope.where("received_at", extra="engaged_ms IS NOT NULL")
    engaged = dict(
        cursor.execute(
            f"SELECT path, sum(engaged_ms) FROM events WHERE {engaged_where} GROUP BY path", engaged_params
        ).fetchall()
    )
    return [(path, views, visitors, engaged.get(path, 0) / views) for path, views, visitors in ranked]


def countries(
    cursor: duckdb.DuckDBPyConnection, scope: Scope, limit: int, offset: int
) -> list[tuple[str | None, int, int]]:
    """(country code or None, sessions, visitors), most sessions first."""
    where, params = scope.where("started_at")
    return cursor.execute(
        f"""
        SELECT country, count(*) AS sessions, count(DISTINCT visitor_id)
        FROM sessions WHERE {where}
        GROUP BY country ORDER BY sessions DESC, country NULLS LAST LIMIT ? OFFSET ?
        """,
        [*params, limit, offset],
    ).fetchall()


def engagement_scores(
    cursor: duckdb.DuckDBPyConnection, scope: Scope
) -> tuple[list[int], float | None, float | None]:
    """Counts of scored sessions in 0-20, 21-40, 41-60, 61-80, 81-100, and the mean and median score."""
    where, params = scope.where("started_at", extra="engagement_score IS NOT NULL")
    row = cursor.execute(
        f"""
        SELECT count(*) FILTER (WHERE engagement_score <= 20),
               count(*) FILTER (WHERE engagement_score BETWEEN 21 AND 40),
               count(*) FILTER (WHERE engagement_score BETWEEN 41 AND 60),
               count(*) FILTER (WHERE engagement_score BETWEEN 61 AND 80),
               count(*) FILTER (WHERE engagement_score >= 81),
               avg(engagement_score), median(engagement_score)
        FROM sessions WHERE {where}
        """,
        params,
    ).fetchall()[0]
    return list(row[:5]), row[5], row[6]


def sources(
    cursor: duckdb.DuckDBPyConnection, scope: Scope, limit: int, offset: int
) -> list[tuple[str, int, int, int]]:
    """(source, sessions, visitors, leads from that source), most sessions first."""
    where, params = scope.where("started_at")
    lead_where, lead_params = _lead_where(scope)
    return cursor.execute(
        f"""
        WITH by_source AS (
            SELECT source, count(*) AS sessions, count(DISTINCT visitor_id) AS visitors
            FROM sessions WHERE {where} GROUP BY source
        ),
        lead_sources AS (
            SELECT coalesce(traffic_source, 'Direct') AS source, count(*) AS leads
            FROM leads WHERE {lead_where} GROUP BY 1
        )
        SELECT b.source, b.sessions, b.visitors, coalesce(l.leads, 0)
        FROM by_source b LEFT JOIN lead_sources l USING (source)
        ORDER BY b.sessions DESC, b.source LIMIT ? OFFSET ?
        """,
        [*params, *lead_params, limit, offset],
    ).fetchall()


def recent_activity(
    cursor: duckdb.DuckDBPyConnection, since: datetime, until: datetime, active_since: datetime,
    last_minute_since: datetime, projects: tuple[str, ...] | None,
) -> tuple[int, int, int, list[tuple[datetime, int]], list[tuple[str, int]]]:  # fmt: skip
    """For the realtime view: sessions and visitors active since `active_since`, events since
    `last_minute_since`, events per minute since `since`, and the most viewed paths since
    `active_since`."""
    recent = Scope(since, until, projects)
    where, params = recent.where("received_at")
    active = Scope(active_since, until, projects)
    active_where, active_params = active.where("received_at")
    pages_where, pages_params = active.where("received_at", extra="type = 'pageview' AND path IS NOT NULL")
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


def table_stats(cursor: duckdb.DuckDBPyConnection) -> list[tuple[str, int, int]]:
    """(table, rows, estimated bytes on disk) for every table, from DuckDB's catalog and block map.

    Bytes are the distinct storage blocks a table's columns occupy times the block size: an
    estimate (blocks can be shared), without scanning any rows.
    """
    block_size = cursor.execute("SELECT block_size FROM pragma_database_size()").fetchall()[0][0]
    tables = cursor.execute(
        "SELECT database_name, table_name, estimated_size FROM duckdb_tables() "
        "WHERE schema_name = 'main' AND database_name = current_database() ORDER BY table_name"
    ).fetchall()
    stats = []
    for catalog, name, rows in tables:
        # Names from DuckDB's own catalog, never from a request; qualified, because a reader's
        # temporary `events` view (the Parquet archive) would shadow the table.
        quoted = f"{catalog}.main.{name}".replace("'", "''")
        blocks = cursor.execute(
            f"SELECT count(DISTINCT block_id) FROM pragma_storage_info('{quoted}') "
            "WHERE persistent AND block_id >= 0"
        ).fetchall()[0][0]
        stats.append((name, rows, blocks * block_size))
    return stats


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
