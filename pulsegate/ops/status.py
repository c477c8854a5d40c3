"""`pulsegate status`: is a server running on this database, since when, and what it holds."""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from pulsegate.domain.email_reports import ScheduleInfo
from pulsegate.ops.context import NoArguments, OpContext, ServerInfo
from pulsegate.ops.operation import Operation
from pulsegate.store.clickhouse.cursor import is_clickhouse
from pulsegate.store.projects import project_domains

if TYPE_CHECKING:
    import duckdb


class DatabaseCounts(msgspec.Struct, kw_only=True):
    """Row counts a person checks first."""

    sessions: int
    open_sessions: int
    events: int
    leads: int
    api_keys: int


class DuckDBMemory(msgspec.Struct, kw_only=True):
    """What DuckDB's buffer manager holds (cached table data, indexes, running queries)."""

    used_mb: float
    limit: str  # the memory_limit setting, as DuckDB prints it
    largest: dict[str, float]  # the biggest of duckdb_memory()'s tags, MB


class Status(msgspec.Struct, kw_only=True):
    """The answer of `status`: `server` is None when no server holds the database."""

    server: ServerInfo | None
    counts: DatabaseCounts
    duckdb_memory: DuckDBMemory | None  # None on ClickHouse
    # The registered projects and their domains; none: any site may send data.
    projects: dict[str, list[str]] = {}
    # Scheduled email reports, each with its last send and the next.
    email_reports: list[ScheduleInfo] = []


def status(context: OpContext, args: NoArguments) -> Status:
    """Server facts (when inside one) and the database's counts."""
    (sessions, open_sessions, events, leads, keys) = context.connection.execute(
        """
        SELECT (SELECT count(*) FROM sessions), (SELECT count(*) FROM sessions WHERE ended_at IS NULL),
               (SELECT count(*) FROM events), (SELECT count(*) FROM leads),
               (SELECT count(*) FROM api_keys WHERE revoked_at IS NULL)
        """
    ).fetchall()[0]
    counts = DatabaseCounts(
        sessions=sessions, open_sessions=open_sessions, events=events, leads=leads, api_keys=keys
    )
    memory = None if is_clickhouse(context.connection) else duckdb_memory(context.connection)
    projects = project_domains(context.connection)
    from pulsegate.ops.email_reports import list_schedules  # here: decoding a Status loads no DuckDB

    schedules = list_schedules(context, args)
    return Status(
        server=context.server, counts=counts, duckdb_memory=memory, projects=projects, email_reports=schedules
    )


def duckdb_memory(connection: duckdb.DuckDBPyConnection) -> DuckDBMemory:
    """What DuckDB's buffer manager holds now."""
    tags = connection.execute(
        "SELECT tag, memory_usage_bytes FROM duckdb_memory() WHERE memory_usage_bytes > 0 "
        "ORDER BY memory_usage_bytes DESC"
    ).fetchall()
    (limit,) = connection.execute("SELECT current_setting('memory_limit')").fetchall()[0]
    return DuckDBMemory(
        used_mb=round(sum(used for _, used in tags) / 1e6, 1),
        limit=limit,
        largest={tag.lower(): round(used / 1e6, 1) for tag, used in tags[:3]},
    )


# On ClickHouse, the store's counts: servers are not listed (no control socket; each answers /health).
STATUS = Operation("status", status, NoArguments, Status, on_clickhouse=True)
