"""The sessions table has no key index (migration 0004): rows kept, lookups by id still find them."""

from __future__ import annotations

import uuid
from pathlib import Path

import duckdb

from pulsegate.domain.ids import new_id
from pulsegate.domain.sources import path_of
from pulsegate.domain.timestamps import now_ms, utc_datetime
from pulsegate.domain.visitor import visitor_key
from pulsegate.store.database import Database
from pulsegate.store.migrations import available_migrations, schema_version
from pulsegate.store.tracking import SESSION_COLUMNS, find_session
from pulsegate.store.writer import RowWrite, commit_writes

HOUR_MS = 3_600_000


# What a version 3 file's sessions table had: no entry_path yet (migration 0006 adds it).
V3_COLUMNS = tuple(column for column in SESSION_COLUMNS if column not in ("entry_path", "visitor_key"))


def session_row(
    session_id: str, started_ms: int, columns: tuple[str, ...] = SESSION_COLUMNS
) -> tuple[object, ...]:
    started = utc_datetime(started_ms)
    values = {"session_id": session_id, "visitor_id": "v", "project": "acme", "started_at": started,
              "last_seen_at": started, "entry_url": "https://example.com/", "source": "Direct",
              "is_hosting": False, "is_bot": False}  # fmt: skip
    return tuple(values.get(column) for column in columns)


def database_at_version_3(path: Path) -> None:
    """A file as PulseGate left it before migration 0004: sessions keyed by a PRIMARY KEY."""
    connection = duckdb.connect(str(path))
    for migration in available_migrations()[:3]:
        connection.execute(migration.sql)
    connection.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', '3')")
    connection.close()


