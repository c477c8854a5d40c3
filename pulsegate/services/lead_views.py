"""Answers of the leads API: listing, one lead with its deliveries and its visitor's timeline."""

from __future__ import annotations

import duckdb

from pulsegate.domain import lead_views as views
from pulsegate.domain.journeys import journey_until
from pulsegate.domain.lead_views import LeadFilter
from pulsegate.domain.periods import Paging
from pulsegate.errors import NotFound
from pulsegate.services.attribution import Settled, nothing_queued
from pulsegate.store import lead_queries as sql
from pulsegate.store.database import Database

Projects = tuple[str, ...] | None
# How far before a session's start its first events may have been received (clock skew, queueing).
TIMELINE_SLACK_MS = 60_000
# Events that happened before the lead may arrive after it (batched, or sent when the page is
# left): they are looked for this long after the lead, then placed by the browser's clock.
LATE_ARRIVAL_MS = 30 * 60_000


def list_leads(cursor: duckdb.DuckDBPyConnection, leads: LeadFilter, paging: Paging) -> views.LeadList:
    """One page of matching leads and the total."""
    total, summaries = sql.list_leads(cursor, leads, paging.limit, paging.offset)
    return views.LeadList(page=paging.page, limit=paging.limit, total=total, leads=summaries)


def lead_detail(cursor: duckdb.DuckDBPyConnection, lead_id: str, projects: Projects) -> views.LeadDetail:
    """One lead, its deliveries, and its visitor's sessions and events up to the submission."""
    detail = sql.lead_detail(cursor, lead_id)
    if detail is None or (projects is not None and detail.lead.project not in projects):
        # Outside the key's projects reads exactly like a lead that does not exist.
        raise NotFound(f"Unknown lead: {lead_id}")
    detail.deliveries = sql.lead_deliveries(cursor, lead_id)
    detail.timeline = _timeline(cursor, detail.visitor_id, detail.lead.created_at)
    return detail


class LeadViews:
    """Reads for GET /analytics/leads…; project scoping is applied in every query."""

    def __init__(self, database: Database, settled: Settled = nothing_queued) -> None:
        self._database = database
        self._settled = settled  # the attribution of a lead just captured is one commit behind it

    async def list(self, leads: LeadFilter, paging: Paging) -> views.LeadList:
        """One page of matching leads and the total."""
        await self._settled()
        return await self._database.read(list_leads, leads, paging)

    async def detail(self, lead_id: str, projects: Projects) -> views.LeadDetail:
        """One lead with its deliveries and its visitor's timeline."""
        await self._settled()
        return await self._database.read(lead_detail, lead_id, projects)

    async def distinct(self, column: str, projects: Projects) -> views.DistinctValues:
        """Distinct projects or sources of the leads a key may see."""
        return views.DistinctValues(values=await self._database.read(sql.distinct_values, column, projects))


def _timeline(
    cursor: duckdb.DuckDBPyConnection, visitor_id: str | None, until_ms: int
) -> list[views.TimelineSession]:
    """The visitor's sessions up to `until_ms`, oldest first, each with its events."""
    if visitor_id is None:
        return []
    sessions = sql.visitor_sessions(cursor, visitor_id, until_ms)
    if not sessions:
        return []
    since_ms = sessions[0].started_at - TIMELINE_SLACK_MS
    ids = [session.session_id for session in sessions]
    arrived = sql.session_events(cursor, ids, since_ms, until_ms + LATE_ARRIVAL_MS)
    for session in sessions:
        session.events = []
        for at, event in journey_until(arrived[session.session_id], until_ms):
            event.at = at  # when it happened, on the server's clock
            session.events.append(event)
    return sessions
