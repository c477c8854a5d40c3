"""What an operation runs with: a database connection, and the server's facts when inside one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

if TYPE_CHECKING:  # only for annotations: `pulsegate snippet` and --help must not load DuckDB
    import duckdb


class ServerInfo(msgspec.Struct, kw_only=True):
    """Facts only a running server knows."""

    pid: int  # the process serving requests (Granian's worker)
    parent_pid: int  # the `pulsegate serve` process a person would signal
    version: str
    started_ms: int
    host: str
    port: int
    open_sessions: int
    # Sessions ended lately, kept in memory for the next page of their tab (bounded).
    remembered_sessions: int
    rss_mb: float  # the worker's resident memory
    pending_rows: int
    commits: int
    rows_committed: int
    # Tracking and capture requests refused for coming from a page that is not their project's.
    refused_requests: int = 0
    # Event properties dropped since start, by reason (domain/tracking.clean_props).
    dropped_properties: dict[str, int] = {}


class NoArguments(msgspec.Struct, forbid_unknown_fields=True):
    """Operations that take nothing."""


@dataclass(frozen=True, slots=True)
class OpContext:
    """`connection` is the server's writer connection inside a server, or the CLI's own offline."""

    connection: duckdb.DuckDBPyConnection
    server: ServerInfo | None = None
    # Swaps the database file for a rewritten one and returns the new connection (compaction).
    replace_file: Callable[[Path], duckdb.DuckDBPyConnection] | None = None