def test_migration_drops_the_key_index_and_keeps_every_row_in_order(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    database_at_version_3(path)
    connection = duckdb.connect(str(path))
    base = now_ms() - 5 * HOUR_MS
    legacy = [(str(uuid.uuid4()), base + n * 60_000) for n in range(50)]
    commit_writes(
        connection, [RowWrite("sessions", V3_COLUMNS, [session_row(*s, V3_COLUMNS) for s in legacy])]
    )
    connection.execute("UPDATE sessions SET ended_at = started_at + INTERVAL 5 MINUTE, engagement_score = 40")
    before = connection.execute("SELECT * FROM sessions ORDER BY rowid").fetchall()
    assert connection.execute(
        "SELECT count(*) FROM duckdb_constraints() WHERE table_name = 'sessions' AND constraint_type = 'PRIMARY KEY'"
    ).fetchall() == [(1,)]
    connection.close()

    database = Database.open(path)
    try:
        cursor = database.connection
        assert schema_version(cursor) == len(available_migrations())
        kept = cursor.execute(
            "SELECT * EXCLUDE (entry_path, exit_path, visitor_key) FROM sessions ORDER BY rowid"
        ).fetchall()
        assert kept == before
        # Migration 0012 gave every session its visitor's key.
        assert cursor.execute("SELECT DISTINCT visitor_key FROM sessions").fetchall() == [(visitor_key("v"),)]
        assert (
            cursor.execute(
                "SELECT constraint_type FROM duckdb_constraints() WHERE table_name = 'sessions' "
                "AND constraint_type IN ('PRIMARY KEY', 'UNIQUE')"
            ).fetchall()
            == []
        )
        assert cursor.execute(
            "SELECT count(*) FROM duckdb_indexes() WHERE table_name = 'sessions'"
        ).fetchall() == [(0,)]
        # The column rules came along: NOT NULL and the defaults.
        nullable = dict(
            cursor.execute(
                "SELECT column_name, is_nullable FROM information_schema.columns WHERE table_name = 'sessions'"
            ).fetchall()
        )
        assert nullable["session_id"] == nullable["visitor_id"] == nullable["started_at"] == "NO"
        cursor.execute(
            "INSERT INTO sessions (session_id, visitor_id, started_at, last_seen_at, entry_url) "
            "VALUES ('x', 'v', now()::TIMESTAMP, now()::TIMESTAMP, 'https://e.com/')"
        )
        assert cursor.execute("SELECT source, is_bot FROM sessions WHERE session_id = 'x'").fetchall() == [
            ("Direct", False)
        ]
        # A session from before ids carried their start is still found by its id.
        found = find_session(cursor, legacy[-1][0], now_ms())
        assert found is not None and found.engagement_score == 40
    finally:
        database.close()


def test_lookups_by_id_use_the_start_time_the_id_carries(tmp_path: Path) -> None:
    database = Database.open(tmp_path / "p.duckdb")
    try:
        now = now_ms()
        timed = new_id(now - 400 * 24 * HOUR_MS)  # old, but its id says when it started
        recent_untimed = str(uuid.uuid4())
        old_untimed = str(uuid.uuid4())
        rows = [session_row(timed, now - 400 * 24 * HOUR_MS), session_row(old_untimed, now - 3 * 24 * HOUR_MS),
                session_row(recent_untimed, now - HOUR_MS)]  # fmt: skip
        commit_writes(database.connection, [RowWrite("sessions", SESSION_COLUMNS, rows)])
        cursor = database.connection
        assert find_session(cursor, timed, now) is not None
        assert find_session(cursor, recent_untimed, now) is not None
        # An id without a time is only looked for among the last two days' sessions.
        assert find_session(cursor, old_untimed, now) is None
        # A v7 id whose time does not match the stored start is not that session.
        forged = new_id(now)
        assert find_session(cursor, forged, now) is None
    finally:
        database.close()


def test_half_a_million_sessions_written_in_one_process_still_checkpoint(tmp_path: Path) -> None:
    # With the old PRIMARY KEY, the key's index (held in memory, counted against the 64 MB
    # default) made an automatic checkpoint fail with a FATAL error at about 460,000 sessions of
    # random ids, after which DuckDB refuses every write until a restart. Random (v4) ids here,
    # as before 0004: the test is about the table, and they are the index's worst case.
    database = Database.open(tmp_path / "p.duckdb")
    try:
        started = now_ms() - 24 * HOUR_MS
        total = 0
        for group in range(300):
            rows = [session_row(str(uuid.uuid4()), started + group * 1000) for _ in range(2000)]
            commit_writes(database.connection, [RowWrite("sessions", SESSION_COLUMNS, rows)])
            total += len(rows)
        database.connection.execute("CHECKPOINT")
        assert database.connection.execute("SELECT count(*) FROM sessions").fetchall() == [(total,)]
    finally:
        database.close()


def test_migration_6_gives_older_sessions_the_paths_new_ones_get_at_start_and_end(tmp_path: Path) -> None:
    urls = [
        "https://example.com/", "https://example.com", "https://example.com/pricing?plan=pro#top",
        "http://www.example.org:8080/a/b/", "https://example.com?x=1", "https://example.com#frag",
        "/just/a/path?q", "https://example.com/%C3%A9t%C3%A9",
    ]  # fmt: skip
    path = tmp_path / "v5.duckdb"
    connection = duckdb.connect(str(path))
    for migration in available_migrations()[:5]:
        connection.execute(migration.sql)
    connection.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', '5')")
    columns = ("session_id", "visitor_id", "started_at", "last_seen_at", "entry_url", "exit_url")
    started = utc_datetime(now_ms())
    rows = [(f"s{n}", "v", started, started, url, urls[-1 - n]) for n, url in enumerate(urls)]
    commit_writes(connection, [RowWrite("sessions", columns, rows)])
    connection.close()

    database = Database.open(path)
    try:
        stored = database.connection.execute(
            "SELECT entry_url, entry_path, exit_url, exit_path FROM sessions ORDER BY session_id"
        ).fetchall()
    finally:
        database.close()
    assert len(stored) == len(urls)
    for entry_url, entry_path, exit_url, exit_path in stored:
        assert entry_path == path_of(entry_url), entry_url
        assert exit_path == path_of(exit_url), exit_url
