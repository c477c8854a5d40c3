"""SQL for the leads API: listing with filters, one lead with its history, distinct values."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import msgspec

from pulsegate.domain.attribution import ConvertingSession
from pulsegate.domain.journeys import Arrival
from pulsegate.domain.lead_views import (
    SUMMARY_FIELDS,
    DeliveryInfo,
    LeadDetail,
    LeadFilter,
    LeadSummary,
    TimelineEvent,
    TimelineSession,
)
from pulsegate.domain.timestamps import epoch_ms, utc_datetime
from pulsegate.domain.visitor import visitor_key
from pulsegate.store import attribution, rollup
from pulsegate.store.clickhouse.cursor import is_clickhouse
from pulsegate.store.leads import stage_history
from pulsegate.store.queries import Scope
from pulsegate.store.reports import session_conditions

# A lead's CRM id means the CRM has it, whatever the delivery row last said.
EFFECTIVE_STATUS = "CASE WHEN crm_lead_id IS NOT NULL THEN 'synced' ELSE status END"
MAX_TIMELINE_SESSIONS = 20
MAX_TIMELINE_EVENTS = 500
S = TypeVar("S", bound=msgspec.Struct)
# The columns a lead's page adds to its LeadSummary (the fields of LeadDetail that are columns).
DETAIL_COLUMNS = ("message", "fields", "page_url", "utm_source", "utm_medium", "utm_campaign", "session_id",
                  "visitor_id", "spam_reason", "crm_synced_at", "time_to_convert_ms",
                  "from_hosting")  # fmt: skip
# The converting session's summary, kept with the lead's attribution (NULL without a known session).
CONVERTING_COLUMNS = ("converting_landing_page", "converting_page_views", "converting_engaged_ms",
                      "converting_score")  # fmt: skip


def _columns(names: tuple[str, ...], expressions: dict[str, str] | None = None) -> str:
    """A SELECT list of these columns in this order (`expressions` for computed ones)."""
    expressions = expressions or {}
    return ", ".join(f"{expressions[name]} AS {name}" if name in expressions else name for name in names)


def _struct(answer: type[S], names: tuple[str, ...], row: tuple[Any, ...], **more: Any) -> S:
    """`answer` from a row of the columns `names`; times become epoch ms, as the API speaks them."""
    values = dict(zip(names, row, strict=True))
    for name, value in values.items():
        if isinstance(value, datetime):
            values[name] = epoch_ms(value)
    return answer(**values, **more)


_SUMMARY = SUMMARY_FIELDS
SUMMARY_COLUMNS = _columns(_SUMMARY, {"status": EFFECTIVE_STATUS})
_DELIVERY = DeliveryInfo.__struct_fields__
_TIMELINE_SESSION = tuple(name for name in TimelineSession.__struct_fields__ if name != "events")
_TIMELINE_EVENT = TimelineEvent.__struct_fields__


def lead_where(leads: LeadFilter, coverage: rollup.Coverage | None = None) -> tuple[str, list[Any]]:
    """The WHERE condition (and its parameters) that selects the leads of `leads`."""
    clauses, params = ["true"], list[Any]()
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
    if leads.filters:
        # As the reports count leads: by their session; a lead without one passes only negations.
        scope = Scope(leads.start or datetime.min, leads.end or datetime.max, None)
        passes = session_conditions(leads.filters, scope, coverage=coverage)
        sessionless = "TRUE" if all(f.negated for f in leads.filters) else "FALSE"
        clauses.append(
            f"CASE WHEN session_id IS NULL THEN {sessionless} "
            f"ELSE session_id IN (SELECT session_id FROM sessions WHERE {passes.text}) END"
        )
        params.extend(passes.params)
    return " AND ".join(clauses), params


def list_leads(
    cursor: duckdb.DuckDBPyConnection, leads: LeadFilter, limit: int, offset: int
) -> tuple[int, list[LeadSummary]]:
    """(total matches, one page of leads), newest first with the id breaking ties."""
    total = count_leads(cursor, leads)
    where, params = lead_where(leads, _coverage(cursor, leads))
    rows = cursor.execute(
        f"SELECT {SUMMARY_COLUMNS} FROM leads LEFT JOIN lead_attribution USING (lead_id) WHERE {where} "
        "ORDER BY created_at DESC, lead_id DESC LIMIT ? OFFSET ?",
        [*params, limit, offset],
    ).fetchall()
    summaries = [_struct(LeadSummary, _SUMMARY, row) for row in rows]
    touches = attribution.lead_touches(cursor, [lead.lead_id for lead in summaries])
    for lead in summaries:
        if (found := touches.get(lead.lead_id)) is not None:
            lead.first_touch, lead.last_touch = found.first, found.last
    return total, summaries


def lead_detail(cursor: duckdb.DuckDBPyConnection, lead_id: str) -> LeadDetail | None:
    """One lead with its own columns; its deliveries and timeline are left empty (read apart)."""
    rows = cursor.execute(
        f"SELECT {SUMMARY_COLUMNS}, {_columns(DETAIL_COLUMNS)}, {_columns(CONVERTING_COLUMNS)} "
        "FROM leads LEFT JOIN lead_attribution USING (lead_id) WHERE lead_id = ?",
        [lead_id],
    ).fetchall()
    if not rows:
        return None
    row = rows[0]
    summary, detail = row[: len(_SUMMARY)], row[len(_SUMMARY) : len(_SUMMARY) + len(DETAIL_COLUMNS)]
    landing_page, page_views, engaged_ms, score = row[len(_SUMMARY) + len(DETAIL_COLUMNS) :]
    lead = _struct(LeadSummary, _SUMMARY, summary)
    touches = attribution.lead_touches(cursor, [lead_id]).get(lead_id)
    if touches is not None:
        lead.first_touch, lead.last_touch = touches.first, touches.last
    converting = None
    if page_views is not None:
        converting = ConvertingSession(
            landing_page=landing_page, page_views=page_views, engaged_ms=engaged_ms, engagement_score=score
        )
    return _struct(
        LeadDetail, DETAIL_COLUMNS, detail, lead=lead, converting_session=converting,
        touch_list=touches.touches if touches else [], stages=stage_history(cursor, lead_id),
        deliveries=[], timeline=[],
    )  # fmt: skip


def lead_deliveries(cursor: duckdb.DuckDBPyConnection, lead_id: str) -> list[DeliveryInfo]:
    """The lead's CRM deliveries, oldest first."""
    rows = cursor.execute(
        f"SELECT {_columns(_DELIVERY)} FROM deliveries "
        "WHERE target = 'crm' AND subject_id = ? ORDER BY created_at",
        [lead_id],
    ).fetchall()
    return [_struct(DeliveryInfo, _DELIVERY, row) for row in rows]


