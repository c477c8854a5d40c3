"""Opening the database: migrations, kept secrets, and a clear error when another process holds it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from pulsegate.store.database import Database, DatabaseLocked
from pulsegate.store.migrations import available_migrations, schema_version


def test_new_database_is_migrated_to_the_latest_version(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "p.duckdb"
    database = Database.open(path)
    try:
        assert schema_version(database.connection) == len(available_migrations())
        tables = {row[0] for row in database.connection.execute("SHOW TABLES").fetchall()}
        assert {"meta", "sessions", "events"} <= tables
    finally:
        database.close()
    assert path.is_file()


def test_reopening_applies_nothing_and_keeps_secrets(tmp_path: Path) -> None:
    path = tmp_path / "p.duckdb"
    first = Database.open(path)
    salt = first.secret("visitor_salt")
    first.close()
    second = Database.open(path)
    try:
        assert second.secret("visitor_salt") == salt
        assert len(salt) == 64
        assert second.secret("visitor_salt", configured="mine") == "mine"
    finally:
        second.close()


def test_database_newer_than_the_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "p.duckdb"
    database = Database.open(path)
    database.connection.execute("UPDATE meta SET value = '999' WHERE key = 'schema_version'")
    database.close()
    with pytest.raises(RuntimeError, match="newer than this PulseGate knows"):
        Database.open(path)


def test_held_database_names_the_holding_process(tmp_path: Path) -> None:
    path = tmp_path / "p.duckdb"
    Database.open(path).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(path)!r}); print('ok', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ok"
        with pytest.raises(DatabaseLocked) as caught:
            Database.open(path)
        assert caught.value.holder_pid == holder.pid
        assert f"process {holder.pid}" in caught.value.message
        assert caught.value.status_code == 503
    finally:
        holder.kill()
        holder.wait()
    time.sleep(0.1)
    Database.open(path).close()  # free again once the holder is gone


def test_reads_run_on_threads_with_their_own_cursors(tmp_path: Path) -> None:
    import asyncio
    import threading

    database = Database.open(tmp_path / "p.duckdb")

    def which_thread(cursor: object) -> tuple[str, int]:
        return threading.current_thread().name, cursor.execute("SELECT 41 + 1").fetchone()[0]

    async def scenario() -> list[tuple[str, int]]:
        return await asyncio.gather(*(database.read(which_thread) for _ in range(8)))

    try:
        results = asyncio.run(scenario())
    finally:
        database.close()
    assert all(value == 42 for _, value in results)
    assert all(name.startswith("pulsegate-read") for name, _ in results)


def test_event_type_enum_matches_the_domain(tmp_path: Path) -> None:
    from pulsegate.domain.tracking import STORED_EVENT_TYPES

    database = Database.open(tmp_path / "p.duckdb")
    try:
        values = database.connection.execute("SELECT enum_range(NULL::event_type)").fetchall()[0][0]
    finally:
        database.close()
    assert tuple(values) == STORED_EVENT_TYPES


def test_a_read_refused_for_memory_runs_again_alone_and_then_gives_up_as_unavailable(tmp_path: Path) -> None:
    import threading

    import duckdb

    from pulsegate.errors import StorageUnavailable

    database = Database.open(tmp_path / "m.duckdb")
    release, slow_started = threading.Event(), threading.Event()
    finished: list[str] = []

    def slow(cursor: duckdb.DuckDBPyConnection) -> None:
        slow_started.set()
        release.wait(5)
        finished.append("slow")

    attempts: list[int] = []

    def hungry(cursor: duckdb.DuckDBPyConnection) -> str:
        attempts.append(len(finished))
        if len(attempts) == 1:
            raise duckdb.OutOfMemoryException("Out of Memory Error: could not allocate block")
        return "answered"

    other = threading.Thread(target=database.read_now, args=(slow,))
    other.start()
    slow_started.wait(5)
    retried: list[str] = []
    worker = threading.Thread(target=lambda: retried.append(database.read_now(hungry)))
    worker.start()
    time.sleep(0.3)
    assert attempts == [0] and not retried  # refused, and waiting for the slow read to finish
    release.set()
    worker.join(5)
    other.join(5)
    assert retried == ["answered"] and attempts == [0, 1]  # the second try ran after the slow read

    def always_hungry(cursor: duckdb.DuckDBPyConnection) -> None:
        raise duckdb.OutOfMemoryException("Out of Memory Error: could not allocate block")

    with pytest.raises(StorageUnavailable, match=r"storage\.duckdb_memory_limit is 64MB"):
        database.read_now(always_hungry)
    assert database.read_now(lambda cursor: cursor.execute("SELECT 1").fetchall()) == [(1,)]
    database.close()


def test_a_file_swap_waits_for_a_read_running_alone(tmp_path: Path) -> None:
    import threading

    import duckdb

    database = Database.open(tmp_path / "main.duckdb")
    Database.open(tmp_path / "replacement.duckdb").close()  # a valid file to swap in
    second_try, release = threading.Event(), threading.Event()
    order: list[str] = []

    def hungry(cursor: duckdb.DuckDBPyConnection) -> None:
        if not second_try.is_set():
            second_try.set()
            raise duckdb.OutOfMemoryException("Out of Memory Error: could not allocate block")
        release.wait(5)  # the retry, running alone, holds on
        cursor.execute("SELECT 1").fetchall()
        order.append("read done")

    reader = threading.Thread(target=database.read_now, args=(hungry,))
    reader.start()
    second_try.wait(5)
    time.sleep(0.1)
    swapper = threading.Thread(
        target=lambda: (database.swap_file(tmp_path / "replacement.duckdb"), order.append("swapped"))
    )
    swapper.start()
    time.sleep(0.3)
    assert order == []  # the swap waits: it would close the cursor the retry is using
    release.set()
    reader.join(5)
    swapper.join(5)
    assert order == ["read done", "swapped"]
    assert database.read_now(lambda cursor: cursor.execute("SELECT 1").fetchall()) == [(1,)]
    database.close()
