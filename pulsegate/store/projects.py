"""SQL for the projects table: the registered sites and their domains."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: `pulsegate status` decodes its answer without loading DuckDB
    import duckdb

ProjectRow = tuple[str, list[str], datetime]


def project_rows(connection: duckdb.DuckDBPyConnection) -> list[ProjectRow]:
    """Every registered project, by name."""
    return connection.execute("SELECT name, domains, created_at FROM projects ORDER BY name").fetchall()


def project_domains(connection: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """Every registered project's domains, by name."""
    return {name: list(domains) for name, domains, _ in project_rows(connection)}


def upsert_project(
    connection: duckdb.DuckDBPyConnection, name: str, domains: Sequence[str], created_at: datetime
) -> None:
    """Register a project, or replace the domains of one that is."""
    connection.execute(
        "INSERT INTO projects (name, domains, created_at) VALUES (?, ?, ?) "
        "ON CONFLICT (name) DO UPDATE SET domains = excluded.domains",
        [name, list(domains), created_at],
    )


def delete_project(connection: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Forget a project; False when there was none of that name."""
    existed = connection.execute("SELECT count(*) FROM projects WHERE name = ?", [name]).fetchall()[0][0]
    connection.execute("DELETE FROM projects WHERE name = ?", [name])
    return bool(existed)
