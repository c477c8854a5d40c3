"""Writing imported sessions and events (Umami's visits) as native rows, each once.

A batch goes in one transaction (the caller's): its sessions (already ended, with their
summary), their events in time order, one `imported_sessions` row per session, then the event
rollup of the hours they touch (`rollup.rebuild`: the rollup holds those hours already when
the history is older than the server's frontier). A session id `imported_sessions` already
holds is skipped with its events, so a second run over the same visits writes nothing twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

import duckdb

from pulsegate.domain.sources import path_of
from pulsegate.domain.umami import ImportedSession
from pulsegate.domain.visitor import visitor_key
from pulsegate.store import rollup

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
    found = connection.execute(
        "SELECT session_id FROM imported_sessions WHERE session_id IN (SELECT unnest(?::VARCHAR[]))",
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
    _append(connection, "sessions", SESSION_COLUMNS, session_rows)
    _append(connection, "events", EVENT_COLUMNS, event_rows)
    _append(
        connection, "imported_sessions", ("import_id", "session_id"), [(import_id, s.session_id) for s in new]
    )
    start = min(s.started_us for s in new)
    end = max(s.last_us for s in new)
    rollup.rebuild(connection, utc(start), utc(end) + timedelta(microseconds=1))
    return len(new), len(event_rows)


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
        "SELECT min(s.started_at)::DATE, max(s.started_at)::DATE FROM imported_sessions i "
        "JOIN sessions s USING (session_id) WHERE i.import_id = ?",
        [import_id],
    ).fetchall()[0]
    return first, last
