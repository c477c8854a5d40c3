"""Answers of the leads API: listing, one lead with its deliveries and its visitor's timeline."""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb

from pulsegate.domain import lead_views as views
from pulsegate.domain.lead_views import LeadFilter
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


def _summary(row: sql.LeadRow) -> views.LeadSummary:
    return views.LeadSummary(
        lead_id=row.lead_id, created_at=epoch_ms(row.created_at), status=row.status, project=row.project,
        source=row.source, traffic_source=row.traffic_source, name=row.name, email=row.email,
        phone=row.phone, company=row.company, crm_lead_id=row.crm_lead_id,
    )  # fmt: skip


def list_leads(cursor: duckdb.DuckDBPyConnection, leads: LeadFilter, paging: Paging) -> views.LeadList:
    """One page of matching leads and the total."""
    total, rows = sql.list_leads(cursor, leads, paging.limit, paging.offset)
    return views.LeadList(
        page=paging.page, limit=paging.limit, total=total, leads=[_summary(row) for row in rows]
    )


def lead_detail(cursor: duckdb.DuckDBPyConnection, lead_id: str, projects: Projects) -> views.LeadDetail:
    """One lead, its deliveries, and its visitor's sessions and events up to the submission."""
    found = sql.lead_detail(cursor, lead_id)
    if found is None or (projects is not None and found[0].project not in projects):
        # Outside the key's projects reads exactly like a lead that does not exist.
        raise NotFound(f"Unknown lead: {lead_id}")
    lead, extra = found
    return views.LeadDetail(
        lead=_summary(lead), message=extra.message, fields=extra.fields, page_url=extra.page_url,
        utm_source=extra.utm_source, utm_medium=extra.utm_medium, utm_campaign=extra.utm_campaign,
        session_id=extra.session_id, visitor_id=extra.visitor_id, spam_reason=extra.spam_reason,
        crm_synced_at=_ms(extra.crm_synced_at),
        deliveries=[
            views.DeliveryInfo(
                target=delivery.target, status=delivery.status, attempts=delivery.attempts,
                next_attempt_at=_ms(delivery.next_attempt_at), last_attempt_at=_ms(delivery.last_attempt_at),
                last_status=delivery.last_status, last_error=delivery.last_error,
                delivered_at=_ms(delivery.delivered_at),
            )
            for delivery in sql.lead_deliveries(cursor, lead_id)
        ],
        timeline=_timeline(cursor, extra.visitor_id, lead.created_at),
    )  # fmt: skip


class LeadViews:
    """Reads for GET /analytics/leads…; project scoping is applied in every query."""

    def __init__(self, database: Database) -> None:
        self._database = database

    async def list(self, leads: LeadFilter, paging: Paging) -> views.LeadList:
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
    events: dict[str, list[views.TimelineEvent]] = {session.session_id: [] for session in sessions}
    first_start = sessions[0].started_at - TIMELINE_SLACK
    for event in sql.session_events(cursor, list(events), first_start, until):
        events[event.session_id].append(
            views.TimelineEvent(
                at=epoch_ms(event.received_at),
                type=event.type,
                name=event.name,
                path=event.path,
                props=event.props,
            )
        )
    return [
        views.TimelineSession(
            session_id=session.session_id, started_at=epoch_ms(session.started_at),
            ended_at=_ms(session.ended_at), source=session.source, referrer=session.referrer,
            entry_url=session.entry_url, country=session.country, device=session.device,
            browser=session.browser, max_scroll=session.max_scroll, engagement_score=session.engagement_score,
            events=events[session.session_id],
        )
        for session in sessions
    ]  # fmt: skip
