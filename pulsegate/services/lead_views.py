"""Answers of the leads API: listing, one lead with its deliveries and its visitor's timeline."""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb

from pulsegate.domain import lead_views as views
from pulsegate.domain.periods import Paging
from pulsegate.domain.timestamps import epoch_ms
from pulsegate.errors import NotFound
from pulsegate.store import lead_queries as sql
from pulsegate.store.database import Database

Projects = tuple[str, ...] | None
# How far before a session's start its first events may have been received (clock skew, queueing).
TIMELINE_SLACK = timedelta(minutes=1)


def _ms(moment: datetime | None) -> int | None:
    return epoch_ms(moment) if moment is not None else None


def _summary(row: tuple) -> views.LeadSummary:
    lead_id, created_at, status, project, source, traffic_source, name, email, phone, company, crm_lead_id = (
        row[:11]
    )
    return views.LeadSummary(
        lead_id=lead_id, created_at=epoch_ms(created_at), status=status, project=project, source=source,
        traffic_source=traffic_source, name=name, email=email, phone=phone, company=company,
        crm_lead_id=crm_lead_id,
    )  # fmt: skip


def list_leads(cursor: duckdb.DuckDBPyConnection, leads: sql.LeadFilter, paging: Paging) -> views.LeadList:
    """One page of matching leads and the total."""
    total, rows = sql.list_leads(cursor, leads, paging.limit, paging.offset)
    return views.LeadList(
        page=paging.page, limit=paging.limit, total=total, leads=[_summary(row) for row in rows]
    )


def lead_detail(cursor: duckdb.DuckDBPyConnection, lead_id: str, projects: Projects) -> views.LeadDetail:
    """One lead, its deliveries, and its visitor's sessions and events up to the submission."""
    row = sql.lead_detail(cursor, lead_id)
    if row is None or (projects is not None and row[3] not in projects):
        # Outside the key's projects reads exactly like a lead that does not exist.
        raise NotFound(f"Unknown lead: {lead_id}")
    (message, fields, page_url, utm_source, utm_medium, utm_campaign, session_id, visitor_id,
     spam_reason, crm_synced_at) = row[11:]  # fmt: skip
    return views.LeadDetail(
        lead=_summary(row), message=message, fields=fields, page_url=page_url, utm_source=utm_source,
        utm_medium=utm_medium, utm_campaign=utm_campaign, session_id=session_id, visitor_id=visitor_id,
        spam_reason=spam_reason, crm_synced_at=_ms(crm_synced_at),
        deliveries=[
            views.DeliveryInfo(
                target=target, status=status, attempts=attempts, next_attempt_at=_ms(next_at),
                last_attempt_at=_ms(last_at), last_status=last_status, last_error=last_error,
                delivered_at=_ms(delivered_at),
            )
            for target, status, attempts, next_at, last_at, last_status, last_error, delivered_at
            in sql.lead_deliveries(cursor, lead_id)
        ],
        timeline=_timeline(cursor, visitor_id, row[1]),
    )  # fmt: skip


class LeadViews:
    """Reads for GET /analytics/leads…; project scoping is applied in every query."""

    def __init__(self, database: Database) -> None:
        self._database = database

    async def list(self, leads: sql.LeadFilter, paging: Paging) -> views.LeadList:
        """One page of matching leads and the total."""
        return await self._database.read(list_leads, leads, paging)

    async def detail(self, lead_id: str, projects: Projects) -> views.LeadDetail:
        """One lead with its deliveries and its visitor's timeline."""
        return await self._database.read(lead_detail, lead_id, projects)

    async def distinct(self, column: str, projects: Projects) -> views.DistinctValues:
        """Distinct projects or sources of the leads a key may see."""
        return views.DistinctValues(values=await self._database.read(sql.distinct_values, column, projects))


def _timeline(
    cursor: duckdb.DuckDBPyConnection, visitor_id: str | None, until: datetime
) -> list[views.TimelineSession]:
    if visitor_id is None:
        return []
    sessions = sql.visitor_sessions(cursor, visitor_id, until)
    if not sessions:
        return []
    events: dict[str, list[views.TimelineEvent]] = {row[0]: [] for row in sessions}
    first_start = sessions[0][1] - TIMELINE_SLACK
    for session_id, at, kind, name, path, props in sql.session_events(
        cursor, list(events), first_start, until
    ):
        events[session_id].append(
            views.TimelineEvent(at=epoch_ms(at), type=kind, name=name, path=path, props=props)
        )
    return [
        views.TimelineSession(
            session_id=session_id, started_at=epoch_ms(started), ended_at=_ms(ended), source=source,
            referrer=referrer, entry_url=entry_url, country=country, device=device, browser=browser,
            max_scroll=max_scroll, engagement_score=score, events=events[session_id],
        )
        for (session_id, started, ended, source, referrer, entry_url, country, device, browser, max_scroll,
             score)
        in sessions
    ]  # fmt: skip
