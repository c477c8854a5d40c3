"""/analytics/storage keeps each table's bytes while the file is unchanged, and only then; the
tables' bytes read on two reader threads are those of one pass (services/analytics.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pulsegate.domain.analytics import Storage
from pulsegate.services.analytics import AnalyticsService, storage_stats
from pulsegate.store.database import Database


def _sizes(stats: Storage) -> dict[str, tuple[int, int]]:
    return {t.table: (t.rows, t.estimated_bytes) for t in stats.tables}


def _add_events(db: Database, count: int, offset: int) -> None:
    db.connection.execute(
        "INSERT INTO events (received_at, session_id, visitor_id, type, path) "
        "SELECT TIMESTAMP '2026-05-01' + INTERVAL (i) SECOND, 's' || (i // 50), 'v' || (i // 500), 'pageview', "
        "'/p/' || (i % 97) FROM range(?, ?) t(i)",
        [offset, offset + count],
    )


def test_the_bytes_are_kept_while_the_file_is_unchanged_and_read_again_after_a_checkpoint(
    tmp_path: Path,
) -> None:
    path = tmp_path / "storage.duckdb"
    db = Database.open(path)
    service = AnalyticsService(db)
    try:
        _add_events(db, 300_000, 0)
        db.checkpoint()
        first = asyncio.run(service.storage())
        assert _sizes(first) == _sizes(storage_stats(db.connection, path))
        assert _sizes(first)["events"][1] > 0
        assert service._storage_cache._bytes.keys() == _sizes(first).keys()  # kept for the file as it is
        # Unchanged file: the bytes come from the cache, the rows from the catalog.
        _add_events(db, 1_000, 300_000)  # in the WAL: the file's blocks are as they were
        kept = asyncio.run(service.storage())
        assert _sizes(kept)["events"] == (301_000, _sizes(first)["events"][1])
        assert _sizes(kept) == _sizes(storage_stats(db.connection, path))
        # A checkpoint writes the file: every table's bytes are read again.
        _add_events(db, 600_000, 301_000)
        db.checkpoint()
        after = asyncio.run(service.storage())
        assert _sizes(after) == _sizes(storage_stats(db.connection, path))
        assert _sizes(after)["events"][1] > _sizes(first)["events"][1]
    finally:
        db.close()
