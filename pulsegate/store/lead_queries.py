"""SQL for the leads API: listing with filters, one lead with its history, distinct values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb

# A lead's CRM id means the CRM has it, whatever the delivery row last said.
EFFECTIVE_STATUS = "CASE WHEN crm_lead_id IS NOT NULL THEN 'synced' ELSE status END"
SUMMARY_COLUMNS = (
    f"lead_id, created_at, {EFFECTIVE_STATUS} AS status, project, source, traffic_source, name, email, "
    "phone, "
    "company, crm_lead_id"
)
MAX_TIMELINE_SESSIONS = 20
MAX_TIMELINE_EVENTS = 500


@dataclass(frozen=True, slots=True)
class LeadFilter:
    """Which leads a listing shows."""

    projects: tuple[str, ...] | None
    start: datetime | None = None
    end: datetime | None = None
    source: str | None = None
    status: str | None = None
    text: str | None = None

    def where(self) -> tuple[str, list[Any]]:
        clauses, params = ["true"], []
        if self.projects is not None:
            clauses.append(f"project IN ({', '.join('?' for _ in self.projects)})")
            params.extend(self.projects)
        if self.start is not None:
            clauses.append("created_at >= ?")
            params.append(self.start)
        if self.end is not None:
            clauses.append("created_at < ?")
            params.append(self.end)
        if self.source is not None:
            clauses.append("source = ?")
            params.append(self.source)
        if self.status is not None:
            clauses.append(f"{EFFECTIVE_STATUS} = ?")
            params.append(self.status)
        if self.text:
            # Matched as text, not as a pattern: % and _ typed by a user mean themselves.
            clauses.append(
                "(contains(lower(coalesce(name, '')), ?) OR contains(lower(coalesce(email, '')), ?)"
                " OR contains(lower(coalesce(company, '')), ?))"
            )
            params.extend([self.text.lower()] * 3)
        return " AND ".join(clauses), params


def list_leads(
    cursor: duckdb.DuckDBPyConnection, leads: LeadFilter, limit: int, offset: int
) -> tuple[int, list[tuple]]:
    """(total matches, one page of summaries), newest first with the id breaking ties."""
    total = count_leads(cursor, leads)
    where, params = leads.where()
    rows = cursor.execute(
        f"SELECT {SUMMARY_COLUMNS} FROM leads WHERE {where} "
        "ORDER BY created_at DESC, lead_id DESC LIMIT ? OFFSET ?",
        [*params, limit, offset],
    ).fetchall()
    return total, rows


def lead_detail(cursor: duckdb.DuckDBPyConnection, lead_id: str) -> tuple | None:
    """One lead's summary columns followed by its detail columns."""
    rows = cursor.execute(
        f"""
        SELECT {SUMMARY_COLUMNS}, message, fields, page_url, utm_source, utm_medium, utm_campaign,
               session_id, visitor_id, spam_reason, crm_synced_at
        FROM leads WHERE lead_id = ?
        """,
        [lead_id],
    ).fetchall()
    return rows[0] if rows else None


def lead_deliveries(cursor: duckdb.DuckDBPyConnection, lead_id: str) -> list[tuple]:
    """The lead's deliveries, oldest first."""
    return cursor.execute(
        """
        SELECT target, status, attempts, next_attempt_at, last_attempt_at, last_status, last_error,
               delivered_at
        FROM deliveries WHERE target = 'crm' AND subject_id = ? ORDER BY created_at
        """,
        [lead_id],
    ).fetchall()


def visitor_sessions(cursor: duckdb.DuckDBPyConnection, visitor_id: str, until: datetime) -> list[tuple]:
    """The visitor's latest sessions started up to `until`, oldest first."""
    return cursor.execute(
        f"""
        SELECT * FROM (
            SELECT session_id, started_at, ended_at, source, referrer, entry_url, country, device, browser,
                   max_scroll, engagement_score
            FROM sessions WHERE visitor_id = ? AND started_at <= ?
            ORDER BY started_at DESC LIMIT {MAX_TIMELINE_SESSIONS}
        ) ORDER BY started_at
        """,
        [visitor_id, until],
    ).fetchall()


