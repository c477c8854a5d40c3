"""SQL for the goals table: the goals declared with `pulsegate goals add`."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from pulsegate.domain.goals import Goal

if TYPE_CHECKING:
    import duckdb

_COLUMNS = ("name", "kind", "project", "event", "prop_key", "prop_value", "page", "form")


def goal_rows(connection: duckdb.DuckDBPyConnection) -> list[tuple[Goal, datetime]]:
    """Every goal and when it was added, by name."""
    rows = connection.execute(f"SELECT {', '.join(_COLUMNS)}, created_at FROM goals ORDER BY name").fetchall()
    return [(Goal(**dict(zip(_COLUMNS, row[:-1], strict=True))), row[-1]) for row in rows]


def upsert_goal(connection: duckdb.DuckDBPyConnection, goal: Goal, created_at: datetime) -> None:
    """Add a goal, or replace the one of that name (keeping when it was first added)."""
    values = [getattr(goal, column) for column in _COLUMNS]
    updates = ", ".join(f"{column} = excluded.{column}" for column in _COLUMNS[1:])
    marks = ", ".join("?" for _ in _COLUMNS)
    connection.execute(
        f"INSERT INTO goals ({', '.join(_COLUMNS)}, created_at) VALUES ({marks}, ?) "
        f"ON CONFLICT (name) DO UPDATE SET {updates}",
        [*values, created_at],
    )


def delete_goal(connection: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Remove a goal; False when there was none of that name."""
    existed = connection.execute("SELECT count(*) FROM goals WHERE name = ?", [name]).fetchall()[0][0]
    connection.execute("DELETE FROM goals WHERE name = ?", [name])
    return bool(existed)
