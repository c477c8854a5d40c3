"""SQL for the leads API: listing with filters, one lead with its history, distinct values."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

import duckdb
import msgspec

from pulsegate.domain.lead_views import LeadFilter

# A lead's CRM id means the CRM has it, whatever the delivery row last said.
EFFECTIVE_STATUS = "CASE WHEN crm_lead_id IS NOT NULL THEN 'synced' ELSE status END"
MAX_TIMELINE_SESSIONS = 20
MAX_TIMELINE_EVENTS = 500
RowT = TypeVar("RowT", bound=msgspec.Struct)


class LeadRow(msgspec.Struct, frozen=True):
    """A lead as listings show it; `status` is the effective one."""

    lead_id: str
    created_at: datetime
    status: str
    project: str | None
    source: str | None
    traffic_source: str | None
    name: str | None
    email: str | None
    phone: str | None
    company: str | None
    crm_lead_id: str | None


class LeadDetailRow(msgspec.Struct, frozen=True):
    """The columns one lead's page adds to its LeadRow."""

    message: str | None
    fields: str | None
    page_url: str | None
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    session_id: str | None
    visitor_id: str | None
    spam_reason: str | None
    crm_synced_at: datetime | None


class DeliveryRow(msgspec.Struct, frozen=True):
    """One CRM delivery of a lead."""

    target: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    delivered_at: datetime | None


class VisitorSessionRow(msgspec.Struct, frozen=True):
    """A session of a lead's visitor, for the lead's timeline."""

    session_id: str
    started_at: datetime
    ended_at: datetime | None
    source: str
    referrer: str | None
    entry_url: str
    country: str | None
    device: str | None
    browser: str | None
    max_scroll: int | None
    engagement_score: int | None


class SessionEventRow(msgspec.Struct, frozen=True):
    """An event of one of those sessions."""

    session_id: str
    received_at: datetime
    type: str
    name: str | None
    path: str | None
    props: str | None


def _select_list(row_type: type[msgspec.Struct], expressions: dict[str, str] | None = None) -> str:
    """The SELECT list of a row Struct, in its field order (`expressions` for computed columns)."""
    expressions = expressions or {}
    return ", ".join(
        f"{expressions[name]} AS {name}" if name in expressions else name
        for name in row_type.__struct_fields__
    )


def _rows(row_type: type[RowT], rows: list[tuple[Any, ...]]) -> list[RowT]:
    return [row_type(*row) for row in rows]


SUMMARY_COLUMNS = _select_list(LeadRow, {"status": EFFECTIVE_STATUS})
_SUMMARY_WIDTH = len(LeadRow.__struct_fields__)


def lead_where(leads: LeadFilter) -> tuple[str, list[Any]]:
    """The WHERE condition (and its parameters) that selects the leads of `leads`."""
    clauses, params = ["true"], []
    if leads.projects is not None:
        clauses.append(f"project IN ({', '.join('?' for _ in leads.projects)})")
        params.extend(leads.projects)
    if leads.start is not None:
        clauses.append("created_at >= ?")
        params.append(leads.start)
    if leads.end is not None:
        clauses.append("created_at < ?")
        params.append(leads.end)
    if leads.source is not None:
        clauses.append("source = ?")
        params.append(leads.source)
    if leads.status is not None:
        clauses.append(f"{EFFECTIVE_STATUS} = ?")
        params.append(leads.status)
    if leads.text:
        # Matched as text, not as a pattern: % and _ typed by a user mean themselves.
        clauses.append(
            "(contains(lower(coalesce(name, '')), ?) OR contains(lower(coalesce(email, '')), ?)"
            " OR contains(lower(coalesce(company, '')), ?))"
        )
        params.extend([leads.text.lower()] * 3)
    return " AND ".join(clauses), params


