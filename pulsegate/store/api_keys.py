"""SQL for the api_keys table."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

import duckdb

from pulsegate.domain.api_keys import ApiKey

if TYPE_CHECKING:  # imported where used: `pulsegate keys` loads no writer (nor asyncio)
    from pulsegate.store.writer import RowWrite

KEY_COLUMNS = "key_id, name, prefix, secret_hash, projects, created_at, last_used_at, revoked_at"
KeyRow = tuple[str, str, str, str, list[str], datetime, datetime | None, datetime | None]


def insert_key(
    connection: duckdb.DuckDBPyConnection,
    key_id: str,
    name: str,
    prefix: str,
    secret_hash: str,
    projects: Sequence[str],
    created_at: datetime,
) -> None:
    """Store a new key."""
    connection.execute(
        "INSERT INTO api_keys (key_id, name, prefix, secret_hash, projects, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [key_id, name, prefix, secret_hash, list(projects), created_at],
    )


def key_rows(connection: duckdb.DuckDBPyConnection) -> list[KeyRow]:
    """Every key, oldest first."""
    return connection.execute(f"SELECT {KEY_COLUMNS} FROM api_keys ORDER BY created_at, key_id").fetchall()


def key_row(connection: duckdb.DuckDBPyConnection, key_id: str) -> KeyRow | None:
    """One key by id."""
    rows = connection.execute(f"SELECT {KEY_COLUMNS} FROM api_keys WHERE key_id = ?", [key_id]).fetchall()
    return rows[0] if rows else None


def revoke_key(connection: duckdb.DuckDBPyConnection, key_id: str, revoked_at: datetime) -> None:
    """Mark a key revoked (kept, so the list shows when)."""
    connection.execute(
        "UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL", [revoked_at, key_id]
    )


def live_keys(connection: duckdb.DuckDBPyConnection) -> list[ApiKey]:
    """Every key as the server's key ring holds it."""
    return [
        ApiKey(key_id, name, prefix, secret_hash, tuple(projects), revoked_at is not None)
        for key_id, name, prefix, secret_hash, projects, _created, _used, revoked_at in key_rows(connection)
    ]


def last_used_rows(last_used: dict[str, datetime]) -> RowWrite:
    """The batched update of keys' last use."""
    from pulsegate.store.writer import RowWrite

    return RowWrite(
        "api_keys",
        ("key_id", "last_used_at"),
        sorted(last_used.items()),
        action="update",
        key=("key_id",),
    )
