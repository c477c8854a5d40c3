"""The only code that writes: queues row writes and commits them in groups on one thread.

Group commit: while one commit runs, new writes gather; when it ends, everything gathered
commits at once in a single transaction. A caller's `write()` returns only after its rows are
committed, so an acknowledged write is in DuckDB's WAL. Idle, a write costs one small commit
(≈1 ms); under load, hundreds of requests share one commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

import duckdb

from pulsegate.errors import StorageBusy, StorageUnavailable
from pulsegate.store.disk_space import DiskSpaceGuard

logger = logging.getLogger(__name__)

WriteAction = Literal["insert", "update", "upsert"]
# Cached appenders, one per kind of write (RowWrite.group_key). Kinds are a handful, plus one
# per set of columns a values-only lead row names; past this many the least recently used is
# dropped (it has been flushed: every commit flushes the ones it used).
APPENDERS = 64


@dataclass(frozen=True, slots=True)
class RowWrite:
    """Rows for one table, in `columns` order, appended through DuckDB's appender.

    `update` and `upsert` match existing rows on `key` (update ignores rows that do not exist).
    """

    table: str
    columns: tuple[str, ...]
    rows: Sequence[tuple[Any, ...]]
    action: WriteAction = "insert"
    key: tuple[str, ...] = ()

    @property
    def group_key(self) -> tuple[str, tuple[str, ...], WriteAction, tuple[str, ...]]:
        """Writes with the same group key share one appender in a commit."""
        return (self.table, self.columns, self.action, self.key)

    def values_only(self) -> RowWrite:
        """The same single-row insert naming only the columns that have a value.

        Every value handed to the appender, NULL included, costs its commit about 20 µs (a lead
        row of 34 columns: 0.35 ms of 4 ms; bench/attribution.py); a column left out takes its
        default. For a table whose columns default to NULL, or whose defaults are never None here.
        Each set of columns gets its own cached appender (the writer keeps at most APPENDERS).
        """
        (row,) = self.rows
        kept = [n for n, value in enumerate(row) if value is not None]
        return RowWrite(self.table, tuple(self.columns[n] for n in kept), [tuple(row[n] for n in kept)],
                        self.action, self.key)  # fmt: skip


@dataclass(slots=True)
class _PendingWrite:
    writes: tuple[RowWrite, ...]
    row_count: int
    done: asyncio.Future[None]


@dataclass(slots=True)
class WriterStats:
    """Counters for tests, `pulsegate status` and benchmarks."""

    commits: int = 0
    rows_committed: int = 0
    failed_commits: int = 0
    last_error: str | None = None
    largest_group: int = 0


class Writer:
    """Serialises every database write through one thread, committing in groups."""

    def __init__(
        self,
        connection: duckdb.DuckDBPyConnection,
        *,
        max_pending_rows: int = 100_000,
        disk_guard: DiskSpaceGuard | None = None,
        on_fatal: Callable[[BaseException], None] | None = None,
    ) -> None:
        self._connection = connection
        # DuckDB's FATAL errors invalidate the database until the process restarts: every later
        # write would fail. The server passes a callback that ends the process (runtime.py).
        self._on_fatal = on_fatal
        self._disk_guard = disk_guard
        self._max_pending_rows = max_pending_rows
        self._pending: list[_PendingWrite] = []
        self._pending_rows = 0
        self._wakeup = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None
        # One thread, so the connection is never used from two threads at once.
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pulsegate-writer")
        self._appenders: dict[tuple[str, tuple[str, ...], WriteAction, tuple[str, ...]], Any] = {}
        self.stats = WriterStats()

    @property
    def pending_rows(self) -> int:
        """Rows queued and not yet committed."""
        return self._pending_rows

    def start(self) -> None:
        """Start the commit loop on the running event loop."""
        self._task = asyncio.get_running_loop().create_task(self._commit_loop(), name="pulsegate-writer")

    async def write(self, *writes: RowWrite) -> None:
        """Queue `writes` and return once they are committed (all of them, or none).

        Raises StorageBusy when the queue is full, StorageUnavailable when the commit fails, the
        disk is nearly full or the writer is shutting down.
        """
        await self.enqueue(*writes)

    def enqueue(self, *writes: RowWrite) -> asyncio.Future[None]:
        """Queue `writes` now and return the future of their commit, for a caller that does not
        wait for it (write() does). Raises StorageBusy and StorageUnavailable as write() does,
        here when the queue refuses them, through the future when the commit fails."""
        if self._closing or self._task is None:
            raise StorageUnavailable(
                "The server is shutting down; retry shortly", headers={"Retry-After": "5"}
            )
        if self._disk_guard is not None:
            self._disk_guard.check()
        row_count = sum(len(write.rows) for write in writes)
        if self._pending_rows and self._pending_rows + row_count > self._max_pending_rows:
            raise StorageBusy("The server is busy writing; retry shortly", headers={"Retry-After": "1"})
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append(_PendingWrite(writes, row_count, done))
        self._pending_rows += row_count
        self._wakeup.set()
        return done

    def replace_connection(self, connection: duckdb.DuckDBPyConnection) -> None:
        """Use `connection` from now on (after a compaction swapped the file). Call it only on
        the writer's thread, from work given to `run`, so no commit is in progress."""
        self._connection = connection
        self._appenders.clear()

    async def run(self, work: Callable[[duckdb.DuckDBPyConnection], Any]) -> Any:
        """Run `work(connection)` on the writer thread, between group commits.

        For rare writes that are not row appends (migrations of data, key revocation, compaction).
        `work` manages its own transaction.
        """
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._thread, work, self._connection)
        except duckdb.FatalException as exc:
            self._fatal(exc)
            raise

    async def stop(self) -> None:
        """Refuse new writes, commit everything queued, and stop the loop."""
        self._closing = True
        self._wakeup.set()
        if self._task is not None:
            await self._task
        self._thread.shutdown(wait=True)

    async def _commit_loop(self) -> None:
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
                failures = await loop.run_in_executor(self._thread, self._commit_group, group)
            except Exception as exc:  # never let the loop die: the server would wedge
                self._record_failure(exc)
                failures = [exc] * len(group)
            fatal = next(
                (failure for failure in failures if isinstance(failure, duckdb.FatalException)), None
            )
            if fatal is not None:
                self._fatal(fatal)
            for pending, failure in zip(group, failures, strict=True):
                self._pending_rows -= pending.row_count
                if pending.done.done():  # the caller went away (cancelled); nothing to tell
                    continue
                if failure is None:
                    pending.done.set_result(None)
                else:
                    # The database's own message stays in the log: it can quote stored values.
                    pending.done.set_exception(
                        StorageUnavailable(
                            "Could not store the data; retry shortly", headers={"Retry-After": "1"}
                        )
                    )

    def _commit_group(self, group: list[_PendingWrite]) -> list[BaseException | None]:
        """Commit the whole group at once; if that fails, each write alone, so one bad write
        does not fail its neighbours."""
        try:
            self._commit([write for pending in group for write in pending.writes])
        except duckdb.Error as exc:
            if len(group) == 1 or isinstance(exc, duckdb.FatalException):  # alone, each would fail too
                self._record_failure(exc)
                return [exc] * len(group)
            results: list[BaseException | None] = []
            for pending in group:
                try:
                    self._commit(pending.writes)
                    results.append(None)
                except duckdb.Error as single_exc:
                    self._record_failure(single_exc)
                    results.append(single_exc)
            return results
        self.stats.largest_group = max(self.stats.largest_group, len(group))
        return [None] * len(group)

    def _commit(self, writes: Sequence[RowWrite]) -> None:
        try:
            commit_writes(self._connection, writes, self._appender)
        except BaseException:
            # A failed appender may hold rows it could not flush: start afresh next time.
            self._appenders.clear()
            raise
        self.stats.commits += 1
        self.stats.rows_committed += sum(len(write.rows) for write in writes)

    def _appender(self, group_key: tuple[str, tuple[str, ...], WriteAction, tuple[str, ...]]) -> Any:
        """A cached appender per kind of write: creating one costs as much as a small commit."""
        # Popped and put back: the dict's order is then least recently used first.
        appender = self._appenders.pop(group_key, None)
        if appender is None:
            table, columns, action, key = group_key
            appender = self._connection.appender(
                table, columns=list(columns), action=action, key=list(key) or None
            )
            if len(self._appenders) >= APPENDERS:
                del self._appenders[next(iter(self._appenders))]
        self._appenders[group_key] = appender
        return appender

    def _fatal(self, exc: BaseException) -> None:
        """Refuse writes from now on (503, "shutting down") and tell the server, once."""
        if self._closing:
            return
        self._closing = True
        logger.critical("DuckDB reported a fatal error; the database needs a restart: %s", exc)
        if self._on_fatal is not None:
            self._on_fatal(exc)

    def _record_failure(self, exc: BaseException) -> None:
        if isinstance(exc, duckdb.ConstraintException) and "Duplicate key" in str(exc):
            # A key that is already stored is the caller's answer, not a storage failure: two
            # captures of one submission in one commit group (services/leads.py).
            logger.info("Write refused, its key is already stored: %s", exc)
            return
        self.stats.failed_commits += 1
        self.stats.last_error = str(exc)
        logger.error("Database write failed: %s", exc)


