"""SQL for the share_links table."""

from __future__ import annotations

from datetime import datetime

import duckdb

from pulsegate.domain.shares import ShareLink
from pulsegate.domain.timestamps import epoch_ms

_COLUMNS = (
    "share_id, name, project, token_hash, password_hash, embed_origins, created_at, expires_at, revoked_at"
)


def insert_share(connection: duckdb.DuckDBPyConnection, link: ShareLink, created_at: datetime,
                 expires_at: datetime | None) -> None:  # fmt: skip
    """Store a new link."""
    connection.execute(
        f"INSERT INTO share_links ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)",
        [link.share_id, link.name, link.project, link.token_hash, link.password_hash,
         list(link.embed_origins), created_at, expires_at],
    )  # fmt: skip


def share_links(connection: duckdb.DuckDBPyConnection) -> list[ShareLink]:
    """Every link, oldest first."""
    rows = connection.execute(f"SELECT {_COLUMNS} FROM share_links ORDER BY created_at, share_id").fetchall()
    return [_link(row) for row in rows]


def share_link(connection: duckdb.DuckDBPyConnection, share_id: str) -> ShareLink | None:
    """One link by id."""
    rows = connection.execute(f"SELECT {_COLUMNS} FROM share_links WHERE share_id = ?", [share_id]).fetchall()
    return _link(rows[0]) if rows else None


def share_by_token_hash(connection: duckdb.DuckDBPyConnection, token_hash: str) -> ShareLink | None:
    """The link whose token has this SHA-256, revoked or not."""
    rows = connection.execute(
        f"SELECT {_COLUMNS} FROM share_links WHERE token_hash = ?", [token_hash]
    ).fetchall()
    return _link(rows[0]) if rows else None


def revoke_share(connection: duckdb.DuckDBPyConnection, share_id: str, revoked_at: datetime) -> None:
    """Mark a link revoked (kept, so the list shows when)."""
    connection.execute(
        "UPDATE share_links SET revoked_at = ? WHERE share_id = ? AND revoked_at IS NULL",
        [revoked_at, share_id],
    )


def _link(row: tuple) -> ShareLink:  # type: ignore[type-arg]
    share_id, name, project, hashed, password_hash, origins, created_at, expires_at, revoked_at = row
    return ShareLink(
        share_id=share_id,
        name=name,
        project=project,
        token_hash=hashed,
        password_hash=password_hash,
        embed_origins=tuple(origins),
        created_ms=epoch_ms(created_at),
        expires_ms=epoch_ms(expires_at) if expires_at else None,
        revoked_ms=epoch_ms(revoked_at) if revoked_at else None,
    )
