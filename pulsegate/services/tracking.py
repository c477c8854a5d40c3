"""The tracking service: turns validated payloads into committed session and event rows."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence

from pulsegate.domain.sessions import OpenSession, OpenSessions
from pulsegate.domain.timestamps import now_ms
from pulsegate.domain.tracking import Caller, EventFields, SessionEnd, SessionStart, TrackingReceipt
from pulsegate.domain.visitor import visitor_id
from pulsegate.errors import NotFound
from pulsegate.store import tracking as rows
from pulsegate.store.database import Database
from pulsegate.store.writer import Writer


class TrackingService:
    """Starts, feeds and ends sessions; answers only once the rows are committed."""

    def __init__(
        self,
        database: Database,
        writer: Writer,
        open_sessions: OpenSessions,
        *,
        visitor_salt: str,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self._database = database
        self._writer = writer
        self._open = open_sessions
        self._salt = visitor_salt
        self._clock = clock

    async def start_session(self, start: SessionStart, caller: Caller) -> TrackingReceipt:
        """Record a new session and return its id and the visitor's id."""
        received_ms = self._clock()
        session_id = str(uuid.uuid4())
        visitor = visitor_id(
            self._salt,
            visitor_header=caller.visitor_header,
            fingerprint_header=caller.fingerprint_header,
            client_ip=caller.client_ip,
            user_agent=caller.user_agent,
        )
        await self._writer.write(
            rows.new_session_row(session_id, visitor, start, received_ms, caller.user_agent)
        )
        # Registered only after the commit: an event can only name a session the client was
        # told about, and the client is told only now.
        self._open.add(OpenSession(session_id, visitor, start.project, received_ms, received_ms))
        return TrackingReceipt(session_id=session_id, visitor_id=visitor, timestamp=received_ms)

    async def record_events(self, session_id: str, events: Sequence[EventFields]) -> TrackingReceipt:
        """Append events to an open session."""
        session = self._open.get(session_id)
        if session is None:
            raise await self._not_open(session_id)
        received_ms = self._clock()
        await self._writer.write(rows.event_rows(session, events, received_ms))
        self._open.touch(session_id, received_ms)
        return TrackingReceipt(
            session_id=session_id, visitor_id=session.visitor_id, timestamp=received_ms, accepted=len(events)
        )

    async def end_session(self, end: SessionEnd) -> TrackingReceipt:
        """End a session; ending an ended session returns what was stored."""
        session = self._open.close(end.session_id)
        if session is None:
            stored = await self._database.read(rows.find_session, end.session_id)
            if stored is None or stored.ended_ms is None:
                raise NotFound(f"Unknown session: {end.session_id}")
            return TrackingReceipt(
                session_id=stored.session_id, visitor_id=stored.visitor_id, timestamp=stored.ended_ms
            )
        ended_ms = self._clock()
        try:
            await self._writer.write(rows.session_end_row(session, ended_ms))
        except BaseException:
            self._open.add(session)  # not ended after all: the client may retry
            raise
        return TrackingReceipt(
            session_id=session.session_id, visitor_id=session.visitor_id, timestamp=ended_ms
        )

    async def _not_open(self, session_id: str) -> NotFound:
        stored = await self._database.read(rows.find_session, session_id)
        if stored is None:
            return NotFound(f"Unknown session: {session_id}; start one with /track/session/start")
        return NotFound(f"Session {session_id} has ended; start a new one with /track/session/start")
