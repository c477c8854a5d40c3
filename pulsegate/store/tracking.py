"""Rows and lookups for the tracking tables (sessions, events)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb
import msgspec

from pulsegate.domain.engagement import SessionActivity, reported_engaged_ms
from pulsegate.domain.enrichment import SessionOrigin
from pulsegate.domain.ids import id_time_ms
from pulsegate.domain.sessions import OpenSession
from pulsegate.domain.sources import path_of
from pulsegate.domain.timestamps import epoch_ms, utc_datetime
from pulsegate.domain.tracking import FORM_VIEW, EventFields, SessionStart
from pulsegate.domain.visitor import visitor_key
from pulsegate.store.writer import RowWrite

SESSION_COLUMNS = (
    "session_id", "visitor_id", "project", "started_at", "last_seen_at", "entry_url", "referrer",
    "title", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content",
    "screen_width", "screen_height", "language", "timezone", "user_agent", "source",
    "referrer_host", "country", "as_organisation", "is_hosting", "browser", "os", "device", "is_bot",
    "entry_path", "visitor_key",
)  # fmt: skip
FORM_VIEW_COLUMNS = (
    "received_at",
    "session_id",
    "visitor_id",
    "project",
    "form",
    "url",
    "client_ms",
    "is_bot",
)
EVENT_COLUMNS = (
    "received_at", "session_id", "visitor_id", "project", "type", "name", "url", "path", "title",
    "referrer", "props", "client_ms", "engaged_ms", "is_bot",
)  # fmt: skip
# Sessions whose id carries no start time are looked for among this recent window (session_match).
UNTIMED_ID_WINDOW_MS = 2 * 86_400_000

# Matched on session_id alone: ids are time-ordered (UUIDv7) and rows are stored in start order,
# so DuckDB's per-row-group min/max of session_id skips all but the session's own row group
# (naming started_at too made the join slower, bench/session_table.py).
SESSION_END_COLUMNS = (
    "session_id", "last_seen_at", "ended_at", "end_reason", "exit_url", "page_views", "event_count",
    "interactions", "form_starts", "form_submits", "max_scroll", "engaged_ms", "duration_ms",
    "engagement_score", "exit_path",
)  # fmt: skip


def new_session_rows(
    session: OpenSession, start: SessionStart, origin: SessionOrigin, user_agent: str
) -> tuple[RowWrite, ...]:
    """The sessions row of a session starting now, and the page view of its landing page."""
    started_at = utc_datetime(session.started_ms)
    row = (
        session.session_id, session.visitor_id, session.project, started_at, started_at, start.url,
        start.referrer, start.title, origin.utm_source, origin.utm_medium, origin.utm_campaign,
        origin.utm_term, origin.utm_content, start.screen_width, start.screen_height, start.language,
        start.timezone, user_agent[:512] or None, origin.source, origin.referrer_host, origin.country,
        origin.as_organisation, origin.is_hosting, origin.browser, origin.os, origin.device, origin.is_bot,
        path_of(start.url), visitor_key(session.visitor_id),
    )  # fmt: skip
    landing = EventFields(type="pageview", url=start.url, title=start.title, referrer=start.referrer,
                          timestamp=start.timestamp)  # fmt: skip
    return (
        RowWrite("sessions", SESSION_COLUMNS, [row]),
        *event_rows(session, [landing], session.started_ms),
    )


def event_rows(session: OpenSession, events: Sequence[EventFields], received_ms: int) -> list[RowWrite]:
    """The rows for events of `session` received now: the events table's, and the form_views
    table's for form views (only when there are some: a second table costs a commit more)."""
    received_at = utc_datetime(received_ms)
    paths: dict[str | None, str | None] = {}  # events of one batch mostly share a page
    rows, views = [], []
    for event in events:
        if event.type == FORM_VIEW:
            views.append((received_at, session.session_id, session.visitor_id, session.project, event.name,
                          event.url, event.timestamp, session.is_bot))  # fmt: skip
            continue
        path = paths.get(event.url)
        if path is None:
            path = paths[event.url] = path_of(event.url)
        rows.append(
            (
                received_at,
                session.session_id,
                session.visitor_id,
                session.project,
                event.type,
                event.name,
                event.url,
                path,
                event.title,
                event.referrer,
                msgspec.json.encode(event.props).decode() if event.props else None,
                event.timestamp,
                reported_engaged_ms(event.props) if event.props else None,
                session.is_bot,
            )
        )
    writes = [RowWrite("events", EVENT_COLUMNS, rows)] if rows or not views else []
    if views:
        writes.append(RowWrite("form_views", FORM_VIEW_COLUMNS, views))
    return writes


def session_end_rows(ended: Sequence[tuple[OpenSession, int, str, int]]) -> RowWrite:
    """The updates that close sessions: (session, ended_ms, reason, engagement score) each."""
    rows = []
    for session, ended_ms, reason, score in ended:
        activity = session.activity
        rows.append(
            (
                session.session_id,
                utc_datetime(session.last_seen_ms),
                utc_datetime(ended_ms),
                reason,
                activity.exit_url,
                activity.page_views,
                activity.events,
                activity.interactions,
                activity.form_starts,
                activity.form_submits,
                activity.max_scroll,
                activity.engaged_ms,
                max(0, min(ended_ms, session.last_seen_ms) - session.started_ms),
                score,
                path_of(activity.exit_url),
            )
        )
    return RowWrite("sessions", SESSION_END_COLUMNS, rows, action="update", key=("session_id",))


class StoredSession(msgspec.Struct, frozen=True):
    """A session as the database has it."""

    session_id: str
    visitor_id: str
    ended_ms: int | None
    engagement_score: int | None