def list_leads(
    cursor: duckdb.DuckDBPyConnection, leads: LeadFilter, limit: int, offset: int
) -> tuple[int, list[LeadRow]]:
    """(total matches, one page of leads), newest first with the id breaking ties."""
    total = count_leads(cursor, leads)
    where, params = lead_where(leads)
    rows = cursor.execute(
        f"SELECT {SUMMARY_COLUMNS} FROM leads WHERE {where} "
        "ORDER BY created_at DESC, lead_id DESC LIMIT ? OFFSET ?",
        [*params, limit, offset],
    ).fetchall()
    return total, _rows(LeadRow, rows)


def lead_detail(cursor: duckdb.DuckDBPyConnection, lead_id: str) -> tuple[LeadRow, LeadDetailRow] | None:
    """One lead, and the columns its own page adds."""
    rows = cursor.execute(
        f"SELECT {SUMMARY_COLUMNS}, {_select_list(LeadDetailRow)} FROM leads WHERE lead_id = ?", [lead_id]
    ).fetchall()
    if not rows:
        return None
    row = rows[0]
    return LeadRow(*row[:_SUMMARY_WIDTH]), LeadDetailRow(*row[_SUMMARY_WIDTH:])


def lead_deliveries(cursor: duckdb.DuckDBPyConnection, lead_id: str) -> list[DeliveryRow]:
    """The lead's deliveries, oldest first."""
    rows = cursor.execute(
        f"SELECT {_select_list(DeliveryRow)} FROM deliveries WHERE target = 'crm' AND subject_id = ? "
        "ORDER BY created_at",
        [lead_id],
    ).fetchall()
    return _rows(DeliveryRow, rows)


def visitor_sessions(
    cursor: duckdb.DuckDBPyConnection, visitor_id: str, until: datetime
) -> list[VisitorSessionRow]:
    """The visitor's latest sessions started up to `until`, oldest first."""
    rows = cursor.execute(
        f"""
        SELECT * FROM (
            SELECT {_select_list(VisitorSessionRow)}
            FROM sessions WHERE visitor_id = ? AND started_at <= ?
            ORDER BY started_at DESC LIMIT {MAX_TIMELINE_SESSIONS}
        ) ORDER BY started_at
        """,
        [visitor_id, until],
    ).fetchall()
    return _rows(VisitorSessionRow, rows)


def session_events(
    cursor: duckdb.DuckDBPyConnection, session_ids: list[str], since: datetime, until: datetime
) -> list[SessionEventRow]:
    """Those sessions' events received in [since, until], in the order they arrived."""
    if not session_ids:
        return []
    columns = _select_list(SessionEventRow, {"type": "CAST(type AS VARCHAR)"})
    rows = cursor.execute(
        f"""
        SELECT {columns} FROM events
        WHERE received_at >= ? AND received_at <= ?
          AND session_id IN ({", ".join("?" for _ in session_ids)})
        ORDER BY received_at, rowid LIMIT {MAX_TIMELINE_EVENTS}
        """,
        [since, until, *session_ids],
    ).fetchall()
    return _rows(SessionEventRow, rows)


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
    where, params = lead_where(leads)
    if after is not None:
        where += " AND (created_at, lead_id) > (?, ?)"
        params.extend(after)
    return cursor.execute(
        f"SELECT {_EXPORT_SELECT} FROM leads WHERE {where} ORDER BY created_at, lead_id LIMIT ?",
        [*params, limit],
    ).fetchall()


def count_leads(cursor: duckdb.DuckDBPyConnection, leads: LeadFilter) -> int:
    """How many leads match."""
    where, params = lead_where(leads)
    return cursor.execute(f"SELECT count(*) FROM leads WHERE {where}", params).fetchall()[0][0]


def export_parquet(connection: duckdb.DuckDBPyConnection, leads: LeadFilter, path: str) -> int:
    """Write the matching leads to a Parquet file with DuckDB's own writer; returns the row count.

    COPY takes no parameters, so the filtered rows go through a temporary table first; the path
    (from the operator's own command line) is quoted as an SQL string.
    """
    where, params = lead_where(leads)
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
