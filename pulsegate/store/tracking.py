"""Rows and lookups for the tracking tables (sessions, events)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import duckdb
import msgspec

from pulsegate.domain.sessions import OpenSession
from pulsegate.domain.timestamps import epoch_ms, utc_datetime
from pulsegate.domain.tracking import EventFields, SessionStart
from pulsegate.store.writer import RowWrite

SESSION_COLUMNS = (
    "session_id", "visitor_id", "project", "started_at", "last_seen_at", "entry_url", "referrer",
    "title", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content",
    "screen_width", "screen_height", "language", "timezone", "user_agent",
)  # fmt: skip
EVENT_COLUMNS = (
    "received_at", "session_id", "visitor_id", "project", "type", "name", "url", "title",
    "referrer", "props", "client_ts",
)  # fmt: skip
SESSION_END_COLUMNS = ("session_id", "last_seen_at", "ended_at")


def new_session_row(
    session_id: str, visitor_id: str, start: SessionStart, received_ms: int, user_agent: str
) -> RowWrite:
    """The sessions row for a session that starts now."""
    started_at = utc_datetime(received_ms)
    row = (
        session_id, visitor_id, start.project, started_at, started_at, start.url, start.referrer,
        start.title, start.utm_source, start.utm_medium, start.utm_campaign, start.utm_term,
        start.utm_content, start.screen_width, start.screen_height, start.language, start.timezone,
        user_agent[:512] or None,
    )  # fmt: skip
    return RowWrite("sessions", SESSION_COLUMNS, [row])


def event_rows(session: OpenSession, events: Sequence[EventFields], received_ms: int) -> RowWrite:
    """The events rows for events of `session` received now."""
    received_at = utc_datetime(received_ms)
    rows = [
        (
            received_at,
            session.session_id,
            session.visitor_id,
            session.project,
            event.type,
            event.name,
            event.url,
            event.title,
            event.referrer,
            msgspec.json.encode(event.props).decode() if event.props else None,
            utc_datetime(event.timestamp) if event.timestamp is not None else None,
        )
        for event in events
    ]
    return RowWrite("events", EVENT_COLUMNS, rows)


def session_end_row(session: OpenSession, ended_ms: int) -> RowWrite:
    """The update that marks `session` ended."""
    row = (session.session_id, utc_datetime(session.last_seen_ms), utc_datetime(ended_ms))
    return RowWrite("sessions", SESSION_END_COLUMNS, [row], action="update", key=("session_id",))


class StoredSession(msgspec.Struct, frozen=True):
    """A session as the database has it."""

    session_id: str
    visitor_id: str
    project: str | None
    started_ms: int
    last_seen_ms: int
    ended_ms: int | None


def find_session(cursor: duckdb.DuckDBPyConnection, session_id: str) -> StoredSession | None:
    """The stored session with this id, if any."""
    row = cursor.execute(
        "SELECT session_id, visitor_id, project, started_at, last_seen_at, ended_at "
        "FROM sessions WHERE session_id = ?",
        [session_id],
    ).fetchone()
    return _stored_session(row) if row else None


def load_open_sessions(cursor: duckdb.DuckDBPyConnection) -> list[OpenSession]:
    """Every session not yet ended, with its last activity taken from its newest event.

    After a kill -9 the sessions row's last_seen_at is stale (it is written at session end),
    so the events are the truth. Open sessions are recent, so the events scan is limited to
    rows received since the oldest of them started: DuckDB skips older row groups.
    """
    rows = cursor.execute(
        """
        WITH open_sessions AS (
            SELECT session_id, visitor_id, project, started_at, last_seen_at
            FROM sessions WHERE ended_at IS NULL
        ),
        activity AS (
            SELECT session_id, max(received_at) AS last_event_at
            FROM events
            WHERE received_at >= (SELECT min(started_at) FROM open_sessions)
              AND session_id IN (SELECT session_id FROM open_sessions)
            GROUP BY session_id
        )
        SELECT o.session_id, o.visitor_id, o.project, o.started_at,
               greatest(o.last_seen_at, coalesce(a.last_event_at, o.last_seen_at))
        FROM open_sessions o LEFT JOIN activity a USING (session_id)
        """
    ).fetchall()
    return [
        OpenSession(session_id, visitor_id, project, epoch_ms(started_at), epoch_ms(last_seen))
        for session_id, visitor_id, project, started_at, last_seen in rows
    ]


def _stored_session(row: tuple[str, str, str | None, datetime, datetime, datetime | None]) -> StoredSession:
    session_id, visitor_id, project, started_at, last_seen_at, ended_at = row
    return StoredSession(
        session_id=session_id,
        visitor_id=visitor_id,
        project=project,
        started_ms=epoch_ms(started_at),
        last_seen_ms=epoch_ms(last_seen_at),
        ended_ms=epoch_ms(ended_at) if ended_at is not None else None,
    )