def visitor_sessions(
    cursor: duckdb.DuckDBPyConnection, visitor_id: str, until_ms: int
) -> list[TimelineSession]:
    """The visitor's latest sessions started up to `until_ms`, oldest first, without their events."""
    rows = cursor.execute(
        f"""
        SELECT * FROM (
            SELECT {_columns(_TIMELINE_SESSION)}
            FROM sessions WHERE visitor_key = ? AND visitor_id = ? AND started_at <= ?
            ORDER BY started_at DESC LIMIT {MAX_TIMELINE_SESSIONS}
        ) ORDER BY started_at
        """,
        [visitor_key(visitor_id), visitor_id, utc_datetime(until_ms)],
    ).fetchall()
    return [_struct(TimelineSession, _TIMELINE_SESSION, row, events=[]) for row in rows]


def session_events(
    cursor: duckdb.DuckDBPyConnection, session_ids: list[str], since_ms: int, until_ms: int
) -> dict[str, list[Arrival[TimelineEvent]]]:
    """Those sessions' events received in [since_ms, until_ms] by session, in arrival order, each
    with the browser's clock (`at` is the arrival time)."""
    events: dict[str, list[Arrival[TimelineEvent]]] = {session_id: [] for session_id in session_ids}
    if not session_ids:
        return events
    columns = _columns(_TIMELINE_EVENT, {"at": "received_at", "type": "CAST(type AS VARCHAR)"})
    rows = cursor.execute(
        f"""
        SELECT session_id, client_ms, {columns} FROM events
        WHERE received_at >= ? AND received_at <= ?
          AND session_id IN ({", ".join("?" for _ in session_ids)})
        ORDER BY received_at, rowid LIMIT {MAX_TIMELINE_EVENTS}
        """,
        [utc_datetime(since_ms), utc_datetime(until_ms), *session_ids],
    ).fetchall()
    for session_id, client_ms, *fields in rows:
        event = _struct(TimelineEvent, _TIMELINE_EVENT, tuple(fields))
        events[session_id].append(Arrival(event.at, client_ms, event))
    return events


def sorted_neighbours(
    cursor: duckdb.DuckDBPyConnection, lead_ids: list[str]
) -> dict[str, tuple[str | None, str | None]]:
    """For each of `lead_ids`, the ids just before and after it among all leads, sorted."""
    if not lead_ids:
        return {}
    rows = cursor.execute(
        f"""
        SELECT lead_id, before, after FROM (
            SELECT lead_id, lag(lead_id) OVER byid AS before, lead(lead_id) OVER byid AS after
            FROM leads WINDOW byid AS (ORDER BY lead_id)
        ) WHERE lead_id IN ({", ".join("?" for _ in lead_ids)})
        """,
        lead_ids,
    ).fetchall()
    return {lead_id: (before, after) for lead_id, before, after in rows}


