"""The in-memory registry of sessions that are still open, with what each has done so far.

The server is the only process that writes the database, so this registry is authoritative
for "is this session open?": events are checked against it without a database read. It is
rebuilt from the database at start-up (sessions not ended, their events replayed).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass, field

from pulsegate.domain.engagement import SessionActivity


@dataclass(slots=True)
class OpenSession:
    """What the server keeps at hand about a session that has not ended."""

    session_id: str
    visitor_id: str
    project: str | None
    started_ms: int
    last_seen_ms: int
    is_bot: bool = False
    activity: SessionActivity = field(default_factory=SessionActivity)


class OpenSessions:
    """Open sessions by id."""

    def __init__(self) -> None:
        self._by_id: dict[str, OpenSession] = {}

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, session_id: object) -> bool:
        return session_id in self._by_id

    def __iter__(self) -> Iterator[OpenSession]:
        return iter(list(self._by_id.values()))

    def add(self, session: OpenSession) -> None:
        """Register a session that has just started (or was found open at start-up)."""
        self._by_id[session.session_id] = session

    def get(self, session_id: str) -> OpenSession | None:
        """The open session with this id, or None if it is unknown or ended."""
        return self._by_id.get(session_id)

    def touch(self, session_id: str, at_ms: int) -> None:
        """Note activity on a session."""
        session = self._by_id.get(session_id)
        if session is not None and at_ms > session.last_seen_ms:
            session.last_seen_ms = at_ms

    def close(self, session_id: str) -> OpenSession | None:
        """Remove a session as it ends; returns it, or None if it was not open."""
        return self._by_id.pop(session_id, None)

    def close_least_recent(self, count: int) -> list[OpenSession]:
        """Remove and return the `count` sessions with the oldest last activity."""
        oldest = heapq.nsmallest(count, self._by_id.values(), key=lambda session: session.last_seen_ms)
        for session in oldest:
            del self._by_id[session.session_id]
        return oldest

    def close_idle(self, idle_since_ms: int) -> list[OpenSession]:
        """Remove and return every session whose last activity is older than `idle_since_ms`."""
        idle = [session for session in self._by_id.values() if session.last_seen_ms < idle_since_ms]
        for session in idle:
            del self._by_id[session.session_id]
        return idle
