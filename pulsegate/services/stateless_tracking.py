"""Tracking on the ClickHouse store: any PulseGate process may start, continue or end any session.

The DuckDB engine keeps open sessions in memory (its process is the only writer). Here nothing a
process remembers decides an answer: whether a session takes events, and its summary and score,
are read from the store, where ClickHouse folds every process's rows into the session's summary
(store/clickhouse/tracking.py). A process keeps only what cannot go stale in a way that matters:
a session's start fields, and when it last saw activity. The store's "last seen" is never older
than that, so a session this process saw active within the idle timeout is still open anywhere.
Idle sessions are ended by a sweep, as on DuckDB, which any process may run: it finds them in the
store, not in memory.
"""

from __future__ import annotations

import asyncio
import copy
import weakref
from collections import Counter, OrderedDict
from collections.abc import Callable, Sequence

import msgspec

from pulsegate.domain.engagement import engagement_score
from pulsegate.domain.enrichment import session_origin
from pulsegate.domain.ids import new_id
from pulsegate.domain.sessions import OpenSession
from pulsegate.domain.timestamps import now_ms
from pulsegate.domain.tracking import (
    FORM_START,
    Caller,
    EventFields,
    SessionEnd,
    SessionStart,
    TrackingReceipt,
)
from pulsegate.domain.visitor import visitor_id
from pulsegate.errors import NotFound
from pulsegate.services.geo import GeoResolver
from pulsegate.services.tracking import cleaned_events, until_committed
from pulsegate.store.clickhouse import tracking as rows
from pulsegate.store.clickhouse.store import ClickHouseStore, ClickHouseWriter

# Sessions whose start fields this process keeps at hand (about 300 bytes each).
KNOWN_SESSIONS = 50_000
# The idle sweep ends sessions that went idle within this long (a server down longer than this
# leaves older ones open: reports count them as open), this many per write.
IDLE_LOOKBACK_MS = 24 * 3_600_000
IDLE_BATCH = 5_000


