"""Rows and lookups for sessions and events in the ClickHouse store, where no row is updated: a
session is its start row, its events and its end rows (migrations/0001_tracking.sql)."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from pulsegate.domain.engagement import SessionActivity, reported_engaged_ms, scroll_percent
from pulsegate.domain.enrichment import SessionOrigin
from pulsegate.domain.sessions import OpenSession
from pulsegate.domain.sources import path_of
from pulsegate.domain.timestamps import epoch_ms, utc_datetime
from pulsegate.domain.tracking import FORM_VIEW, EventFields, SessionStart
from pulsegate.domain.visitor import visitor_key
from pulsegate.store.clickhouse.connection import ClickHouse
from pulsegate.store.tracking import FORM_VIEW_COLUMNS, session_match
from pulsegate.store.writer import RowWrite

SESSION_START_COLUMNS = (
    "session_id", "visitor_id", "visitor_key", "project", "started_at", "entry_url", "entry_path",
    "referrer", "title", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content",
    "screen_width", "screen_height", "language", "timezone", "user_agent", "source", "referrer_host",
    "country", "as_organisation", "is_hosting", "browser", "os", "device", "is_bot",
)  # fmt: skip
EVENT_COLUMNS = (
    "received_at", "seq", "session_id", "visitor_id", "project", "type", "name", "url", "path", "title",
    "referrer", "props", "client_ms", "engaged_ms", "scroll", "is_bot",
)  # fmt: skip
SESSION_END_COLUMNS = ("session_id", "ended_at", "engaged_ms", "max_scroll")


def new_session_rows(
    session: OpenSession, start: SessionStart, origin: SessionOrigin, user_agent: str
) -> tuple[RowWrite, ...]:
    """The start row of a session starting now, and the page view of its landing page."""
    row = (
        session.session_id, session.visitor_id, visitor_key(session.visitor_id), session.project,
        utc_datetime(session.started_ms), start.url, path_of(start.url), start.referrer, start.title,
        origin.utm_source, origin.utm_medium, origin.utm_campaign, origin.utm_term, origin.utm_content,
        start.screen_width, start.screen_height, start.language, start.timezone, user_agent[:512] or None,
        origin.source, origin.referrer_host, origin.country, origin.as_organisation, origin.is_hosting,
        origin.browser, origin.os, origin.device, origin.is_bot,
    )  # fmt: skip
    landing = EventFields(type="pageview", url=start.url, title=start.title, referrer=start.referrer,
                          timestamp=start.timestamp)  # fmt: skip
    # The start row first: an event is never stored without its session.
    return (
        RowWrite("session_starts", SESSION_START_COLUMNS, [row]),
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
    return RowWrite("session_ends", SESSION_END_COLUMNS, [row])


class SessionState(msgspec.Struct, frozen=True):
    """A stored session as every process sees it: its start, and its summary so far."""

    session: OpenSession  # the start's fields, with `activity` and `last_seen_ms` from the summary
    last_event_ms: int | None
    last_end_ms: int | None

    @property
    def ended_by_client(self) -> bool:
        """Its browser ended it, and nothing arrived after that end."""
        return self.last_end_ms is not None and (
            self.last_event_ms is None or self.last_end_ms >= self.last_event_ms
        )


def session_state(connection: ClickHouse, session_id: str, now_ms: int) -> SessionState | None:
    """The session with this id, with its summary folded from every process's rows; None if unknown.

    `now_ms` bounds the search for an id that carries no time (store/tracking.session_match)."""
    condition, params = session_match(session_id, now_ms)
    rows = connection.query(
        f"""
        SELECT s.visitor_id, s.project, s.started_at, s.is_bot, a.last_event_at, a.last_end_at,
               a.page_views, a.event_count, a.interactions, a.form_starts, a.form_submits,
               a.engaged_ms, a.max_scroll, a.exit_url
        FROM (SELECT session_id, visitor_id, project, started_at, is_bot FROM session_starts
              WHERE {condition} LIMIT 1) AS s
        LEFT JOIN (
            SELECT session_id, max(last_event_at) AS last_event_at, max(last_end_at) AS last_end_at,
                   sum(page_views) AS page_views, sum(event_count) AS event_count,
                   sum(interactions) AS interactions, sum(form_starts) AS form_starts,
                   sum(form_submits) AS form_submits, sum(engaged_ms) AS engaged_ms,
                   max(max_scroll) AS max_scroll, nullIf(argMaxIfMerge(exit_url), '') AS exit_url
            FROM session_activity WHERE session_id = ? GROUP BY session_id
        ) AS a ON a.session_id = s.session_id
        """,
        [*params, session_id],
    )
    if not rows:
        return None
    (visitor_id, project, started_at, is_bot, last_event_at, last_end_at, page_views, events,
     interactions, form_starts, form_submits, engaged_ms, max_scroll, exit_url) = rows[0]  # fmt: skip
    activity = SessionActivity(
        exit_url=exit_url,
        page_views=page_views or 0,
        events=events or 0,
        interactions=interactions or 0,
        form_starts=form_starts or 0,
        form_submits=form_submits or 0,
        max_scroll=max_scroll or 0,
        engaged_ms=engaged_ms or 0,
    )
    started_ms = epoch_ms(started_at)
    last_event_ms = epoch_ms(last_event_at) if last_event_at else None
    last_end_ms = epoch_ms(last_end_at) if last_end_at else None
    last_seen_ms = max(started_ms, last_event_ms or 0, last_end_ms or 0)
    session = OpenSession(session_id, visitor_id, project, started_ms, last_seen_ms, bool(is_bot), activity)
    return SessionState(session, last_event_ms, last_end_ms)


def open_session_count(connection: ClickHouse, active_since_ms: int) -> int:
    """Sessions with activity since `active_since_ms` whose last word was not their end."""
    since = utc_datetime(active_since_ms)
    rows = connection.query(
        """
        SELECT count() FROM (
            SELECT session_id, max(last_event_at) AS event_at, max(last_end_at) AS end_at
            FROM session_activity GROUP BY session_id
            HAVING greatest(coalesce(event_at, end_at), coalesce(end_at, event_at)) >= ?
               AND (end_at IS NULL OR event_at > end_at))
        """,
        [since],
    )
    return int(rows[0][0])
