"""Compaction gives back the space of deleted rows and keeps every other row; backups are whole."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from cli.main import app
from pulsegate.store.database import Database
from pulsegate.store.migrations import available_migrations, schema_version

runner = CliRunner()


def seed_events(database: Path, count: int) -> None:
    db = Database.open(database)
    try:
        appender = db.connection.appender(
            "events", columns=["received_at", "session_id", "visitor_id", "type", "url"]
        )
        start = datetime(2026, 1, 1)
        for offset in range(0, count, 100_000):
            appender.append_rows(
                [(start + timedelta(seconds=n), f"s{n // 50}", f"v{n % 977}", "pageview", f"https://e.com/{n % 300}")
                 for n in range(offset, min(count, offset + 100_000))]
            )  # fmt: skip
            appender.flush()
        db.checkpoint()
    finally:
        db.close()


def test_compaction_after_deleting_a_million_events(tmp_path: Path) -> None:
    database = tmp_path / "p.duckdb"
    seed_events(database, 1_200_000)
    db = Database.open(database)
    try:
        db.connection.execute(
            "DELETE FROM events WHERE received_at < TIMESTAMP '2026-01-01' + INTERVAL 1000000 SECOND"
        )
        db.checkpoint()
        kept = db.connection.execute(
            "SELECT count(*), sum(hash(session_id, received_at)) FROM events"
        ).fetchall()[0]
    finally:
        db.close()
    assert kept[0] == 200_000
    before = database.stat().st_size

    result = runner.invoke(app, ["storage", "compact", "--database", str(database)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Compacted" in result.output
    after = database.stat().st_size
    assert after < before * 0.6, (before, after)
    assert not database.with_name(database.name + ".old").exists()

    db = Database.open(database)
    try:
        assert (
            db.connection.execute(
                "SELECT count(*), sum(hash(session_id, received_at)) FROM events"
            ).fetchall()[0]
            == kept
        )
        assert schema_version(db.connection) == len(available_migrations())
    finally:
        db.close()


def test_backup_is_a_whole_database(tmp_path: Path) -> None:
    database, copy = tmp_path / "p.duckdb", tmp_path / "backups" / "copy.duckdb"
    seed_events(database, 5000)
    result = runner.invoke(app, ["backup", str(copy), "--database", str(database)])
    assert result.exit_code == 0, result.output
    again = runner.invoke(app, ["backup", str(copy), "--database", str(database)])
    assert again.exit_code == 2 and "--force" in again.output
    db = Database.open(copy)
    try:
        assert db.connection.execute("SELECT count(*) FROM events").fetchall() == [(5000,)]
    finally:
        db.close()


def test_storage_stats(tmp_path: Path) -> None:
    database = tmp_path / "p.duckdb"
    seed_events(database, 3000)
    result = runner.invoke(app, ["storage", "stats", "--database", str(database)], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert (
        "3,000" in result.output and "Events from 2026-01-01 00:00 to 2026-01-01 00:49 UTC" in result.output
    )


def test_prune_with_archive(tmp_path: Path) -> None:
    import duckdb

    from pulsegate.domain.timestamps import now_ms, utc_datetime

    database = tmp_path / "p.duckdb"
    db = Database.open(database)
    now = utc_datetime(now_ms())
    try:
        appender = db.connection.appender(
            "events", columns=["received_at", "session_id", "visitor_id", "type"]
        )
        appender.append_rows(
            [(now - timedelta(days=days, hours=1), f"s{days}", "v", "pageview") for days in range(0, 20)]
        )
        appender.flush()
        appender = db.connection.appender(
            "form_views", columns=["received_at", "session_id", "visitor_id", "form"]
        )
        appender.append_rows(
            [(now - timedelta(days=days, hours=1), f"s{days}", "v", "contact") for days in range(0, 20)]
        )
        appender.flush()
        appender = db.connection.appender("sessions", columns=["session_id", "visitor_id", "started_at", "last_seen_at",
                                                               "ended_at", "entry_url"])  # fmt: skip
        appender.append_rows([(f"s{days}", "v", now - timedelta(days=days, hours=2), now, now, "https://e.com/")
                              for days in range(0, 20)])  # fmt: skip
        appender.flush()
    finally:
        db.close()
    archive = tmp_path / "archive"
    result = runner.invoke(app, ["storage", "prune", "--older-than", "10d", "--archive", str(archive),
                                 "--database", str(database)], env={"COLUMNS": "200"})  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Deleted 10 events and 0 sessions" in result.output
    archived = (
        duckdb.connect()
        .execute(
            f"SELECT count(*), min(session_id) FROM read_parquet('{archive}/**/*.parquet', hive_partitioning = true)"
        )
        .fetchall()
    )
    assert archived == [(10, "s10")]
    assert len(list(archive.glob("day=*"))) == 10  # one folder per day
    db = Database.open(database)
    try:
        assert db.connection.execute("SELECT count(*) FROM events").fetchall() == [(10,)]
        assert db.connection.execute("SELECT count(*) FROM form_views").fetchall() == [(10,)]
        assert db.connection.execute("SELECT count(*) FROM sessions").fetchall() == [(20,)]  # kept
    finally:
        db.close()
    bad = runner.invoke(app, ["storage", "prune", "--older-than", "ten", "--database", str(database)])
    assert bad.exit_code == 2 and "--older-than" in bad.output


def test_backup_refuses_the_database_itself(tmp_path: Path) -> None:
    database = tmp_path / "p.duckdb"
    seed_events(database, 100)
    for target in (database, tmp_path / "p.duckdb.wal"):
        result = runner.invoke(app, ["backup", str(target), "--force", "--database", str(database)])
        assert result.exit_code == 2 and "the database itself" in result.output
    db = Database.open(database)
    try:
        assert db.connection.execute("SELECT count(*) FROM events").fetchall() == [(100,)]
    finally:
        db.close()
    beside = runner.invoke(app, ["backup", str(tmp_path / "p.duckdb-copy"), "--database", str(database)])
    assert beside.exit_code == 0, beside.output  # a different file in the same folder is fine