def session_match(session_id: str, now_ms: int) -> tuple[str, list[Any]]:
    """A condition on `sessions` (and its parameters) that finds one session by id.

    The table has no index (migration 0004 says why). A session id carries its start time, and
    rows are stored in start order, so naming `started_at` lets DuckDB read one row group. An id
    that carries no time (sessions from before ids did, or a made-up id) is looked for among the
    sessions of the two days before `now_ms` only: a full scan per request would let anyone make
    the server scan the whole table by sending ids.
    """
    started_ms = id_time_ms(session_id)
    if started_ms is None:
        return "started_at >= ? AND session_id = ?", [
            utc_datetime(now_ms - UNTIMED_ID_WINDOW_MS),
            session_id,
        ]
    return "started_at = ? AND session_id = ?", [utc_datetime(started_ms), session_id]


def find_session(cursor: duckdb.DuckDBPyConnection, session_id: str, now_ms: int) -> StoredSession | None:
    """The stored session with this id, if any (`now_ms`: see session_match)."""
    condition, params = session_match(session_id, now_ms)
    row = cursor.execute(
        f"SELECT session_id, visitor_id, ended_at, engagement_score FROM sessions WHERE {condition}", params
    ).fetchone()
    if row is None:
        return None
    session_id, visitor_id, ended_at, score = row
    return StoredSession(session_id, visitor_id, epoch_ms(ended_at) if ended_at else None, score)


def load_open_sessions(
    cursor: duckdb.DuckDBPyConnection, resumed_since_ms: int | None = None
) -> list[OpenSession]:
    """Every session not yet ended, with its activity rebuilt by replaying its events; with
    `resumed_since_ms`, also those its browser ended since then that have events after the end.

    After a kill -9 only the events are current (the summary is written at session end), so
    replaying them through the same SessionActivity gives the same score a clean run would.
    A session the next page reopened is not marked open on disk (that would be one more write
    per page view); its events after the end are what says it went on.
    """
    if resumed_since_ms is None:
        return _replayed_sessions(cursor, "ended_at IS NULL", [])
    since = utc_datetime(resumed_since_ms)
    carried_on = (
        "ended_at IS NULL OR (end_reason = 'client' AND ended_at >= ? AND EXISTS ("
        "SELECT 1 FROM events e WHERE e.session_id = sessions.session_id "
        "AND e.received_at >= ? AND e.received_at > sessions.ended_at))"
    )
    return _replayed_sessions(cursor, carried_on, [since, since])


def load_resumable_session(
    cursor: duckdb.DuckDBPyConnection, session_id: str, ended_since_ms: int
) -> OpenSession | None:
    """A session its browser ended at or after `ended_since_ms`, with its activity replayed.

    A tracker ends its session whenever the page is hidden or left, including when the visitor
    merely moves to the next page of the site; that page then carries on in the same session.
    Sessions ended by the idle sweep are not resumable: their visit is over.
    """
    # Ended since `ended_since_ms`, so started before it: an untimed id's window counts from there.
    condition, params = session_match(session_id, ended_since_ms)
    sessions = _replayed_sessions(
        cursor,
        f"{condition} AND end_reason = 'client' AND ended_at >= ?",
        [*params, utc_datetime(ended_since_ms)],
    )
    return sessions[0] if sessions else None


def _replayed_sessions(cursor: duckdb.DuckDBPyConnection, where: str, params: list[Any]) -> list[OpenSession]:
    # `where` is one of this module's constant conditions on the sessions table, never user input.
    sessions: dict[str, OpenSession] = {}
    summaries: dict[str, tuple[int, int]] = {}
    # A summary written by an earlier end also holds what that end reported besides events
    # (its unreported engaged time, its deepest scroll): replaying events alone would lose it.
    for session_id, visitor_id, project, started_at, last_seen_at, is_bot, engaged, scroll in cursor.execute(
        "SELECT session_id, visitor_id, project, started_at, last_seen_at, is_bot, "
        f"coalesce(engaged_ms, 0), coalesce(max_scroll, 0) FROM sessions WHERE {where}",
        params,
    ).fetchall():
        sessions[session_id] = OpenSession(
            session_id,
            visitor_id,
            project,
            epoch_ms(started_at),
            epoch_ms(last_seen_at),
            is_bot,
            SessionActivity(),
        )
        summaries[session_id] = (engaged, scroll)
    if not sessions:
        return []
    # The sessions are recent, so the scan starts at the oldest one's start: DuckDB skips the
    # older row groups.
    events = cursor.execute(
        f"""
        SELECT e.session_id, e.type, e.url, e.props, e.received_at
        FROM events e
        WHERE e.received_at >= (SELECT min(started_at) FROM sessions WHERE {where})
          AND e.session_id IN (SELECT session_id FROM sessions WHERE {where})
        ORDER BY e.received_at, e.rowid  -- rowid keeps a batch in the order it was sent
        """,
        params + params,
    ).fetchall()
    for session_id, event_type, url, props, received_at in events:
        session = sessions[session_id]
        session.activity.record(event_type, url, _decode_props(props))
        session.last_seen_ms = max(session.last_seen_ms, epoch_ms(received_at))
    for session_id, (engaged, scroll) in summaries.items():
        activity = sessions[session_id].activity
        activity.engaged_ms = max(activity.engaged_ms, engaged)
        activity.max_scroll = max(activity.max_scroll, scroll)
    return list(sessions.values())


def _decode_props(props: str | None) -> dict[str, Any] | None:
    if not props:
        return None
    decoded = msgspec.json.decode(props)
    return decoded if isinstance(decoded, dict) else None