def commit_writes(
    connection: duckdb.DuckDBPyConnection,
    writes: Sequence[RowWrite],
    appender_for: Callable[[tuple[str, tuple[str, ...], WriteAction, tuple[str, ...]]], Any] | None = None,
) -> None:
    """Commit `writes` at once, each kind through one appender, in the order kinds first appear
    (so an update follows the insert it changes). Without `appender_for`, fresh appenders."""
    grouped: dict[tuple[Any, ...], list[RowWrite]] = {}
    for write in writes:
        grouped.setdefault(write.group_key, []).append(write)
    # One kind of write (the common case: a burst of events) needs no explicit transaction:
    # an appender flush in autocommit mode is one atomic, durable commit, and skipping
    # BEGIN/COMMIT saves about a fifth of DuckDB's per-commit CPU (bench/writer_paths.py).
    explicit = len(grouped) > 1
    if explicit:
        connection.begin()
    try:
        for group_key, same_kind in grouped.items():
            if appender_for is not None:
                appender = appender_for(group_key)
            else:
                table, columns, action, key = group_key
                appender = connection.appender(
                    table, columns=list(columns), action=action, key=list(key) or None
                )
            for write in same_kind:
                appender.append_rows(write.rows)
            appender.flush()
        if explicit:
            connection.commit()
    except BaseException:
        if explicit:
            # A commit that failed has already rolled back in DuckDB: rolling back again raises
            # "no transaction is active", which would hide the real error from the log.
            with contextlib.suppress(duckdb.Error):
                connection.rollback()
        raise
