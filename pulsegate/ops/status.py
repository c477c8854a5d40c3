"""`pulsegate status`: is a server running on this database, since when, and what it holds."""

from __future__ import annotations

import msgspec

from pulsegate.ops.context import OpContext, ServerInfo
from pulsegate.ops.keys import NoArguments


class DatabaseCounts(msgspec.Struct, kw_only=True):
    """Row counts a person checks first."""

    sessions: int
    open_sessions: int
    events: int
    leads: int
    api_keys: int


class Status(msgspec.Struct, kw_only=True):
    """The answer of `status`: `server` is None when no server holds the database."""

    server: ServerInfo | None
    counts: DatabaseCounts


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
    return Status(server=context.server, counts=counts)
