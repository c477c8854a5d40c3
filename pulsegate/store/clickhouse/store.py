"""The ClickHouse store: the connection opened and migrated, reads on threads, secrets, and the
writer that batches every process's inserts (the DuckDB engine's Database and Writer, for
ClickHouse)."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from pulsegate.domain.clickhouse_target import ClickHouseTarget
from pulsegate.errors import PulseGateError, StorageBusy, StorageUnavailable
from pulsegate.store.clickhouse.connection import ClickHouse, connect
from pulsegate.store.clickhouse.cursor import ClickHouseCursor
from pulsegate.store.clickhouse.schema import migrate
from pulsegate.store.writer import RowWrite, WriterStats

logger = logging.getLogger(__name__)
T = TypeVar("T")
READ_THREADS = 4
# Tables whose rows an upsert replaces: ReplacingMergeTree, read with FINAL.
REPLACING_TABLES = ("meta",)


class ClickHouseStore:
    """Owns the connection to the ClickHouse store. Reads run on a small thread pool, so the event
    loop never waits on the network; the connection is thread-safe."""

    def __init__(self, connection: ClickHouse) -> None:
        # A cursor: the store's modules take it as they take DuckDB's connection (cursor.py).
        self.connection = ClickHouseCursor(connection)
        self._readers: ThreadPoolExecutor | None = None

    @classmethod
    def open(cls, target: ClickHouseTarget) -> ClickHouseStore:
        """Connect to `target` and apply the migrations it lacks."""
        connection = connect(target)
        try:
            migrate(connection)
        except BaseException:
            connection.close()
            raise
        return cls(connection)

    def read_now(self, query: Callable[..., T], *args: Any) -> T:
        """Run `query(connection, *args)` on the calling thread."""
        return query(self.connection, *args)

    async def read(self, query: Callable[..., T], *args: Any) -> T:
        """Run `query(connection, *args)` on a reader thread and await its result."""
        if self._readers is None:
            self._readers = ThreadPoolExecutor(
                max_workers=READ_THREADS, thread_name_prefix="pulsegate-ch-read"
            )
        return await asyncio.get_running_loop().run_in_executor(self._readers, self.read_now, query, *args)

    def secret(self, name: str, *, configured: str = "") -> str:
        """A long-lived secret: the configured value, else one generated once and kept in meta.

        Two processes making the first one at the same moment would each keep their own: the
        earliest written wins for both once both are written, but in between each has used its
        own. docs/scaling.md says to start one process first, or to set the secret in the config."""
        if configured:
            return configured
        key = f"secret:{name}"
        found = self._first_secret(key)
        if found is not None:
            return found
        self.connection.insert("meta", ("key", "value"), [(key, secrets.token_hex(32))])
        found = self._first_secret(key)
        if found is None:
            raise StorageUnavailable(f"The ClickHouse store did not keep the secret {name}")
        return found

    def _first_secret(self, key: str) -> str | None:
        # Not FINAL on meta's ReplacingMergeTree: that keeps the latest, and the first must win.
        rows = self.connection.query(
            "SELECT argMin(value, (written, value)), count() FROM meta WHERE key = ?", [key]
        )
        return str(rows[0][0]) if rows and rows[0][1] else None

    def close(self) -> None:
        if self._readers is not None:
            self._readers.shutdown(wait=True)
        self.connection.clickhouse.close()


@dataclass(slots=True)
class _PendingWrite:
    writes: tuple[RowWrite, ...]
    row_count: int
    done: asyncio.Future[None]


class ClickHouseWriter:
    """Batches inserts: while one batch is being inserted, new writes gather, and then go in
    together, one INSERT per table (ClickHouse wants few large inserts, not many small ones). A
    caller's `write()` returns once its rows are stored: synchronous inserts, so a `200` means
    ClickHouse has them. The same interface as store/writer.Writer."""

    def __init__(self, connection: ClickHouseCursor, *, max_pending_rows: int = 100_000) -> None:
        self._connection = connection
        self._max_pending_rows = max_pending_rows
        self._pending: list[_PendingWrite] = []
        self._pending_rows = 0
        self._wakeup = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pulsegate-ch-writer")
        self.stats = WriterStats()

    @property
    def pending_rows(self) -> int:
        return self._pending_rows

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._insert_loop(), name="pulsegate-ch-writer")

    async def write(self, *writes: RowWrite) -> None:
        await self.enqueue(*writes)

    def enqueue(self, *writes: RowWrite) -> asyncio.Future[None]:
        """Queue `writes`; the future is done once they are stored (StorageUnavailable if not)."""
        if self._closing or self._task is None:
            raise StorageUnavailable(
                "The server is shutting down; retry shortly", headers={"Retry-After": "5"}
            )
        for write in writes:
            if write.action == "upsert" and write.table not in REPLACING_TABLES:
                raise PulseGateError(f"ClickHouse upserts go only to {REPLACING_TABLES}, not {write.table}")
        row_count = sum(len(write.rows) for write in writes)
        if self._pending_rows and self._pending_rows + row_count > self._max_pending_rows:
            raise StorageBusy("The server is busy writing; retry shortly", headers={"Retry-After": "1"})
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append(_PendingWrite(writes, row_count, done))
        self._pending_rows += row_count
        self._wakeup.set()
        return done

    async def insert_once(self, write: RowWrite, token: str) -> None:
        """Insert `write` alone, with its deduplication token, between two batches: for a row that
        any process may insert at the same moment and only one may keep (a lead of a submission
        id), so never batched with others. StorageUnavailable if it was not stored."""
        if self._closing:
            raise StorageUnavailable(
                "The server is shutting down; retry shortly", headers={"Retry-After": "5"}
            )
        try:
            await self.run(
                lambda connection: connection.insert(write.table, write.columns, write.rows, token=token)
            )
        except PulseGateError:
            raise
        except Exception as exc:
            self._count_failure(exc)
            raise _not_stored() from exc

    def _count_failure(self, exc: BaseException) -> None:
        """Count and log an insert that failed."""
        self.stats.failed_commits += 1
        self.stats.last_error = str(exc)
        logger.error("ClickHouse insert failed: %s", exc)

    async def run(self, work: Callable[[ClickHouseCursor], Any]) -> Any:
        """Run `work(connection)` on the writer thread, between batches."""
        return await asyncio.get_running_loop().run_in_executor(self._thread, work, self._connection)

    async def stop(self) -> None:
        """Refuse new writes, insert everything queued, and stop."""
        self._closing = True
        self._wakeup.set()
        if self._task is not None:
            await self._task
        self._thread.shutdown(wait=True)

    async def _insert_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if not self._pending:
                if self._closing:
                    return
                await self._wakeup.wait()
                self._wakeup.clear()
                continue
            group, self._pending = self._pending, []
            try:
                await loop.run_in_executor(self._thread, self._insert, [w for p in group for w in p.writes])
                failure: BaseException | None = None
            except Exception as exc:  # never let the loop die
                failure = exc
                self._count_failure(exc)
            for pending in group:
                self._pending_rows -= pending.row_count
                if pending.done.done():
                    continue
                if failure is None:
                    pending.done.set_result(None)
                else:
                    pending.done.set_exception(_not_stored())

    def _insert(self, writes: Sequence[RowWrite]) -> None:
        """One INSERT per table and column list, in the order tables first appear (a session's
        start row before its first event); updates one statement per row, in their place."""
        grouped: dict[tuple[str, tuple[str, ...]], list[tuple[Any, ...]]] = {}
        for write in writes:
            if write.action == "update":
                continue
            grouped.setdefault((write.table, write.columns), []).extend(write.rows)
        for (table, columns), rows in grouped.items():
            self._connection.insert(table, columns, rows)
        for write in writes:
            if write.action == "update":
                self._update(write)
        self.stats.commits += 1
        self.stats.rows_committed += sum(len(write.rows) for write in writes)
        self.stats.largest_group = max(self.stats.largest_group, len(writes))

    def _update(self, write: RowWrite) -> None:
        """A lightweight UPDATE per row, on the small control tables only (api keys' last use,
        deliveries): ClickHouse rewrites a patch per statement, fine at a few a minute."""
        keyed = [write.columns.index(name) for name in write.key]
        changed = [n for n in range(len(write.columns)) if n not in keyed]
        assignments = ", ".join(f"{write.columns[n]} = ?" for n in changed)
        condition = " AND ".join(f"{write.columns[n]} = ?" for n in keyed)
        for row in write.rows:
            self._connection.command(
                f"UPDATE {write.table} SET {assignments} WHERE {condition}",
                [*(row[n] for n in changed), *(row[n] for n in keyed)],
            )


def _not_stored() -> StorageUnavailable:
    """The error a writer gets when its rows were not stored: it may retry."""
    return StorageUnavailable("Could not store the data; retry shortly", headers={"Retry-After": "1"})
