"""GET /analytics/storage on ClickHouse: each table's rows and bytes from its active parts, the
oldest and newest event, the registered projects."""

from __future__ import annotations

from pulsegate.domain import analytics as answers
from pulsegate.domain.timestamps import epoch_ms
from pulsegate.store.clickhouse.cursor import ClickHouseCursor
from pulsegate.store.projects import project_rows


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
