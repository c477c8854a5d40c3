"""The group-commit writer: acknowledged means committed, groups share commits, failures stay local."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from pulsegate.errors import StorageBusy, StorageUnavailable
from pulsegate.store.writer import RowWrite, Writer, commit_writes


@pytest.fixture
def connection(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("CREATE TABLE t (id INTEGER NOT NULL, label VARCHAR)")
    con.execute("CREATE TABLE k (key VARCHAR PRIMARY KEY, value VARCHAR)")
    yield con
    con.close()


def rows_in(con: duckdb.DuckDBPyConnection, table: str = "t") -> list[tuple]:
    # A fresh cursor sees only committed data, as another reader would.
    cursor = con.cursor()
    try:
        return cursor.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
    finally:
        cursor.close()


def insert(*ids: int | None) -> RowWrite:
    return RowWrite("t", ("id", "label"), [(i, f"row {i}") for i in ids])


def test_write_returns_after_commit(connection: duckdb.DuckDBPyConnection) -> None:
    async def scenario() -> list[tuple]:
        writer = Writer(connection)
        writer.start()
        await writer.write(insert(1, 2))
        seen = rows_in(connection)  # before stop: the commit already happened
        await writer.stop()
        return seen

    assert asyncio.run(scenario()) == [(1, "row 1"), (2, "row 2")]


def test_concurrent_writes_share_commits(connection: duckdb.DuckDBPyConnection) -> None:
    async def scenario() -> Writer:
        writer = Writer(connection)
        writer.start()
        await asyncio.gather(*(writer.write(insert(i)) for i in range(500)))
        await writer.stop()
        return writer

    writer = asyncio.run(scenario())
    assert [row[0] for row in rows_in(connection)] == list(range(500))
    assert writer.stats.rows_committed == 500
    assert writer.stats.commits < 500 / 5  # hundreds of writes, a handful of commits
    assert writer.stats.largest_group > 1


def test_a_failing_write_fails_alone(connection: duckdb.DuckDBPyConnection) -> None:
    writer = Writer(connection)

    async def scenario() -> list[BaseException | None]:
        writer.start()
        results = await asyncio.gather(
            writer.write(insert(1)),
            writer.write(insert(None)),
            writer.write(insert(3)),
            return_exceptions=True,
        )
        await writer.stop()
        return results

    first, bad, third = asyncio.run(scenario())
    assert first is None and third is None
    assert isinstance(bad, StorageUnavailable)
    assert bad.message == "Could not store the data; retry shortly"  # no database text to the client
    assert "NOT NULL" in (writer.stats.last_error or "")  # it is in the log and the stats
    assert [row[0] for row in rows_in(connection)] == [1, 3]


def test_a_key_already_stored_is_refused_without_counting_as_a_failure(
    connection: duckdb.DuckDBPyConnection,
) -> None:
    writer = Writer(connection)
    key = RowWrite("k", ("key", "value"), [("a", "first")])

    async def scenario() -> BaseException | None:
        writer.start()
        await writer.write(key)
        try:
            await writer.write(RowWrite("k", ("key", "value"), [("a", "second")]))
        except StorageUnavailable as exc:
            return exc
        finally:
            await writer.stop()
        return None

    assert isinstance(asyncio.run(scenario()), StorageUnavailable)  # the caller learns it
    assert writer.stats.failed_commits == 0 and writer.stats.last_error is None  # not a fault
    assert rows_in(connection, "k") == [("a", "first")]


def test_values_only_leaves_empty_columns_to_their_defaults(connection: duckdb.DuckDBPyConnection) -> None:
    connection.execute("CREATE TABLE d (id INTEGER, label VARCHAR, kind VARCHAR DEFAULT 'plain', n INTEGER)")
    write = RowWrite("d", ("id", "label", "kind", "n"), [(1, None, "special", None)]).values_only()
    assert write.columns == ("id", "kind") and list(write.rows) == [(1, "special")]
    commit_writes(connection, [write, RowWrite("d", ("id", "kind", "n"), [(2, None, 5)]).values_only()])
    assert rows_in(connection, "d") == [(1, None, "special", None), (2, None, "plain", 5)]


def test_multi_table_write_is_atomic(connection: duckdb.DuckDBPyConnection) -> None:
    async def scenario() -> BaseException | None:
        writer = Writer(connection)
        writer.start()
        try:
            await writer.write(insert(7), insert(None))
        except StorageUnavailable as exc:
            return exc
        finally:
            await writer.stop()
        return None

    assert isinstance(asyncio.run(scenario()), StorageUnavailable)
    assert rows_in(connection) == []


def test_full_queue_answers_busy(connection: duckdb.DuckDBPyConnection) -> None:
    async def scenario() -> tuple[list[BaseException | None], Writer]:
        writer = Writer(connection, max_pending_rows=100)
        writer.start()
        # All queued in the same loop turn, before the writer can take any of them.
        results = await asyncio.gather(
            *(writer.write(insert(*range(i * 30, i * 30 + 30))) for i in range(5)), return_exceptions=True
        )
        await writer.stop()
        return results, writer

    results, _ = asyncio.run(scenario())
    busy = [r for r in results if isinstance(r, StorageBusy)]
    assert len(busy) == 2  # 3 x 30 rows fit under 100; the 4th and 5th do not
    assert all(b.headers.get("Retry-After") == "1" for b in busy)
    assert len(rows_in(connection)) == 90


def test_oversized_single_write_is_accepted_when_queue_is_empty(
    connection: duckdb.DuckDBPyConnection,
) -> None:
    async def scenario() -> None:
        writer = Writer(connection, max_pending_rows=100)
        writer.start()
        await writer.write(insert(*range(150)))
        await writer.stop()

    asyncio.run(scenario())
    assert len(rows_in(connection)) == 150


def test_stop_commits_everything_queued_and_then_refuses(connection: duckdb.DuckDBPyConnection) -> None:
    async def scenario() -> BaseException | None:
        writer = Writer(connection)
        writer.start()
        pending = [asyncio.ensure_future(writer.write(insert(i))) for i in range(50)]
        await asyncio.sleep(0)  # queued, not committed
        await writer.stop()
        await asyncio.gather(*pending)
        try:
            await writer.write(insert(99))
        except StorageUnavailable as exc:
            return exc
        return None

    refused = asyncio.run(scenario())
    assert isinstance(refused, StorageUnavailable)
    assert len(rows_in(connection)) == 50


def test_update_and_upsert_actions(connection: duckdb.DuckDBPyConnection) -> None:
    async def scenario() -> None:
        writer = Writer(connection)
        writer.start()
        await writer.write(RowWrite("k", ("key", "value"), [("a", "1"), ("b", "1")]))
        await writer.write(
            RowWrite("k", ("key", "value"), [("a", "2"), ("zz", "9")], action="update", key=("key",))
        )
        await writer.write(RowWrite("k", ("key", "value"), [("b", "3"), ("c", "4")], action="upsert"))
        await writer.stop()

    asyncio.run(scenario())
    assert rows_in(connection, "k") == [("a", "2"), ("b", "3"), ("c", "4")]


def test_a_failed_commit_reports_its_own_error(connection: duckdb.DuckDBPyConnection) -> None:
    """DuckDB rolls a transaction back itself when its commit fails (as when the memory cap is
    reached at commit); the writer's own rollback then finds none and must not hide the cause."""

    class CommitFailsLikeDuckDB:
        def __init__(self, real: duckdb.DuckDBPyConnection) -> None:
            self._real = real

        def __getattr__(self, name: str) -> object:
            return getattr(self._real, name)

        def commit(self) -> None:
            self._real.rollback()
            raise duckdb.TransactionException("Failed to commit: could not allocate block of size 256.0 KiB")

    with pytest.raises(duckdb.TransactionException, match="could not allocate"):
        commit_writes(
            CommitFailsLikeDuckDB(connection), [insert(1), RowWrite("k", ("key", "value"), [("a", "1")])]
        )  # type: ignore[arg-type]
    assert rows_in(connection) == [] and rows_in(connection, "k") == []


