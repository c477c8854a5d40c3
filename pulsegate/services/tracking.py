"""The tracking service: turns validated payloads into committed session and event rows."""

from __future__ import annotations

import asyncio
import copy
import logging
import weakref
from collections import Counter, OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import msgspec

from pulsegate.domain.engagement import engagement_score
from pulsegate.domain.enrichment import session_origin
from pulsegate.domain.ids import new_id
from pulsegate.domain.sessions import OpenSession, OpenSessions
from pulsegate.domain.timestamps import now_ms
from pulsegate.domain.tracking import (
    FORM_START,
    Caller,
    EventFields,
    SessionEnd,
    SessionStart,
    TrackingReceipt,
    clean_props,
    needs_cleaning,
)
from pulsegate.domain.visitor import visitor_id
from pulsegate.errors import NotFound, PulseGateError
from pulsegate.services.geo import GeoResolver
from pulsegate.store import tracking as rows
from pulsegate.store.database import Database
from pulsegate.store.writer import Writer

logger = logging.getLogger(__name__)
MAX_REMEMBERED_ENDS = 20_000  # about 1 KB each
T = TypeVar("T")


class TrackingService:
    """Starts, feeds and ends sessions; answers only once the rows are committed."""

    def __init__(
        self,
        database: Database,
        writer: Writer,
        open_sessions: OpenSessions,
        geo: GeoResolver,
        *,
        visitor_salt: str,
        resume_within_ms: int = 30 * 60_000,
        max_open: int = 100_000,
        on_form_start: Callable[[str, str], None] | None = None,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self._database = database
        self._writer = writer
        self._open = open_sessions
        self._geo = geo
        self._salt = visitor_salt
        self._resume_within_ms = resume_within_ms
        self._max_open = max_open
        # Told (session id, visitor id) when a form is started: the lead's reads begin early
        # (services/attribution.VisitorHistories).
        self._on_form_start = on_form_start
        self._clock = clock
        # Ends and resumes of one session take turns. Pages leaving and the next page starting
        # send ends and events at once, and a browser may deliver them in any order: each must
        # see the one before it committed. A lock lives while someone holds or awaits it.
        self._turns: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        # Sessions their browser ended lately, with when: the next page of the tab reopens one
        # from here instead of replaying its events from disk, which is once per page view.
        self._recently_ended: OrderedDict[str, tuple[OpenSession, int]] = OrderedDict()
        # Event properties dropped since start, by reason (`pulsegate status` shows them).
        self.dropped_properties: Counter[str] = Counter()

    def _cleaned(self, events: Sequence[EventFields]) -> Sequence[EventFields]:
        return cleaned_events(events, self.dropped_properties)

    @property
    def open_sessions(self) -> int:
        """How many sessions are open now."""
        return len(self._open)

    @property
    def remembered_sessions(self) -> int:
        """How many sessions their browser ended lately are kept for the next page."""
        return len(self._recently_ended)

    async def start_session(self, start: SessionStart, caller: Caller) -> TrackingReceipt:
        """Record a new session (and its landing page view) and return its id and the visitor's id."""
        received_ms = self._clock()
        visitor = visitor_id(
            self._salt,
            visitor_header=caller.visitor_header,
            fingerprint_header=caller.fingerprint_header,
            client_ip=caller.client_ip,
            user_agent=caller.user_agent,
        )
        origin = session_origin(start, caller, self._geo)
        session = OpenSession(
            new_id(received_ms),
            visitor,
            start.project,
            received_ms,
            received_ms,
            is_bot=origin.is_bot,
        )
        session.activity.record("pageview", start.url, None)
        # Registered before the write, so a commit that completes after its request was cancelled
        # still leaves an open session behind it. Nobody knows the id until the answer anyway.
        self._open.add(session)
        try:
            await self._writer.write(*rows.new_session_rows(session, start, origin, caller.user_agent))
        except PulseGateError:
            self._open.close(session.session_id)
            raise
        if len(self._open) > self._max_open:
            try:
                await self._end_least_recent()
            except PulseGateError as exc:  # this session is stored: answer it; the sweep retries
                logger.warning("Could not end sessions over sessions.max_open: %s", exc.message)
        return TrackingReceipt(session_id=session.session_id, visitor_id=visitor, timestamp=received_ms)

    async def record_events(self, session_id: str, events: Sequence[EventFields]) -> TrackingReceipt:
        """Append events to an open session."""
        events = self._cleaned(events)
        session = self._open.get(session_id)
        if session is None:
            async with self._turn(session_id):
                session = self._open.get(session_id) or await self._reopen(session_id)
        if session is None:
            raise await self._not_open(session_id)
        received_ms = self._clock()
        # Counted before the write is awaited: a session end that arrives while these rows are
        # being committed (a tracker's last batch, then session/end, on page unload) must score
        # them. If the commit fails the client gets 503 and the totals keep a batch that was not
        # stored: rare, and an over-count of one batch beats missing the last one.
        for event in events:
            session.activity.record(event.type, event.url, event.props)
        self._open.touch(session_id, received_ms)
        await self._writer.write(*rows.event_rows(session, events, received_ms))
        if self._on_form_start is not None and any(event.type == FORM_START for event in events):
            self._on_form_start(session_id, session.visitor_id)
        return TrackingReceipt(
            session_id=session_id, visitor_id=session.visitor_id, timestamp=received_ms, accepted=len(events)
        )

    async def end_session(self, end: SessionEnd) -> TrackingReceipt:
        """End a session and score it; ending an ended session returns what was stored.

        An end that brings activity (events, engaged time) for a session its browser already
        ended resumes it first, as events would: the visitor came back to the tab and left again.
        """
        if end.events:
            end = msgspec.structs.replace(end, events=list(self._cleaned(end.events)))
        async with self._turn(end.session_id):
            return await self._end_session(end)

    async def _end_session(self, end: SessionEnd) -> TrackingReceipt:
        if end.reports_activity and self._open.get(end.session_id) is None:
            await self._reopen(end.session_id)
        session = self._open.close(end.session_id)
        if session is None:
            stored = await self._database.read(rows.find_session, end.session_id, self._clock())
            if stored is None or stored.ended_ms is None:
                raise NotFound(f"Unknown session: {end.session_id}")
            if end.events:  # they cannot join a visit that is over: say so rather than drop them
                raise await self._not_open(end.session_id)
            return TrackingReceipt(
                session_id=stored.session_id,
                visitor_id=stored.visitor_id,
                timestamp=stored.ended_ms,
                engagement_score=stored.engagement_score,
            )
        ended_ms = self._clock()
        before_last_seen = session.last_seen_ms
        saved_activity = copy.copy(session.activity)
        for event in end.events or ():
            session.activity.record(event.type, event.url, event.props)
        session.activity.add_engaged_ms(end.engaged_ms)
        session.activity.note_scroll(end.max_scroll)
        session.last_seen_ms = ended_ms
        score = engagement_score(session.activity)
        writes = [rows.session_end_rows([(session, ended_ms, "client", score)])]
        if end.events:
            writes[0:0] = rows.event_rows(session, end.events, ended_ms)
        try:
            await until_committed(self._writer.write(*writes))
        except PulseGateError:
            # Not stored: put it back as it was, so the client can retry. (A cancelled request
            # is not a failure: its queued write still commits, so the session stays ended.)
            session.activity, session.last_seen_ms = saved_activity, before_last_seen
            self._open.add(session)
            raise
        self._remember_ended(session, ended_ms)
        return TrackingReceipt(
            session_id=session.session_id,
            visitor_id=session.visitor_id,
            timestamp=ended_ms,
            accepted=len(end.events) if end.events else None,
            engagement_score=score,
        )

    async def _end_least_recent(self) -> None:
        """Over the cap: end the least recently active 1% at once (one scan per hundred starts)."""
        ended = self._open.close_least_recent(max(1, self._max_open // 100))
        logger.warning(
            "More than %d open sessions (sessions.max_open): ending the %d least recently active",
            self._max_open,
            len(ended),
        )
        await self._write_idle_ends(ended)

    async def end_idle_sessions(self, idle_minutes: int) -> int:
        """End every session idle for `idle_minutes`, at its last activity; returns how many."""
        idle = self._open.close_idle(self._clock() - idle_minutes * 60_000)
        if idle:
            await self._write_idle_ends(idle)
        return len(idle)

    async def _write_idle_ends(self, idle: list[OpenSession]) -> None:
        ended = [
            (session, session.last_seen_ms, "idle", engagement_score(session.activity)) for session in idle
        ]
        try:
            await self._writer.write(rows.session_end_rows(ended))
        except PulseGateError:
            for session in idle:  # try again on the next sweep
                self._open.add(session)
            raise

    def _remember_ended(self, session: OpenSession, ended_ms: int) -> None:
        ended = self._recently_ended
        ended[session.session_id] = (session, ended_ms)
        ended.move_to_end(session.session_id)
        # Oldest first out: past the idle timeout they cannot be reopened anyway, and the cap
        # bounds memory whatever the traffic (a forgotten one is still reopened from disk).
        cutoff = ended_ms - self._resume_within_ms
        while ended and (len(ended) > MAX_REMEMBERED_ENDS or next(iter(ended.values()))[1] < cutoff):
            ended.popitem(last=False)

    def _turn(self, session_id: str) -> asyncio.Lock:
        lock = self._turns.get(session_id)
        if lock is None:
            lock = self._turns[session_id] = asyncio.Lock()
        return lock

    async def _reopen(self, session_id: str) -> OpenSession | None:
        """Reopen a session its browser ended within the idle timeout (the visitor moved to the
        next page, or came back to the tab), or None when it cannot be resumed. Called in the
        session's turn, so any end before it is on disk."""
        since_ms = self._clock() - self._resume_within_ms
        remembered = self._recently_ended.pop(session_id, None)
        if remembered is not None and remembered[1] >= since_ms:
            session = remembered[0]
        else:  # forgotten (a restart, or a long queue of ended sessions): rebuild it from disk
            session = await self._database.read(rows.load_resumable_session, session_id, since_ms)
        if session is None:
            return None
        # Nothing is written here: the events that follow say on disk that the session went on
        # (load_open_sessions reads them after a crash), which saves a write per page view.
        self._open.add(session)
        return session

    async def _not_open(self, session_id: str) -> NotFound:
        stored = await self._database.read(rows.find_session, session_id, self._clock())
        if stored is None:
            return NotFound(f"Unknown session: {session_id}; start one with /track/session/start")
        return NotFound(f"Session {session_id} has ended; start a new one with /track/session/start")


def cleaned_events(events: Sequence[EventFields], dropped_properties: Counter[str]) -> Sequence[EventFields]:
    """The events with only the properties the rules allow; the rest counted, never refused."""
    if not any(needs_cleaning(event) for event in events):
        return events  # decoded as CleanProps: every property keeps the rules
    cleaned = []
    for event in events:
        if needs_cleaning(event):
            props, dropped = clean_props(event.props)
            dropped_properties.update(dropped)
            event = msgspec.structs.replace(event, props=props)
        cleaned.append(event)
    return cleaned


async def until_committed(write: Awaitable[T]) -> T:
    """Await a write; if the request is cancelled meanwhile, still wait for the commit before
    letting go, so the next in the session's turn reads the database as this write leaves it."""
    task = asyncio.ensure_future(write)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait([task])
        raise
