"""Rows and lookups for sessions and events in the ClickHouse store, where no row is updated: a
session is its start row, its events and its end rows (migrations/0001_tracking.sql)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from pulsegate.domain.engagement import SessionActivity, reported_engaged_ms, scroll_percent
from pulsegate.domain.enrichment import SessionOrigin
from pulsegate.domain.sessions import OpenSession
from pulsegate.domain.sources import path_of
from pulsegate.domain.timestamps import epoch_ms, utc_datetime
from pulsegate.domain.tracking import FORM_VIEW, EventFields, SessionStart
from pulsegate.store import tracking as duckdb_rows
from pulsegate.store.clickhouse.connection import ClickHouse
from pulsegate.store.tracking import FORM_VIEW_COLUMNS, SESSION_COLUMNS, SESSION_END_COLUMNS, session_match
from pulsegate.store.writer import RowWrite

EVENT_COLUMNS = (
    "received_at", "seq", "session_id", "visitor_id", "project", "type", "name", "url", "path", "title",
    "referrer", "props", "client_ms", "engaged_ms", "scroll", "is_bot",
)  # fmt: skip
END_REPORT_COLUMNS = ("session_id", "ended_at", "engaged_ms", "max_scroll")


def new_session_rows(
    session: OpenSession, start: SessionStart, origin: SessionOrigin, user_agent: str
) -> tuple[RowWrite, ...]:
    """The start row of a session starting now (DuckDB's row, as version 0), and the page view of
    its landing page."""
    started = duckdb_rows.new_session_rows(session, start, origin, user_agent)[0]
    landing = EventFields(type="pageview", url=start.url, title=start.title, referrer=start.referrer,
                          timestamp=start.timestamp)  # fmt: skip
    # The start row first: an event is never stored without its session.
    return (
        RowWrite("session_rows", started.columns, started.rows),
        *event_rows(session, [landing], session.started_ms),
    )


def event_rows(session: OpenSession, events: Sequence[EventFields], received_ms: int) -> list[RowWrite]:
    """The rows of events received now (form views to their own table, as on DuckDB)."""
    received_at = utc_datetime(received_ms)
    rows, views = [], []
    for event in events:
        if event.type == FORM_VIEW:
            views.append((received_at, session.session_id, session.visitor_id, session.project, event.name,
                          event.url, event.timestamp, session.is_bot))  # fmt: skip
            continue
        props = event.props
        rows.append((
            received_at, len(rows), session.session_id, session.visitor_id, session.project, event.type,
            event.name, event.url, path_of(event.url), event.title, event.referrer,
            msgspec.json.encode(props).decode() if props else None, event.timestamp,
            reported_engaged_ms(props) if props else None,
            scroll_percent(props.get("depth")) if props else None, session.is_bot,
        ))  # fmt: skip
    writes = [RowWrite("events", EVENT_COLUMNS, rows)] if rows else []
    if views:
        writes.append(RowWrite("form_views", FORM_VIEW_COLUMNS, views))
    return writes


def session_end_row(
    session_id: str, ended_ms: int, engaged_ms: int | None, max_scroll: int | None
) -> RowWrite:
    """A session/end: when, and the engaged time and scroll it reported beyond its events."""
    engaged = reported_engaged_ms({"engaged_ms": engaged_ms}) or 0
    row = (session_id, utc_datetime(ended_ms), engaged, scroll_percent(max_scroll))
    return RowWrite("session_ends", END_REPORT_COLUMNS, [row])


class SessionState(msgspec.Struct, frozen=True):
    """A stored session as every process sees it: its start row, and its summary so far."""

    session: OpenSession  # the start's fields, with `activity` and `last_seen_ms` from the summary
    last_event_ms: int | None
    last_end_ms: int | None
    start_row: tuple[Any, ...]  # its row's SESSION_COLUMNS, for the row its end writes
    stored_end_ms: int | None = None  # the end its stored row holds the summary of

    @property
    def summary_is_current(self) -> bool:
        """Its stored row holds its summary (it ended), and nothing arrived after that end: what a
        lead's converting session reads then, as on DuckDB once a session has left memory."""
        return self.stored_end_ms is not None and self.stored_end_ms >= self.session.last_seen_ms

    @property
    def ended_by_client(self) -> bool:
        """Its browser ended it, and nothing arrived after that end."""
        return self.last_end_ms is not None and (
            self.last_event_ms is None or self.last_end_ms >= self.last_event_ms
        )


# The summary of sessions from every process's rows, one row per session (`{where}` on session_id).
_ACTIVITY = """
    SELECT session_id, max(last_event_at) AS last_event_at, max(last_end_at) AS last_end_at,
           sum(page_views) AS page_views, sum(event_count) AS event_count,
           sum(interactions) AS interactions, sum(form_starts) AS form_starts,
           sum(form_submits) AS form_submits, sum(engaged_ms) AS engaged_ms,
           max(max_scroll) AS max_scroll, nullIf(argMaxIfMerge(exit_url), '') AS exit_url
    FROM session_activity WHERE {where} GROUP BY session_id {having}
"""
_STATE_COLUMNS = ", ".join(f"s.{name}" for name in SESSION_COLUMNS) + (
    ", a.last_event_at, a.last_end_at, a.page_views, a.event_count, a.interactions, a.form_starts, "
    "a.form_submits, a.engaged_ms, a.max_scroll, a.exit_url, s.ended_at"
)


def session_state(connection: ClickHouse, session_id: str, now_ms: int) -> SessionState | None:
    """The session with this id, with its summary folded from every process's rows; None if unknown.

    `now_ms` bounds the search for an id that carries no time (store/tracking.session_match)."""
    condition, params = session_match(session_id, now_ms)
    activity = _ACTIVITY.format(where="session_id = ?", having="")
    rows = connection.query(
        f"SELECT {_STATE_COLUMNS} FROM (SELECT * FROM sessions WHERE {condition} LIMIT 1) AS s "
        f"LEFT JOIN ({activity}) AS a ON a.session_id = s.session_id",
        [*params, session_id],
    )
    return _state(rows[0]) if rows else None


def idle_sessions(
    connection: ClickHouse, idle_before_ms: int, since_ms: int, limit: int
) -> list[SessionState]:
    """Sessions last active in [since_ms, idle_before_ms) whose stored row does not say they ended
    after that activity: open ones, and ones a page carried on after their browser ended them."""
    # The aggregates spelled out: prefer_column_name_to_alias (connection.QUERY_SETTINGS) makes a
    # bare name in HAVING the table's column, not the SELECT's alias.
    last_event, last_end = "max(last_event_at)", "max(last_end_at)"
    latest = f"greatest(coalesce({last_event}, {last_end}), coalesce({last_end}, {last_event}))"
    activity = _ACTIVITY.format(
        # Every partial row of the sessions with an event since `since_ms` (the minmax index finds them).
        where="session_id IN (SELECT session_id FROM session_activity WHERE last_event_at >= ?)",
        having=f"HAVING {latest} < ?",
    )
    rows = connection.query(
        f"SELECT {_STATE_COLUMNS} FROM ({activity}) AS a JOIN sessions AS s ON s.session_id = a.session_id "
        "WHERE (s.ended_at IS NULL OR s.ended_at < a.last_event_at) ORDER BY s.session_id LIMIT ?",
        [utc_datetime(since_ms), utc_datetime(idle_before_ms), limit],
    )
    return [_state(row) for row in rows]


def _state(row: tuple[Any, ...]) -> SessionState:
    start_row = row[: len(SESSION_COLUMNS)]
    start = dict(zip(SESSION_COLUMNS, start_row, strict=True))
    (last_event_at, last_end_at, page_views, events, interactions, form_starts, form_submits,
     engaged_ms, max_scroll, exit_url, ended_at) = row[len(SESSION_COLUMNS):]  # fmt: skip
    activity = SessionActivity(
        entry_url=start["entry_url"],
        exit_url=exit_url,
        page_views=page_views or 0,
        events=events or 0,
        interactions=interactions or 0,
        form_starts=form_starts or 0,
        form_submits=form_submits or 0,
        max_scroll=max_scroll or 0,
        engaged_ms=engaged_ms or 0,
    )
    started_ms = epoch_ms(start["started_at"])
    last_event_ms = epoch_ms(last_event_at) if last_event_at else None
    last_end_ms = epoch_ms(last_end_at) if last_end_at else None
    last_seen_ms = max(started_ms, last_event_ms or 0, last_end_ms or 0)
    session = OpenSession(
        start["session_id"], start["visitor_id"], start["project"], started_ms, last_seen_ms,
        bool(start["is_bot"]), activity,
    )  # fmt: skip
    stored_end_ms = epoch_ms(ended_at) if ended_at else None
    return SessionState(session, last_event_ms, last_end_ms, tuple(start_row), stored_end_ms)


def ended_session_row(state: SessionState, ended_ms: int, reason: str, score: int) -> RowWrite:
    """The whole row of a session as it ends (its start's fields and the summary DuckDB's end
    writes), versioned by the end's time so the latest end wins."""
    (summary,) = duckdb_rows.session_end_rows([(state.session, ended_ms, reason, score)]).rows
    row = dict(zip(SESSION_COLUMNS, state.start_row, strict=True))
    row.update(zip(SESSION_END_COLUMNS, summary, strict=True))
    row["version"] = ended_ms
    return RowWrite("session_rows", tuple(row), [tuple(row.values())])
