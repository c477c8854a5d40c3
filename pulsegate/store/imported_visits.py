"""Writing imported sessions and events (Umami's visits) as native rows, each once.

A batch goes in one transaction (the caller's): its sessions (already ended, with their
summary), their events in time order, one `imported_sessions` row per session, then the event
rollup of the hours they touch (`rollup.rebuild`: the rollup holds those hours already when
the history is older than the server's frontier). A session id `imported_sessions` already
holds is skipped with its events, so a second run over the same visits writes nothing twice.

On ClickHouse there is no transaction: each step of a batch can be taken twice instead, and the
`imported_sessions` rows, which mark a session written, go last (`_write_on_clickhouse`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

import duckdb

from pulsegate.domain.sources import path_of
from pulsegate.domain.umami import ImportedSession
from pulsegate.domain.visitor import visitor_key
from pulsegate.store import rollup
from pulsegate.store.clickhouse.cursor import is_clickhouse
from pulsegate.store.imports import fresh_token

EPOCH = datetime(1970, 1, 1)  # the events and sessions tables keep naive UTC times
END_REASON = "import"  # not 'client': an imported session is never resumed by a tracker
SESSION_COLUMNS = (
    "session_id", "visitor_id", "project", "started_at", "last_seen_at", "ended_at", "end_reason",
    "entry_url", "entry_path", "exit_url", "exit_path", "referrer", "title", "utm_source", "utm_medium",
    "utm_campaign", "utm_term", "utm_content", "screen_width", "screen_height", "language", "source",
    "referrer_host", "country", "browser", "os", "device", "is_bot", "is_hosting", "page_views",
    "event_count", "interactions", "form_starts", "form_submits", "duration_ms", "visitor_key",
)  # fmt: skip
EVENT_COLUMNS = (
    "received_at", "session_id", "visitor_id", "project", "type", "name", "url", "path", "title",
    "referrer", "props", "is_bot",
)  # fmt: skip


def utc(epoch_us: int) -> datetime:
    """The naive UTC datetime of epoch microseconds."""
    return EPOCH + timedelta(microseconds=epoch_us)


def already_imported(connection: duckdb.DuckDBPyConnection, session_ids: Sequence[str]) -> set[str]:
    """Which of these session ids an import has written already."""
    if not session_ids:
        return set()
    listed = "arrayJoin(?)" if is_clickhouse(connection) else "unnest(?::VARCHAR[])"
    found = connection.execute(
        f"SELECT session_id FROM imported_sessions WHERE session_id IN (SELECT {listed})",
        [list(session_ids)],
    ).fetchall()
    return {session_id for (session_id,) in found}


def write_sessions(
    connection: duckdb.DuckDBPyConnection, import_id: int, project: str, sessions: Sequence[ImportedSession]
) -> tuple[int, int]:
    """Write the sessions not written before, their events and their `imported_sessions` rows,
    and make the rollup of their hours again; returns (sessions, events) written. In a transaction."""
    done = already_imported(connection, [session.session_id for session in sessions])
    new = [session for session in sessions if session.session_id not in done]
    if not new:
        return 0, 0
    session_rows = []
    event_rows = []
    for s in new:
        started, last = utc(s.started_us), utc(s.last_us)
        session_rows.append(
            (s.session_id, s.visitor_id, project, started, last, last, END_REASON, s.entry_url,
             path_of(s.entry_url), s.exit_url, path_of(s.exit_url), s.referrer, s.title, s.utm_source,
             s.utm_medium, s.utm_campaign, s.utm_term, s.utm_content, s.screen_width, s.screen_height,
             s.language, s.source, s.referrer_host, s.country, s.browser, s.os, s.device, False, False,
             s.page_views, len(s.events), s.interactions, 0, 0, (s.last_us - s.started_us) // 1000,
             visitor_key(s.visitor_id))
        )  # fmt: skip
        for e in s.events:
            event_rows.append(
                (utc(e.at_us), s.session_id, s.visitor_id, project, e.type, e.name, e.url, path_of(e.url),
                 e.title, e.referrer, e.props, False)
            )  # fmt: skip
    # Events in time order, as the server appends them: DuckDB's per-row-group min/max of
    # received_at then skips these row groups for windows outside them.
    event_rows.sort(key=lambda row: row[0])
    marks = [(import_id, s.session_id) for s in new]
    start = utc(min(s.started_us for s in new))
    end = utc(max(s.last_us for s in new)) + timedelta(microseconds=1)
    if is_clickhouse(connection):
        return len(new), _write_on_clickhouse(connection, session_rows, event_rows, marks, start, end)
    _append(connection, "sessions", SESSION_COLUMNS, session_rows)
    _append(connection, "events", EVENT_COLUMNS, event_rows)
    _append(connection, "imported_sessions", ("import_id", "session_id"), marks)
    rollup.rebuild(connection, start, end)
    return len(new), len(event_rows)


def _write_on_clickhouse(
    connection: duckdb.DuckDBPyConnection,
    session_rows: Sequence[tuple[object, ...]],
    event_rows: Sequence[tuple[object, ...]],
    marks: list[tuple[int, str]],
    start: datetime,
    end: datetime,
) -> int:
    """A batch on ClickHouse, where a run a crash cut short may have written part of it (each
    insert is whole, but there is no transaction around them); returns the events written.

    - Events first, of the sessions that have none stored yet (one insert: a session's events
      are all there or none are).
    - Then the sessions: a session row written again is the same row of a ReplacingMergeTree,
      and the `sessions` view keeps one.
    - Then the rollup of their hours, made again from the events.
    - Last the marks, after which a run skips these sessions.

    Each insert has a token of its own: these tables keep a window of recent inserts, and one
    equal to an earlier (a website imported again after `import remove`) would be dropped.
    """
    ids = [row[1] for row in marks]
    found = connection.execute(
        "SELECT DISTINCT session_id FROM events WHERE received_at >= ? AND received_at < ? "
        "AND session_id IN (SELECT arrayJoin(?))",
        [start, end, ids],
    ).fetchall()
    written = {session_id for (session_id,) in found}
    events = [row for row in event_rows if row[1] not in written]
    insert = connection.insert  # type: ignore[attr-defined]
    insert("events", EVENT_COLUMNS, events, token=fresh_token())
    insert("sessions", SESSION_COLUMNS, session_rows, token=fresh_token())
    rollup.rebuild(connection, start, end)
    insert("imported_sessions", ("import_id", "session_id"), marks, token=fresh_token())
    return len(events)


def _append(connection: duckdb.DuckDBPyConnection, table: str, columns: Sequence[str], rows: list) -> None:
    appender = connection.appender(table, columns=list(columns))
    appender.append_rows(rows)
    appender.flush()


def reopen(connection: duckdb.DuckDBPyConnection, import_id: int) -> None:
    """Mark a complete import as loading again: a later run adds the visits since."""
    connection.execute("UPDATE imports SET status = 'loading', finished_at = NULL WHERE id = ?", [import_id])


def imported_days(connection: duckdb.DuckDBPyConnection, import_id: int) -> tuple[date | None, date | None]:
    """The first and last UTC day an import's sessions started on (None, None without any)."""
    first, last = connection.execute(
        # Not min() alone: ClickHouse's min of no rows is 1970, not NULL. And not a join: on
        # ClickHouse its right side (every session) would be held in memory.
        "SELECT CASE WHEN count(*) > 0 THEN min(started_at)::DATE END, "
        "CASE WHEN count(*) > 0 THEN max(started_at)::DATE END FROM sessions "
        "WHERE session_id IN (SELECT session_id FROM imported_sessions WHERE import_id = ?)",
        [import_id],
    ).fetchall()[0]
    return first, last
