"""The leads API (GET /analytics/leads…): which leads a listing asks for, and its answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from msgspec import Struct

from pulsegate.domain.attribution import ConvertingSession, Touch
from pulsegate.domain.leads import StageEntry
from pulsegate.domain.reports import Filter


@dataclass(frozen=True, slots=True)
class LeadFilter:
    """Which leads a listing or an export shows (`store/lead_queries.py` makes it SQL)."""

    projects: tuple[str, ...] | None
    start: datetime | None = None
    end: datetime | None = None
    source: str | None = None
    status: str | None = None
    text: str | None = None
    filters: tuple[Filter, ...] = ()  # the reports' filters, on the lead's session


class LeadSummary(Struct, kw_only=True):
    """A lead as the list shows it."""

    lead_id: str
    created_at: int  # epoch ms
    status: str  # new, forwarded, synced, failed, spam
    project: str | None
    source: str | None  # the form's label
    traffic_source: str | None  # how the visitor arrived (Google, Direct, ...)
    name: str | None
    email: str | None
    phone: str | None
    company: str | None
    crm_lead_id: str | None
    stage: str | None  # the CRM's latest stage (qualified, won, lost, ...)
    stage_value: float | None
    stage_currency: str | None
    touches: int | None  # None: captured before attribution existed
    # Filled from lead_attribution.touch_list after the row is read (not plain columns).
    first_touch: Touch | None = None
    last_touch: Touch | None = None


# LeadSummary's fields read from its own columns.
_FILLED_LATER = ("first_touch", "last_touch")
SUMMARY_FIELDS = tuple(name for name in LeadSummary.__struct_fields__ if name not in _FILLED_LATER)


class LeadList(Struct, kw_only=True):
    """GET /analytics/leads: newest first, `total` counts every match."""

    page: int
    limit: int
    total: int
    leads: list[LeadSummary]


class DeliveryInfo(Struct, kw_only=True):
    target: str
    status: str  # pending, delivered, failed
    attempts: int
    next_attempt_at: int | None
    last_attempt_at: int | None
    last_status: int | None
    last_error: str | None
    delivered_at: int | None


class TimelineEvent(Struct, kw_only=True):
    at: int
    type: str
    name: str | None
    path: str | None
    props: str | None  # the event's props as JSON text


class TimelineSession(Struct, kw_only=True):
    session_id: str
    started_at: int
    ended_at: int | None
    source: str
    referrer: str | None
    entry_url: str
    country: str | None
    device: str | None
    browser: str | None
    max_scroll: int | None
    engagement_score: int | None
    events: list[TimelineEvent]


class LeadDetail(Struct, kw_only=True):
    """GET /analytics/leads/:id: the lead, its deliveries, and what its visitor did before it."""

    lead: LeadSummary
    message: str | None
    fields: str | None  # the form's other fields as JSON text
    page_url: str | None
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    session_id: str | None
    visitor_id: str | None
    spam_reason: str | None
    crm_synced_at: int | None
    time_to_convert_ms: int | None
    from_hosting: bool | None
    converting_session: ConvertingSession | None
    touch_list: list[Touch]  # every touch, oldest first (first_touch and last_touch are on `lead`)
    stages: list[StageEntry]  # the CRM's stages in the order it reported them
    deliveries: list[DeliveryInfo]
    timeline: list[TimelineSession]  # the visitor's sessions up to the submission, oldest first


class DistinctValues(Struct, kw_only=True):
    """GET /analytics/leads/projects and /analytics/leads/sources: values for filter dropdowns."""

    values: list[str]
