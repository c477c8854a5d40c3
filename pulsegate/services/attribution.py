"""Where a lead came from, worked out at its capture: its visitor, touches and converting session;
and the writes that store it after the lead's commit."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
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
from pulsegate.domain.sessions import OpenSession, OpenSessions
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
# A lead younger than this may still have its capture's own row on the way: the sweep leaves it
# (unless it is older than the server, whose captures were all before it started).
IN_FLIGHT_MS = 60_000


class AttributionWrites:
    """The attribution rows of captured leads, committed after the leads themselves.

    A capture waits for its lead's commit only: the attribution's 25 columns on the lead's row made
    that commit 2-3 ms slower (migration 0013). A capture holds a place here from before its lead's
    commit (`expect`) until its attribution row is committed (`queue`), so a reader that waits for
    `settled()` never sees the lead without it. A crash between the two commits, a refused or
    failed second commit, or a capture cancelled between them leaves a lead without one: `sweep()`,
    at start and then every few minutes, recomputes it from the stored sessions as at its capture.
    """

    def __init__(
        self,
        database: Database,
        writer: Writer,
        settings: AttributionSettings,
        open_sessions: OpenSessions,
        clock: Callable[[], int],
    ) -> None:
        self._database = database
        self._writer = writer
        self._settings = settings
        self._open_sessions = open_sessions
        self._clock = clock
        self._started_ms = clock()
        self._pending: set[asyncio.Future[None]] = set()

    def expect(self) -> asyncio.Future[None]:
        """A place for an attribution row about to be queued; hand it to `queue` or `give_up`."""
        place: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.add(place)
        place.add_done_callback(self._pending.discard)
        return place

    def give_up(self, place: asyncio.Future[None]) -> None:
        """No row comes for this place (the lead was not stored, or the sweep will write it)."""
        if not place.done():
            place.set_result(None)

    def queue(self, place: asyncio.Future[None], lead_id: str, origin: LeadOrigin) -> None:
        """Queue the lead's attribution row (its lead is committed); never raises."""
        try:
            done = self._writer.enqueue(sql.attribution_row(lead_id, origin))
        except PulseGateError as exc:  # busy or shutting down: the sweep writes it later
            logger.warning("Attribution of lead %s left to the sweep: %s", lead_id, exc.message)
            self.give_up(place)
            return
        done.add_done_callback(lambda done: self._finished(done, place))

    def _finished(self, done: asyncio.Future[None], place: asyncio.Future[None]) -> None:
        if not done.cancelled() and done.exception() is not None:
            logger.warning("An attribution row was not stored; the sweep writes it later")
        self.give_up(place)

    async def settled(self) -> None:
        """Return once every attribution row expected before this call is committed (or failed)."""
        if self._pending:
            await asyncio.wait(set(self._pending))

    async def sweep(self, now_ms: int | None = None) -> int:
        """Store the attribution of every lead left without one, as of `now_ms` (default: the
        clock's); how many there were."""
        await self.settled()
        now_ms = self._clock() if now_ms is None else now_ms
        created_before_ms = max(self._started_ms, now_ms - IN_FLIGHT_MS)
        swept = 0
        while True:
            leads = await self._database.read(sql.unattributed_leads, created_before_ms, SWEEP_BATCH)
            stored = 0
            for lead in leads:
                origin = await self._recomputed(lead)
                try:
                    await self._writer.write(sql.attribution_row(lead.lead_id, origin))
                except PulseGateError:  # the writer is busy or fails: the next sweep looks again
                    continue
                stored += 1
            swept += stored
            if len(leads) < SWEEP_BATCH or stored < len(leads):  # all done, or not now
                break
        if swept:
            logger.info("Stored the attribution of %d leads a crash or a failed write left without it", swept)
        return swept

    async def _recomputed(self, lead: sql.UnattributedLead) -> LeadOrigin:
        """The lead's origin as its capture worked it out, from what is stored; its session's
        summary is the one now (its running totals while still open, else the stored one)."""
        submission = LeadSubmission(
            session_id=lead.session_id, page_url=lead.page_url, utm_source=lead.utm_source,
            utm_medium=lead.utm_medium, utm_campaign=lead.utm_campaign, utm_term=lead.utm_term,
            utm_content=lead.utm_content,
        )  # fmt: skip
        return await origin_now(
            self._database, self._open_sessions, submission, lead.created_ms, self._settings, lead.visitor_id
        )


class StoredOrigin(Struct, kw_only=True):
    """What the database says about a lead's session and its visitor's earlier ones."""

    session: sql.StoredSession | None
    sessions: list[SessionTouch]


class KnownHistory(Struct, frozen=True, kw_only=True):
    """A visitor's sessions of the lookback, read when a form of one of them was started."""

    visitor_id: str
    read_ms: int  # the read covered the sessions that started up to this time
    sessions: list[sql.StoredSession]


