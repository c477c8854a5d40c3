"""The store's upkeep on ClickHouse: GET /analytics/storage (each table's rows and bytes from its
active parts, the oldest and newest event, the registered projects) and retention's deletes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pulsegate.domain import analytics as answers
from pulsegate.domain.timestamps import epoch_ms
from pulsegate.store import rollup
from pulsegate.store.clickhouse.cursor import ClickHouseCursor
from pulsegate.store.projects import project_rows

# Every row of a session, on the tables that hold sessions by id.
_SESSION_TABLES = ("session_activity", "session_ends", "session_rows")


def storage_stats(cursor: ClickHouseCursor) -> answers.Storage:
    """The store's tables as ClickHouse keeps them. Rows are the active parts' (kept by
    ClickHouse, no scan): a table whose rows are replaced or folded (session_rows,
    session_activity) counts each version until a merge folds it. There is no file nor WAL of
    ours: `database_path` names the store, its password hidden, and `database_bytes` is the sum
    of the tables' compressed bytes on disk."""
    tables = cursor.query(
        "SELECT table, sum(rows), sum(bytes_on_disk) FROM system.parts "
        "WHERE database = currentDatabase() AND active GROUP BY table ORDER BY table"
    )
    # Not queries.event_time_range: ClickHouse's min and max of no rows are 1970, not NULL.
    ((count, oldest, newest),) = cursor.query(
        "SELECT count(), min(received_at), max(received_at) FROM events"
    )
    if not count:
        oldest = newest = None
    return answers.Storage(
        database_path=cursor.target.display(),
        database_bytes=sum(int(size) for _, _, size in tables),
        wal_bytes=0,
        tables=[
            answers.TableSize(table=name, rows=int(rows), estimated_bytes=int(bytes_on_disk))
            for name, rows, bytes_on_disk in tables
        ],
        oldest_event_ms=epoch_ms(oldest) if oldest else None,
        newest_event_ms=epoch_ms(newest) if newest else None,
        archive_bytes=None,
        registered_projects=[name for name, _, _ in project_rows(cursor)],  # type: ignore[arg-type]
    )


def delete_before(cursor: ClickHouseCursor, cutoff: datetime, include_sessions: bool) -> tuple[int, int]:
    """Retention on ClickHouse: delete the events (and form views) received before `cutoff`, and
    with `include_sessions` the ended sessions that started before it; returns (events, sessions).

    Lightweight deletes, each a statement of its own (there are no transactions): rows are gone
    for every read at once, and ClickHouse drops them from disk as it merges. The rollup forgets
    the hours last, so a run cut short (any process may run retention, or the CLI) is finished by
    the next one. A session's rows go together (`delete_sessions`).
    """
    ((events,),) = cursor.query("SELECT count() FROM events WHERE received_at < ?", [cutoff])
    cursor.command("DELETE FROM events WHERE received_at < ?", [cutoff])
    cursor.command("DELETE FROM form_views WHERE received_at < ?", [cutoff])
    rollup.forget_before(cursor, cutoff)  # type: ignore[arg-type]  # the cursor speaks DuckDB's interface
    if not include_sessions:
        return int(events), 0
    ended = "SELECT session_id FROM sessions WHERE started_at < ? AND ended_at IS NOT NULL"
    ((sessions,),) = cursor.query(f"SELECT count() FROM ({ended})", [cutoff])
    delete_sessions(cursor, ended, [cutoff])
    return int(events), int(sessions)


def delete_sessions(cursor: ClickHouseCursor, chosen: str, params: Sequence[Any]) -> None:
    """Delete every row of the sessions whose ids the query `chosen` (our own SQL) selects: its
    start, its ends and the summary folded from its events (deleting only its end row would show
    it open again). session_rows last: a subquery over `sessions` reads it."""
    for table in _SESSION_TABLES:
        cursor.command(f"DELETE FROM {table} WHERE session_id IN ({chosen})", params)
