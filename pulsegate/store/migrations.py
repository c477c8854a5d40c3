"""Numbered SQL migrations, each applied with its version bump in one transaction."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

import duckdb

from pulsegate.store.transactions import transaction

MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema step: `version` is the number its file name starts with."""

    version: int
    name: str
    sql: str


def available_migrations() -> list[Migration]:
    """Every migration shipped in pulsegate/store/migrations, in version order."""
    folder = resources.files("pulsegate.store") / "migrations"
    found = []
    for entry in folder.iterdir():
        match = MIGRATION_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text("utf-8")))
    found.sort(key=lambda migration: migration.version)
    versions = [migration.version for migration in found]
    if versions != list(range(1, len(found) + 1)):
        raise RuntimeError(f"Migration numbers must run 1, 2, 3 … without gaps; found {versions}")
    return found


def schema_version(connection: duckdb.DuckDBPyConnection) -> int:
    """The version the database is at: 0 for a new file."""
    # Asked of meta itself, not of information_schema: DuckDB's first catalog query in a process
    # takes 10-15 ms, which every offline CLI command paid at start (issue 21).
    # fetchall, not fetchone: a half-read result left on the connection blocks later appends.
    try:
        rows = connection.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
    except duckdb.CatalogException:  # no meta table: a new file
        return 0
    return int(rows[0][0]) if rows else 0


def migrate(connection: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply the migrations the database lacks; return the names applied."""
    current = schema_version(connection)
    migrations = available_migrations()
    if current > len(migrations):
        raise RuntimeError(
            f"The database is at schema version {current}, newer than this PulseGate knows "
            f"({len(migrations)}); upgrade PulseGate"
        )
    applied = []
    for migration in migrations[current:]:
        with transaction(connection):
            connection.execute(migration.sql)
            connection.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)",
                [str(migration.version)],
            )
        applied.append(migration.name)
    return applied