class VisitorHistories:
    """The visitor's sessions of a session whose form was started, read then, so its lead reads
    only the sessions started since.

    A capture reads the visitor's sessions of the last 90 days, 2-3 ms of its 10 on the path the
    visitor waits for (bench/attribution.py); the tracker reports `form_start` seconds before the
    form is sent. Bounded: at most MAX_SESSIONS sessions kept in all (about 1 KB each), none of a
    visitor with more than MAX_PER_VISITOR, each kept FORGET_AFTER_MS, at most MAX_READING reads at
    once (past any of these a form start keeps nothing, and its lead reads everything itself).
    """

    MAX_SESSIONS = 16_384
    MAX_PER_VISITOR = 256
    FORGET_AFTER_MS = 30 * 60_000
    MAX_READING = 4
    # The capture reads again the sessions that started this long before the read ahead: one whose
    # start was still being committed then (its row is written after its start time) is not lost.
    OVERLAP_MS = 60_000

    def __init__(self, database: Database, settings: AttributionSettings, clock: Callable[[], int]) -> None:
        self._database = database
        self._settings = settings
        self._clock = clock
        self._known: OrderedDict[str, KnownHistory] = OrderedDict()  # oldest read first
        self._sessions = 0  # in all of _known
        self._reading: set[asyncio.Task[None]] = set()

    @property
    def reading(self) -> int:
        """Reads ahead in progress."""
        return len(self._reading)

    def form_started(self, session_id: str, visitor_id: str) -> None:
        """A form of this session was started: read its visitor's sessions now, in the background."""
        busy = len(self._reading) >= self.MAX_READING
        if not self._settings.cross_visit or session_id in self._known or busy:
            return
        task = asyncio.get_running_loop().create_task(self._read(session_id, visitor_id))
        self._reading.add(task)
        task.add_done_callback(self._reading.discard)

    async def _read(self, session_id: str, visitor_id: str) -> None:
        read_ms = self._clock()
        since_ms = read_ms - self._settings.lookback_days * DAY_MS
        try:
            sessions = await self._database.read(sql.visitor_sessions, visitor_id, since_ms, read_ms)
        except Exception as exc:  # the lead will read them itself
            logger.debug("Could not read the visitor's sessions of %s ahead: %s", session_id, exc)
            return
        if len(sessions) > self.MAX_PER_VISITOR:
            return
        self._forget(lambda oldest: self._clock() - oldest.read_ms > self.FORGET_AFTER_MS)
        self._forget(lambda _: self._sessions + len(sessions) > self.MAX_SESSIONS)
        self._known[session_id] = KnownHistory(visitor_id=visitor_id, read_ms=read_ms, sessions=sessions)
        self._sessions += len(sessions)

    def _forget(self, while_: Callable[[KnownHistory], bool]) -> None:
        """Drop the oldest reads while `while_(oldest)` holds."""
        while self._known and while_(next(iter(self._known.values()))):
            _, dropped = self._known.popitem(last=False)
            self._sessions -= len(dropped.sessions)

    def known(self, session_id: str) -> KnownHistory | None:
        """What was read for this session, unless it is older than FORGET_AFTER_MS."""
        found = self._known.get(session_id)
        if found is not None and self._clock() - found.read_ms > self.FORGET_AFTER_MS:
            return None
        return found


async def stored_origin(
    database: Database,
    submission: LeadSubmission,
    now_ms: int,
    settings: AttributionSettings,
    visitor_hint: str | None,
    known: KnownHistory | None = None,
) -> StoredOrigin:
    """The lead's session, if the database knows it, and its visitor's sessions in the lookback.

    With the visitor's sessions read when the session's form was started (`known`, only while the
    session is open), one read of the sessions started since completes them. Else, when the page
    said which visitor it is (`visitor_hint`, the id its X-Visitor-ID hashes to), one read of that
    visitor's sessions finds the lead's session among them: attribution then costs a capture no
    more reads than before it (bench/attribution.py). A hint that does not hold (wrong, or the
    session older than the lookback) costs two reads, one after the other.
    """
    if submission.session_id is None:
        return StoredOrigin(session=None, sessions=[])
    since_ms = now_ms - settings.lookback_days * DAY_MS
    if settings.cross_visit and known is not None:
        # From a little before the read (VisitorHistories.OVERLAP_MS): what comes twice counts once.
        recent_ms = known.read_ms - VisitorHistories.OVERLAP_MS
        recent = await database.read(sql.visitor_sessions, known.visitor_id, recent_ms, now_ms)
        if found := _found_in(_merged(known.sessions, recent, since_ms), submission.session_id):
            return found
    if settings.cross_visit and visitor_hint is not None:
        history = await database.read(sql.visitor_sessions, visitor_hint, since_ms, now_ms)
        if found := _found_in(history, submission.session_id):
            return found
    session = await database.read(sql.converting_session, submission.session_id, now_ms)
    if session is None:
        return StoredOrigin(session=None, sessions=[])
    if not settings.cross_visit:
        return StoredOrigin(session=session, sessions=[session.touch])
    history = await database.read(sql.visitor_sessions, session.visitor_id, since_ms, now_ms)
    return _with_history(session, history)


async def origin_now(
    database: Database,
    open_sessions: OpenSessions,
    submission: LeadSubmission,
    now_ms: int,
    settings: AttributionSettings,
    visitor_hint: str | None,
    known: KnownHistory | None = None,
) -> LeadOrigin:
    """The lead's origin: what the database says (stored_origin), and its session's running
    totals while it is open. A capture's, and the sweep's for a lead left without one."""
    stored = await stored_origin(database, submission, now_ms, settings, visitor_hint, known)
    # Read after the database answered, on the event loop that changes open sessions.
    open_session = open_sessions.get(submission.session_id) if submission.session_id else None
    return lead_origin(stored, submission, now_ms, settings, open_session)


def _found_in(history: list[sql.StoredSession], session_id: str) -> StoredOrigin | None:
    """The origin from a visitor's sessions, if the lead's session is among them."""
    session = next((found for found in history if found.touch.session_id == session_id), None)
    return _with_history(session, history) if session is not None else None


def _merged(
    earlier: list[sql.StoredSession], recent: list[sql.StoredSession], since_ms: int
) -> list[sql.StoredSession]:
    """The sessions read ahead that are still in the lookback, and those started since (read
    last, so their summaries are the newer), each once."""
    by_id = {found.touch.session_id: found for found in earlier if found.touch.started_ms >= since_ms}
    by_id.update((found.touch.session_id, found) for found in recent)
    return list(by_id.values())


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