def session_events(
    cursor: duckdb.DuckDBPyConnection, session_ids: list[str], since: datetime, until: datetime
) -> list[tuple]:
    """(session_id, received_at, type, name, path, props) of those sessions' events in [since, until]."""
    if not session_ids:
        return []
    return cursor.execute(
        f"""
        SELECT session_id, received_at, CAST(type AS VARCHAR), name, path, props FROM events
        WHERE received_at >= ? AND received_at <= ?
          AND session_id IN ({", ".join("?" for _ in session_ids)})
        ORDER BY received_at, rowid LIMIT {MAX_TIMELINE_EVENTS}
        """,
        [since, until, *session_ids],
    ).fetchall()


def distinct_values(
    cursor: duckdb.DuckDBPyConnection, column: str, projects: tuple[str, ...] | None
) -> list[str]:
    """Distinct non-empty values of `column` ('project' or 'source', never user input)."""
    assert column in ("project", "source")
    where = "true"
    params: list[Any] = []
    if projects is not None:
        where = f"project IN ({', '.join('?' for _ in projects)})"
        params.extend(projects)
    rows = cursor.execute(
        f"SELECT DISTINCT {column} FROM leads WHERE {column} IS NOT NULL AND {where} ORDER BY 1", params
    ).fetchall()
    return [row[0] for row in rows]


EXPORT_COLUMNS = (
    "lead_id", "created_at", "status", "project", "source", "traffic_source", "name", "email", "phone",
    "company", "message", "fields", "page_url", "utm_source", "utm_medium", "utm_campaign", "utm_term",
    "utm_content", "session_id", "visitor_id", "crm_lead_id", "crm_synced_at", "spam_reason",
)  # fmt: skip
_EXPORT_SELECT = ", ".join(EFFECTIVE_STATUS + " AS status" if c == "status" else c for c in EXPORT_COLUMNS)


def export_page(
    cursor: duckdb.DuckDBPyConnection, leads: LeadFilter, after: tuple[datetime, str] | None, limit: int
) -> list[tuple]:
    """The next `limit` leads after `after` (created_at, lead_id), oldest first: keyset paging,
    so each page costs the same however deep the export is."""
    where, params = leads.where()
    if after is not None:
        where += " AND (created_at, lead_id) > (?, ?)"
        params.extend(after)
    return cursor.execute(
        f"SELECT {_EXPORT_SELECT} FROM leads WHERE {where} ORDER BY created_at, lead_id LIMIT ?",
        [*params, limit],
    ).fetchall()


def count_leads(cursor: duckdb.DuckDBPyConnection, leads: LeadFilter) -> int:
    """How many leads match."""
    where, params = leads.where()
    return cursor.execute(f"SELECT count(*) FROM leads WHERE {where}", params).fetchall()[0][0]


def export_parquet(connection: duckdb.DuckDBPyConnection, leads: LeadFilter, path: str) -> int:
    """Write the matching leads to a Parquet file with DuckDB's own writer; returns the row count.

    COPY takes no parameters, so the filtered rows go through a temporary table first; the path
    (from the operator's own command line) is quoted as an SQL string.
    """
    where, params = leads.where()
    connection.execute(
        f"CREATE OR REPLACE TEMP TABLE lead_export AS SELECT {_EXPORT_SELECT} FROM leads WHERE {where} "
        "ORDER BY created_at, lead_id",
        params,
    )
    try:
        rows = connection.execute("SELECT count(*) FROM lead_export").fetchall()[0][0]
        quoted = path.replace("'", "''")
        connection.execute(f"COPY lead_export TO '{quoted}' (FORMAT parquet)")
    finally:
        connection.execute("DROP TABLE IF EXISTS lead_export")
    return rows
