"""Running the CLI's operations inside the server (the control socket's other end): on the writer's
thread, between group commits."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

import duckdb
import msgspec

from pulsegate import __version__
from pulsegate.config import Settings
from pulsegate.errors import InvalidInput
from pulsegate.ops.context import OpContext, ServerInfo
from pulsegate.ops.registry import OPERATIONS
from pulsegate.store.database import Database
from pulsegate.store.writer import Writer


def resident_mb() -> float:
    """This process's resident set size in MB (0 where /proc is missing)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            pages = int(statm.read().split()[1])
    except (OSError, IndexError, ValueError):
        return 0.0
    return round(pages * os.sysconf("SC_PAGE_SIZE") / 1e6, 1)


class OperationExecutor:
    """Executes named operations for the control socket; tells the server when keys changed."""

    def __init__(
        self,
        settings: Settings,
        database: Database,
        writer: Writer,
        *,
        started_ms: int,
        open_sessions: Callable[[], int],
        remembered_sessions: Callable[[], int],
        on_keys_changed: Callable[[], Awaitable[None]],
        on_projects_changed: Callable[[], Awaitable[None]],
        refused_requests: Callable[[], int],
        dropped_properties: Callable[[], dict[str, int]] = dict,
        settled: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._settings = settings
        self._database = database
        self._writer = writer
        self._started_ms = started_ms
        self._open_sessions = open_sessions
        self._remembered_sessions = remembered_sessions
        self._on_keys_changed = on_keys_changed
        self._on_projects_changed = on_projects_changed
        self._refused_requests = refused_requests
        self._dropped_properties = dropped_properties
        # Waited for before each operation: the attribution of a lead just captured is queued
        # behind it (services/attribution.AttributionWrites), and `writer.run` does not wait
        # for what is queued.
        self._settled = settled
        self._lock = asyncio.Lock()

    async def execute(self, name: str, raw_args: bytes) -> bytes:
        """Run operation `name` with JSON `raw_args`; returns the JSON-encoded result."""
        operation = OPERATIONS.get(name)
        if operation is None:
            raise InvalidInput(f"Unknown operation {name!r}; known: {', '.join(sorted(OPERATIONS))}")
        try:
            args = msgspec.json.decode(raw_args, type=operation.arguments)
        except msgspec.DecodeError as exc:
            raise InvalidInput(f"Invalid arguments for {name}: {exc}") from None
        context = self.server_info()
        # One at a time: two overlapping key changes could otherwise install their reloaded key
        # rings in the wrong order, and a revoked key would work again until the next change.
        async with self._lock:
            if self._settled is not None:
                await self._settled()
            # Writes must go through the writer's thread and connection; running every operation
            # there also orders it after the events already acknowledged.
            result = await self._writer.run(
                lambda connection: operation.run(
                    OpContext(connection, context, replace_file=self._replace_file), args
                )
            )
            if operation.changes_keys:
                await self._on_keys_changed()
            if operation.changes_projects:
                await self._on_projects_changed()
            if operation.refreshes_readers:
                self._database.refresh_readers()
        return msgspec.json.encode(result)

    def _replace_file(self, replacement: Path) -> duckdb.DuckDBPyConnection:
        """Swap the database file (on the writer's thread) and hand the writer the new connection."""
        try:
            connection = self._database.swap_file(replacement)
        finally:
            # On failure too: the database reopened its original file on a new connection.
            self._writer.replace_connection(self._database.connection)
        return connection

    def server_info(self) -> ServerInfo:
        """What `pulsegate status` shows about this process."""
        stats = self._writer.stats
        return ServerInfo(
            pid=os.getpid(),
            parent_pid=os.getppid(),
            version=__version__,
            started_ms=self._started_ms,
            host=self._settings.server.host,
            port=self._settings.server.port,
            open_sessions=self._open_sessions(),
            remembered_sessions=self._remembered_sessions(),
            rss_mb=resident_mb(),
            pending_rows=self._writer.pending_rows,
            commits=stats.commits,
            rows_committed=stats.rows_committed,
            refused_requests=self._refused_requests(),
            dropped_properties=self._dropped_properties(),
        )
