"""Where a lead came from, worked out at its capture: its visitor, touches and converting session;
and the writes that store it after the lead's commit."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

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
from pulsegate.errors import PulseGateError
from pulsegate.store import attribution as sql
from pulsegate.store.database import Database
from pulsegate.store.writer import Writer

logger = logging.getLogger(__name__)
# What a reader of attribution awaits first: AttributionWrites.settled, or nothing to wait for.
Settled = Callable[[], Awaitable[None]]


async def nothing_queued() -> None:
    """A Settled for readers with no attribution writes to wait for (the CLI on a stopped server)."""
    return None


# Leads a sweep attributes per read: a crash leaves a handful; a long outage of the writer more.
SWEEP_BATCH = 500


class AttributionWrites:
    """The attribution rows of captured leads, committed after the leads themselves.

    A capture waits for its lead's commit only: the attribution row, 25 columns of the table's
    width, would make that commit 1.26x slower (migration 0013). The row is queued right after,
    before the capture answers, so a reader that waits for `settled()` first sees it. A crash
    between the two commits, or a failed second commit, leaves a lead without one: `sweep()`, at
    start and then every few minutes, recomputes it from the stored sessions as at its capture.
    """

    def __init__(self, database: Database, writer: Writer, settings: AttributionSettings) -> None:
        self._database = database
        self._writer = writer
        self._settings = settings
        self._pending: set[asyncio.Future[None]] = set()

    def queue(self, lead_id: str, origin: LeadOrigin) -> None:
        """Queue the lead's attribution row (its lead is committed); never raises."""
        try:
            done = self._writer.enqueue(sql.attribution_row(lead_id, origin))
        except PulseGateError as exc:  # busy or shutting down: the sweep writes it later
            logger.warning("Attribution of lead %s left to the sweep: %s", lead_id, exc.message)
            return
        self._pending.add(done)
        done.add_done_callback(self._finished)

    def _finished(self, done: asyncio.Future[None]) -> None:
        self._pending.discard(done)
        if not done.cancelled() and done.exception() is not None:
            logger.warning("An attribution row was not stored; the sweep writes it later")

    async def settled(self) -> None:
        """Return once every attribution row queued before this call is committed (or failed)."""
        if self._pending:
            await asyncio.wait(set(self._pending))

    async def sweep(self) -> int:
        """Store the attribution of every lead left without one; how many there were."""
        await self.settled()  # a row still queued is not missing
        swept = 0
        while leads := await self._database.read(sql.unattributed_leads, SWEEP_BATCH):
            for lead in leads:
                origin = await self._recomputed(lead)
                await self._writer.write(sql.attribution_row(lead.lead_id, origin))
            swept += len(leads)
            if len(leads) < SWEEP_BATCH:
                break
        if swept:
            logger.info("Stored the attribution of %d leads a crash or a failed write left without it", swept)
        return swept

    async def _recomputed(self, lead: sql.UnattributedLead) -> LeadOrigin:
        """The lead's origin as its capture worked it out, from what is stored: its session's
        stored summary stands in for the open session's running totals."""
        submission = LeadSubmission(
            session_id=lead.session_id, page_url=lead.page_url, utm_source=lead.utm_source,
            utm_medium=lead.utm_medium, utm_campaign=lead.utm_campaign, utm_term=lead.utm_term,
            utm_content=lead.utm_content,
        )  # fmt: skip
        created_ms, settings = lead.created_ms, self._settings
        stored = await stored_origin(self._database, submission, created_ms, settings, lead.visitor_id)
        return lead_origin(stored, submission, created_ms, settings, None)


class StoredOrigin(Struct, kw_only=True):
    """What the database says about a lead's session and its visitor's earlier ones."""

    session: sql.StoredSession | None
    sessions: list[SessionTouch]


async def stored_origin(
    database: Database,
    submission: LeadSubmission,
    now_ms: int,
    settings: AttributionSettings,
    visitor_hint: str | None,
) -> StoredOrigin:
    """The lead's session, if the database knows it, and its visitor's sessions in the lookback.

    When the page said which visitor it is (`visitor_hint`, the id its X-Visitor-ID hashes to),
    one read of that visitor's sessions finds the lead's session among them: attribution then
    costs a capture no more reads than before it (bench/attribution.py). A hint that does not hold
    (wrong, or the session older than the lookback) costs two reads, one after the other.
    """
    if submission.session_id is None:
        return StoredOrigin(session=None, sessions=[])
    since_ms = now_ms - settings.lookback_days * DAY_MS
    if settings.cross_visit and visitor_hint is not None:
        history = await database.read(sql.visitor_sessions, visitor_hint, since_ms, now_ms)
        session = next((found for found in history if found.touch.session_id == submission.session_id), None)
        if session is not None:
            return _with_history(session, history)
    session = await database.read(sql.converting_session, submission.session_id, now_ms)
    if session is None:
        return StoredOrigin(session=None, sessions=[])
    if not settings.cross_visit:
        return StoredOrigin(session=session, sessions=[session.touch])
    history = await database.read(sql.visitor_sessions, session.visitor_id, since_ms, now_ms)
    return _with_history(session, history)


def _with_history(session: sql.StoredSession, history: list[sql.StoredSession]) -> StoredOrigin:
    """The lead's session and its visitor's sessions of the same project (it always among them,
    even when it started before the lookback)."""
    sessions = [found.touch for found in history if found.project == session.project]
    if all(touch.session_id != session.touch.session_id for touch in sessions):
        sessions.append(session.touch)
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


def _converting(session: sql.StoredSession, open_session: OpenSession | None) -> ConvertingSession:
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
