"""SQL for the goals table: the goals declared with `pulsegate goals add`."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from pulsegate.domain.goals import Goal
from pulsegate.store.transactions import transaction

if TYPE_CHECKING:
    import duckdb

_COLUMNS = ("name", "kind", "project", "event", "prop_key", "prop_value", "page", "form")


def goal_rows(connection: duckdb.DuckDBPyConnection) -> list[tuple[Goal, datetime, str]]:
    """Every goal, when it was added and where it was declared ('cli' or 'config'), by name."""
    rows = connection.execute(
        f"SELECT {', '.join(_COLUMNS)}, created_at, declared_in FROM goals ORDER BY name"
    ).fetchall()
    return [(Goal(**dict(zip(_COLUMNS, row[:-2], strict=True))), row[-2], row[-1]) for row in rows]


def upsert_goal(
    connection: duckdb.DuckDBPyConnection, goal: Goal, created_at: datetime, *, declared_in: str = "cli"
) -> None:
    """Add a goal, or replace the one of that name (keeping when it was first added)."""
    values = [getattr(goal, column) for column in _COLUMNS]
    updates = ", ".join(f"{column} = excluded.{column}" for column in (*_COLUMNS[1:], "declared_in"))
    marks = ", ".join("?" for _ in _COLUMNS)
    connection.execute(
        f"INSERT INTO goals ({', '.join(_COLUMNS)}, declared_in, created_at) VALUES ({marks}, ?, ?) "
        f"ON CONFLICT (name) DO UPDATE SET {updates}",
        [*values, declared_in, created_at],
    )


def declared_in(connection: duckdb.DuckDBPyConnection, name: str) -> str | None:
    """Where the goal called `name` was declared ('cli' or 'config'), None when there is none."""
    rows = connection.execute("SELECT declared_in FROM goals WHERE name = ?", [name]).fetchall()
    return rows[0][0] if rows else None


def replace_config_goals(connection: duckdb.DuckDBPyConnection, goals: list[Goal], now: datetime) -> None:
    """Make the goals declared in the config file exactly `goals` (a goal of the same name added
    with `goals add` gives way to the file's), in one transaction; no write when they already are
    (every CLI command that opens the file calls this)."""
    stored = connection.execute(
        f"SELECT {', '.join(_COLUMNS)} FROM goals WHERE declared_in = 'config' ORDER BY name"
    ).fetchall()
    current = [Goal(**dict(zip(_COLUMNS, row, strict=True))) for row in stored]
    if current == sorted(goals, key=lambda g: g.name):
        return
    with transaction(connection):
        connection.execute("DELETE FROM goals WHERE declared_in = 'config'")
        for goal in goals:
            upsert_goal(connection, goal, now, declared_in="config")


def delete_goal(connection: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Remove a goal; False when there was none of that name."""
    existed = connection.execute("SELECT count(*) FROM goals WHERE name = ?", [name]).fetchall()[0][0]
    connection.execute("DELETE FROM goals WHERE name = ?", [name])
    return bool(existed)
