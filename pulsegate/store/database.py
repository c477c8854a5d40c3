"""The one object that owns the DuckDB file: opening, migrations, secrets, and reads on threads."""

from __future__ import annotations

import re
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import duckdb

from pulsegate.errors import StorageUnavailable
from pulsegate.store.migrations import migrate

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

T = TypeVar("T")
LOCK_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.+?) \(PID (?P<pid>\d+)\)")
READ_THREADS = 4


class DatabaseLocked(StorageUnavailable):
    """Another process holds the database file."""

    def __init__(self, path: Path, holder_pid: int | None, program: str | None) -> None:
        who = f"process {holder_pid} ({program})" if holder_pid else "another process"
        super().__init__(
            f"The database {path} is in use by {who}. Only one process can open it: "
            "stop that process, or point this command at the running server's database."
        )
        self.holder_pid = holder_pid


class Database:
    """Owns the DuckDB file: the writer's connection, and one cursor per reader thread.

    Reads run in a small thread pool (DuckDB releases the GIL), so the event loop never blocks.
    Writes go only through `pulsegate.store.writer.Writer`, which uses `connection` on its own thread.
    """

    def __init__(
        self,
        path: Path,
        connection: duckdb.DuckDBPyConnection,
        *,
        config: dict[str, object] | None = None,
        archive_dir: Path | None = None,
    ) -> None:
        self.path = path
        self.connection = connection
        self._config = dict(config or {})
        self.archive_dir = archive_dir
        self._local = threading.local()
        self._cursors: list[duckdb.DuckDBPyConnection] = []
        self._cursors_lock = threading.Lock()
        # Reads pass through a gate that a file swap (compaction) closes while it replaces the
        # connection; the generation tells each reader thread its old cursor is gone.
        self._gate = threading.Condition()
        self._active_reads = 0
        self._exclusive = False  # a file swap, or a read retried for memory, runs with no other read
        self._generation = 0
        # Made at the first `read` (the server's): the CLI reads on its own thread, and starts
        # faster without concurrent.futures (and the logging it imports).
        self._readers: ThreadPoolExecutor | None = None

    @classmethod
    def open(
        cls, path: Path, *, threads: int = 2, memory_limit: str = "64MB", archive_dir: Path | None = None
    ) -> Database:
        """Open (creating if needed) and migrate the database file at `path`."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageUnavailable(f"Cannot create the data directory {path.parent}: {exc}") from exc
        config: dict[str, object] = {"threads": threads, "memory_limit": memory_limit}
        try:
            connection = duckdb.connect(str(path), config=config)
        except duckdb.IOException as exc:
            match = LOCK_HOLDER.search(str(exc))
            if match:
                raise DatabaseLocked(path, int(match["pid"]), match["program"]) from exc
            raise StorageUnavailable(f"Cannot open the database {path}: {exc}") from exc
        except duckdb.Error as exc:
            raise StorageUnavailable(f"Cannot open the database {path}: {exc}") from exc
        try:
            migrate(connection)
        except BaseException:
            connection.close()
            raise
        return cls(path, connection, config=config, archive_dir=archive_dir)

    def secret(self, name: str, *, configured: str = "") -> str:
        """A long-lived secret: the configured value, else one generated once and kept in meta."""
        if configured:
            return configured
        key = f"secret:{name}"
        # fetchall, not fetchone: a half-read result would block the writer's next flush.
        rows = self.connection.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchall()
        if rows:
            return str(rows[0][0])
        value = secrets.token_hex(32)
        self.connection.execute("INSERT INTO meta (key, value) VALUES (?, ?)", [key, value])
        return value

    def read_now(self, query: Callable[..., T], *args: Any) -> T:
        """Run `query(cursor, *args)` on the calling thread, with that thread's cursor.

        DuckDB's memory limit is shared by every query, and a report's hash tables take a fixed
        10-40 MB however small the data: a dashboard's dozen panels at once can exceed 64 MB. A
        read refused for memory runs again alone (the others wait) before it is given up as a 503.
        """
        with self._gate:
            while self._exclusive:
                self._gate.wait()
            self._active_reads += 1
        try:
            return query(self._thread_cursor(), *args)
        except duckdb.OutOfMemoryException:
            pass
        finally:
            with self._gate:
                self._active_reads -= 1
                self._gate.notify_all()
        return self._read_alone(query, *args)

    def _read_alone(self, query: Callable[..., T], *args: Any) -> T:
        with self._exclusively():
            try:
                return query(self._thread_cursor(), *args)
            except duckdb.OutOfMemoryException as exc:
                limit = self._config.get("memory_limit")
                why = f"storage.duckdb_memory_limit is {limit}"
                raise StorageUnavailable(
                    f"Not enough memory for this query even alone ({why}): {exc}"
                ) from exc

    @contextmanager
    def _exclusively(self) -> Iterator[None]:
        """Hold new reads, wait for those in flight and for any other exclusive holder, then run
        alone: a file swap, or a read retried for memory."""
        with self._gate:
            while self._exclusive:
                self._gate.wait()
            self._exclusive = True
            while self._active_reads:
                self._gate.wait()
        try:
            yield
        finally:
            with self._gate:
                self._exclusive = False
                self._gate.notify_all()

    def swap_file(self, replacement: Path) -> duckdb.DuckDBPyConnection:
        """Replace the database file with `replacement` and reopen; returns the new connection.

        For compaction, on the writer's thread (so no commit runs meanwhile): waits for reads in
        flight, holds new ones, closes every cursor and the connection, moves the old file to
        `<name>.old` and the replacement into its place, and reopens. The caller gives the new
        connection to the writer and removes `<name>.old` once it has checked the result.
        """
        with self._exclusively():
            return self._swap_in(replacement)

    def _swap_in(self, replacement: Path) -> duckdb.DuckDBPyConnection:
        old = self.path.with_name(self.path.name + ".old")
        moved_old = moved_new = False
        try:
            with self._cursors_lock:
                for cursor in self._cursors:
                    cursor.close()
                self._cursors.clear()
            self._generation += 1  # every reader thread gets a new cursor, whatever happens next
            self.connection.execute("CHECKPOINT")
            self.connection.close()
            self.path.replace(old)
            moved_old = True
            replacement.replace(self.path)
            moved_new = True
            self.connection = duckdb.connect(str(self.path), config=self._config)
            return self.connection
        except Exception as exc:
            # Put the original file back and reopen it: a failed compaction must leave a
            # working server, not one holding a closed connection.
            if moved_new:
                self.path.replace(replacement)
            if moved_old:
                old.replace(self.path)
            self.connection = duckdb.connect(str(self.path), config=self._config)
            raise StorageUnavailable(
                f"Could not swap in the compacted file; kept the original: {exc}"
            ) from exc

    async def read(self, query: Callable[..., T], *args: Any) -> T:
        """Run `query(cursor, *args)` on a reader thread and await its result."""
        import asyncio  # here: the CLI opens the file without an event loop, and starts faster

        loop = asyncio.get_running_loop()
        if self._readers is None:
            from concurrent.futures import ThreadPoolExecutor

            self._readers = ThreadPoolExecutor(max_workers=READ_THREADS, thread_name_prefix="pulsegate-read")
        return await loop.run_in_executor(self._readers, self.read_now, query, *args)

    def refresh_readers(self) -> None:
        """Give every reader thread a fresh cursor on its next read (the archive may have grown)."""
        self._generation += 1

    def _see_archive(self, cursor: duckdb.DuckDBPyConnection) -> None:
        """Make `events` on this reader cursor include the Parquet archive, when there is one.

        A temporary view named `events` shadows the table on this cursor only: analytics SQL
        stays the same, and the writer's connection, which has no such view, appends to the
        table itself.
        """
        if self.archive_dir is None or not any(self.archive_dir.glob("day=*/*.parquet")):
            return
        catalog = cursor.execute("SELECT current_database()").fetchall()[0][0]
        pattern = str(self.archive_dir / "day=*" / "*.parquet").replace("'", "''")
        # `rowid` is kept as a column: queries order a batch's events by it. Archived rows are
        # older than every row in the table, so their position among themselves is enough.
        cursor.execute(
            f'CREATE OR REPLACE TEMP VIEW events AS SELECT *, rowid FROM "{catalog}".main.events '
            "UNION ALL BY NAME SELECT * EXCLUDE (day), CAST(-1 AS BIGINT) AS rowid "
            f"FROM read_parquet('{pattern}', hive_partitioning = true)"
        )

    def checkpoint(self) -> None:
        """Fold the write-ahead log into the database file."""
        self.connection.execute("CHECKPOINT")

    def close(self) -> None:
        """Wait for reads, checkpoint, and close every cursor and the connection."""
        if self._readers is not None:
            self._readers.shutdown(wait=True)
        with self._cursors_lock:
            for cursor in self._cursors:
                cursor.close()
            self._cursors.clear()
        try:
            self.checkpoint()
        finally:
            self.connection.close()

    def _thread_cursor(self) -> duckdb.DuckDBPyConnection:
        cursor = getattr(self._local, "cursor", None)
        if cursor is None or getattr(self._local, "generation", -1) != self._generation:
            # A DuckDB connection must not be shared between threads; a cursor per thread is
            # DuckDB's own answer (same database instance, separate connection state).
            cursor = self.connection.cursor()
            self._see_archive(cursor)
            self._local.cursor = cursor
            self._local.generation = self._generation
            with self._cursors_lock:
                self._cursors.append(cursor)
        return cursor