def test_a_fatal_error_stops_writes_and_is_reported_once(tmp_path: Path) -> None:
    """DuckDB's FATAL errors invalidate the database until the process restarts. Reproduced the
    way it happened for real: a key index filling the memory cap, then a checkpoint."""
    import uuid

    connection = duckdb.connect(str(tmp_path / "f.duckdb"), config={"memory_limit": "8MB", "threads": 1})
    connection.execute("CREATE TABLE k (key VARCHAR PRIMARY KEY, value VARCHAR)")
    reported: list[BaseException] = []
    writer = Writer(connection, on_fatal=reported.append)

    async def scenario() -> None:
        writer.start()
        for _ in range(200):  # random keys until the index fills the 8 MB: commits start failing
            rows = [(str(uuid.uuid4()), "v") for _ in range(2000)]
            try:
                await writer.write(RowWrite("k", ("key", "value"), rows))
            except StorageUnavailable:
                break
        else:
            pytest.fail("the key index never filled the memory cap")
        assert reported == []  # a failed commit alone is not fatal: the next one may succeed
        with pytest.raises(duckdb.FatalException):
            await writer.run(lambda con: con.execute("CHECKPOINT"))
        with pytest.raises(StorageUnavailable, match="shutting down"):
            await writer.write(insert(1))
        with pytest.raises(duckdb.FatalException):
            await writer.run(lambda con: con.execute("SELECT 1"))
        await writer.stop()

    asyncio.run(scenario())
    assert len(reported) == 1 and isinstance(reported[0], duckdb.FatalException)


def test_exit_soon_ends_the_process_with_the_fatal_code() -> None:
    import subprocess
    import sys
    import time

    script = (
        "import asyncio\nfrom pulsegate.process import exit_soon\n"
        "async def main():\n    exit_soon(0.2)\n    await asyncio.sleep(30)\n"
        "asyncio.run(main())\nprint('not reached')\n"
    )
    began = time.monotonic()
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30)
    assert result.returncode == 70 and "not reached" not in result.stdout
    assert time.monotonic() - began < 20