class StatelessTrackingService:
    """Starts, feeds and ends sessions on the ClickHouse store (the TrackingService interface)."""

    def __init__(
        self,
        store: ClickHouseStore,
        writer: ClickHouseWriter,
        geo: GeoResolver,
        *,
        visitor_salt: str,
        idle_timeout_ms: int = 30 * 60_000,
        on_form_start: Callable[[str, str], None] | None = None,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self._store = store
        self._writer = writer
        self._geo = geo
        self._salt = visitor_salt
        self._idle_ms = idle_timeout_ms
        self._on_form_start = on_form_start
        self._clock = clock
        self._known: OrderedDict[str, OpenSession] = OrderedDict()
        # Ends of one session take turns within this process, so two ends of one page (a retry)
        # each see the other's rows; across processes each reads what is stored.
        self._turns: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self.dropped_properties: Counter[str] = Counter()

    @property
    def open_sessions(self) -> int:
        """Sessions this process has seen active within the idle timeout (others may hold more)."""
        since = self._clock() - self._idle_ms
        return sum(1 for session in self._known.values() if session.last_seen_ms >= since)

    @property
    def remembered_sessions(self) -> int:
        return len(self._known)

    async def start_session(self, start: SessionStart, caller: Caller) -> TrackingReceipt:
        """Store a new session (and its landing page view); return its id and the visitor's."""
        received_ms = self._clock()
        visitor = visitor_id(
            self._salt,
            visitor_header=caller.visitor_header,
            fingerprint_header=caller.fingerprint_header,
            client_ip=caller.client_ip,
            user_agent=caller.user_agent,
        )
        origin = session_origin(start, caller, self._geo)
        started = new_id(received_ms)
        session = OpenSession(started, visitor, start.project, received_ms, received_ms, origin.is_bot)
        await self._writer.write(*rows.new_session_rows(session, start, origin, caller.user_agent))
        self._remember(session)
        return TrackingReceipt(session_id=session.session_id, visitor_id=visitor, timestamp=received_ms)

    async def record_events(self, session_id: str, events: Sequence[EventFields]) -> TrackingReceipt:
        """Append events to a session that is open, or that its browser ended within the idle
        timeout (the visitor moved to the next page)."""
        events = cleaned_events(events, self.dropped_properties)
        session = await self._live_session(session_id)
        received_ms = self._clock()
        await self._writer.write(*rows.event_rows(session, events, received_ms))
        session.last_seen_ms = max(session.last_seen_ms, received_ms)
        if self._on_form_start is not None and any(event.type == FORM_START for event in events):
            self._on_form_start(session_id, session.visitor_id)
        return TrackingReceipt(
            session_id=session_id, visitor_id=session.visitor_id, timestamp=received_ms, accepted=len(events)
        )

    async def end_session(self, end: SessionEnd) -> TrackingReceipt:
        """End a session and score it from its whole stored summary; ending an ended session
        returns what is stored. An end bringing activity to a session its browser ended lately
        resumes it first, as events would."""
        if end.events:
            cleaned = list(cleaned_events(end.events, self.dropped_properties))
            end = msgspec.structs.replace(end, events=cleaned)
        lock = self._turns.get(end.session_id)
        if lock is None:
            lock = self._turns[end.session_id] = asyncio.Lock()
        async with lock:
            return await self._end_session(end)

    async def _end_session(self, end: SessionEnd) -> TrackingReceipt:
        now = self._clock()
        state = await self._store.read(rows.session_state, end.session_id, now)
        if state is None:
            raise NotFound(f"Unknown session: {end.session_id}")
        session = state.session
        live = now - session.last_seen_ms <= self._idle_ms
        if not live or (state.ended_by_client and not end.reports_activity):
            if end.events:  # they cannot join a visit that is over: say so rather than drop them
                raise _ended(end.session_id)
            # Ended: by its browser at its last end, or by idling, at its last activity.
            ended_ms = state.last_end_ms if state.ended_by_client else session.last_seen_ms
            return TrackingReceipt(
                session_id=end.session_id,
                visitor_id=session.visitor_id,
                timestamp=ended_ms or session.last_seen_ms,
                engagement_score=engagement_score(session.activity),
            )
        activity = copy.copy(session.activity)
        for event in end.events or ():
            activity.record(event.type, event.url, event.props)
        activity.add_engaged_ms(end.engaged_ms)
        activity.note_scroll(end.max_scroll)
        score = engagement_score(activity)
        ended = copy.copy(session)
        ended.activity, ended.last_seen_ms = activity, now
        writes = [*rows.event_rows(session, end.events or (), now)] if end.events else []
        writes.append(rows.session_end_row(end.session_id, now, end.engaged_ms, end.max_scroll))
        writes.append(
            rows.ended_session_row(msgspec.structs.replace(state, session=ended), now, "client", score)
        )
        await until_committed(self._writer.write(*writes))
        session.last_seen_ms = now
        self._remember(session)
        return TrackingReceipt(
            session_id=end.session_id,
            visitor_id=session.visitor_id,
            timestamp=now,
            accepted=len(end.events) if end.events else None,
            engagement_score=score,
        )

    async def end_idle_sessions(self, idle_minutes: int) -> int:
        """Write the end of every session idle for `idle_minutes`, at its last activity, as the
        DuckDB engine's sweep does; returns how many. Every process sweeps: two writing the same
        end write the same row (same version), which ClickHouse keeps once."""
        now = self._clock()
        idle_before = now - idle_minutes * 60_000
        ended = 0
        while True:
            idle = await self._store.read(
                rows.idle_sessions, idle_before, idle_before - IDLE_LOOKBACK_MS, IDLE_BATCH
            )
            if not idle:
                break
            await self._writer.write(*(
                rows.ended_session_row(state, state.session.last_seen_ms, "idle",
                                       engagement_score(state.session.activity))
                for state in idle
            ))  # fmt: skip
            ended += len(idle)
            if len(idle) < IDLE_BATCH:
                break
        for session_id in [sid for sid, session in self._known.items() if session.last_seen_ms < idle_before]:
            del self._known[session_id]
        return ended

    async def _live_session(self, session_id: str) -> OpenSession:
        now = self._clock()
        known = self._known.get(session_id)
        if known is not None and now - known.last_seen_ms <= self._idle_ms:
            self._known.move_to_end(session_id)
            return known
        state = await self._store.read(rows.session_state, session_id, now)
        if state is None:
            raise NotFound(f"Unknown session: {session_id}; start one with /track/session/start")
        if now - state.session.last_seen_ms > self._idle_ms:
            raise _ended(session_id)
        self._remember(state.session)
        return state.session

    def _remember(self, session: OpenSession) -> None:
        self._known[session.session_id] = session
        self._known.move_to_end(session.session_id)
        while len(self._known) > KNOWN_SESSIONS:
            self._known.popitem(last=False)


def _ended(session_id: str) -> NotFound:
    return NotFound(f"Session {session_id} has ended; start a new one with /track/session/start")
