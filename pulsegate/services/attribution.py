"""Where a lead came from, worked out at its capture: its visitor, touches and converting session."""

from __future__ import annotations

import duckdb
from msgspec import Struct

from pulsegate.config import AttributionSettings
from pulsegate.domain.attribution import (
    DAY_MS,
    ConvertingSession,
    LeadOrigin,
    SessionTouch,
    attribute,
    single_touch,
    submitted_touch,
)
from pulsegate.domain.engagement import engagement_score
from pulsegate.domain.leads import LeadSubmission
from pulsegate.domain.sessions import OpenSession
from pulsegate.domain.sources import UTM_KEYS, path_of
from pulsegate.store import attribution as sql


class StoredOrigin(Struct, kw_only=True):
    """What the database says about a lead's session and its visitor's earlier ones."""

    session: sql.ConvertingSessionRow | None
    sessions: list[SessionTouch]


def stored_origin(
    cursor: duckdb.DuckDBPyConnection, session_id: str | None, now_ms: int, settings: AttributionSettings
) -> StoredOrigin:
    """The lead's session, if the database knows it, and its visitor's sessions in the lookback."""
    session = sql.converting_session(cursor, session_id, now_ms) if session_id else None
    if session is None:
        return StoredOrigin(session=None, sessions=[])
    if not settings.cross_visit:
        return StoredOrigin(session=session, sessions=[session.touch])
    since_ms = now_ms - settings.lookback_days * DAY_MS
    sessions = sql.visitor_sessions(cursor, session.visitor_id, session.project, since_ms, now_ms)
    if all(found.session_id != session.touch.session_id for found in sessions):
        sessions.append(session.touch)  # it always counts, even when it started before the lookback
    return StoredOrigin(session=session, sessions=sessions)


def lead_origin(
    stored: StoredOrigin,
    submission: LeadSubmission,
    now_ms: int,
    settings: AttributionSettings,
    open_session: OpenSession | None,
) -> LeadOrigin:
    """The lead's origin from what was stored and, while its session is open, what it has done."""
    session = stored.session
    if session is None:
        utm = {key: value for key in UTM_KEYS if (value := getattr(submission, key))}
        return LeadOrigin(
            visitor_id=submission.visitor_id,  # unknown session: keep what the page said
            traffic_source=None,
            attribution=single_touch(submitted_touch(submission.page_url, utm, now_ms), now_ms),
            converting=None,
            from_hosting=None,
        )
    attribution = attribute(
        stored.sessions,
        lead_ms=now_ms,
        converting_session_id=session.touch.session_id,
        lookback_days=settings.lookback_days,
        last_touch=settings.last_touch,
        cross_visit=settings.cross_visit,
    )
    assert attribution is not None  # the converting session always counts
    return LeadOrigin(
        visitor_id=session.visitor_id,
        traffic_source=session.touch.source,
        attribution=attribution,
        converting=_converting(session, open_session),
        from_hosting=session.is_hosting,
    )


def _converting(session: sql.ConvertingSessionRow, open_session: OpenSession | None) -> ConvertingSession:
    """The converting session's summary: its running totals while open, else the stored ones."""
    landing_page = path_of(session.touch.entry_url)
    if open_session is not None:
        activity = open_session.activity
        return ConvertingSession(
            landing_page=landing_page,
            page_views=activity.page_views,
            engaged_ms=activity.engaged_ms,
            engagement_score=engagement_score(activity),
        )
    return ConvertingSession(
        landing_page=landing_page,
        page_views=session.page_views or 0,
        engaged_ms=session.engaged_ms or 0,
        engagement_score=session.engagement_score or 0,
    )