def lead_ids_starting_with(cursor: duckdb.DuckDBPyConnection, prefix: str, limit: int) -> list[str]:
    """Up to `limit` lead ids that start with `prefix` (matched as text, not as a pattern)."""
    rows = cursor.execute(
        "SELECT lead_id FROM leads WHERE starts_with(lead_id, ?) ORDER BY lead_id LIMIT ?", [prefix, limit]
    ).fetchall()
    return [lead_id for (lead_id,) in rows]


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


_LEAD_EXPORT_COLUMNS = (
    "lead_id", "created_at", "status", "project", "source", "traffic_source", "name", "email", "phone",
    "company", "message", "fields", "page_url", "utm_source", "utm_medium", "utm_campaign", "utm_term",
    "utm_content", "session_id", "visitor_id", "crm_lead_id", "crm_synced_at", "spam_reason", "touches",
    "time_to_convert_ms", "stage", "stage_value", "stage_currency", "stage_at",
)  # fmt: skip
# Every format has the same flat columns: the lead's, then its first and last touch's.
EXPORT_COLUMNS = (
    *_LEAD_EXPORT_COLUMNS,
    *attribution.touch_columns("first_touch"),
    *attribution.touch_columns("last_touch"),
)
EXPORT_TIME_COLUMNS = ("created_at", "crm_synced_at", "stage_at", "first_touch_at", "last_touch_at")
_LEAD_SELECT = _columns(_LEAD_EXPORT_COLUMNS, {"status": EFFECTIVE_STATUS})


def _export_query(where: str, *, limit: bool) -> str:
    """The export's rows: the chosen leads (one page of them with `limit`) and their touches."""
    page = " LIMIT ?" if limit else ""
    return f"""
        SELECT {_LEAD_SELECT}, {attribution.touch_select("first_touch")},
               {attribution.touch_select("last_touch")}
        FROM leads LEFT JOIN lead_attribution USING (lead_id) WHERE {where} ORDER BY created_at, lead_id{page}
    """


def export_page(
    cursor: duckdb.DuckDBPyConnection, leads: LeadFilter, after: tuple[datetime, str] | None, limit: int
) -> list[tuple]:
    """The next `limit` leads after `after` (created_at, lead_id), oldest first: keyset paging,
    so each page costs the same however deep the export is."""
    where, params = lead_where(leads, _coverage(cursor, leads))
    if after is not None:
        where += " AND (created_at, lead_id) > (?, ?)"
        params.extend(after)
    return cursor.execute(_export_query(where, limit=True), [*params, limit]).fetchall()


def count_leads(cursor: duckdb.DuckDBPyConnection, leads: LeadFilter) -> int:
    """How many leads match."""
    where, params = lead_where(leads, _coverage(cursor, leads))
    return cursor.execute(f"SELECT count(*) FROM leads WHERE {where}", params).fetchall()[0][0]


def _coverage(cursor: duckdb.DuckDBPyConnection, leads: LeadFilter) -> rollup.Coverage | None:
    """Where the event rollup holds, for a filter on an event dimension (store/rollup.py)."""
    if any(f.dimension.scope == "event" for f in leads.filters):
        return rollup.coverage(cursor)
    return None


def export_parquet(connection: duckdb.DuckDBPyConnection, leads: LeadFilter, path: str) -> int:
    """Write the matching leads to a Parquet file with DuckDB's own writer; returns the row count.

    COPY takes no parameters, so the filtered rows go through a temporary table first; the path
    (from the operator's own command line) is quoted as an SQL string.
    """
    where, params = lead_where(leads, _coverage(connection, leads))
    query = _export_query(where, limit=False)
    if is_clickhouse(connection):
        # ClickHouse writes Parquet itself, as its answer: the leads are few enough to hold.
        Path(path).write_bytes(connection.raw(query, params, "Parquet"))  # type: ignore[attr-defined]
        return int(connection.execute(f"SELECT count(*) FROM ({query})", params).fetchall()[0][0])
    connection.execute(f"CREATE OR REPLACE TEMP TABLE lead_export AS {query}", params)
    try:
        rows = connection.execute("SELECT count(*) FROM lead_export").fetchall()[0][0]
        quoted = path.replace("'", "''")
        connection.execute(f"COPY lead_export TO '{quoted}' (FORMAT parquet)")
    finally:
        connection.execute("DROP TABLE IF EXISTS lead_export")
    return rows
