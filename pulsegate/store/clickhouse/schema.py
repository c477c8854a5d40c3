"""The ClickHouse store's numbered migrations (store/clickhouse/migrations), applied in order.

ClickHouse has no transactions for DDL: each statement is idempotent (IF NOT EXISTS), and the
version is written after a migration's last statement, so a migration cut short runs again whole.
Several PulseGate processes starting at once may each run it; the statements allow that.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from pulsegate.store.clickhouse.connection import ClickHouse
from pulsegate.store.migrations import MIGRATION_NAME


@dataclass(frozen=True, slots=True)
class ClickHouseMigration:
    version: int
    name: str
    statements: tuple[str, ...]


def available_migrations() -> list[ClickHouseMigration]:
    """Every migration shipped in store/clickhouse/migrations, in version order."""
    folder = resources.files("pulsegate.store.clickhouse") / "migrations"
    found = []
    for entry in folder.iterdir():
        match = MIGRATION_NAME.match(entry.name)
        if match:
            found.append(
                ClickHouseMigration(int(match[1]), entry.name, split_statements(entry.read_text("utf-8")))
            )
    found.sort(key=lambda migration: migration.version)
    if [migration.version for migration in found] != list(range(1, len(found) + 1)):
        raise RuntimeError("ClickHouse migration numbers must run 1, 2, 3 … without gaps")
    return found


def split_statements(script: str) -> tuple[str, ...]:
    """A migration file's statements: separated by a `;` that ends a line (none of ours has one
    inside a literal). Comment lines are dropped."""
    kept = "\n".join(line for line in script.splitlines() if not line.lstrip().startswith("--"))
    return tuple(part.strip() for part in kept.split(";\n") if part.strip().rstrip(";").strip())


def render(statement: str, cluster: str) -> str:
    """A statement for this store: ON CLUSTER and Replicated engines on a cluster."""
    on_cluster = f"ON CLUSTER {cluster}" if cluster else ""
    replicated = "Replicated" if cluster else ""
    return statement.replace("{on_cluster}", on_cluster).replace("{replicated}", replicated)


def schema_version(connection: ClickHouse) -> int:
    """The version the store is at: 0 for a new database."""
    if not _has_meta(connection):
        return 0
    rows = connection.query("SELECT value FROM meta FINAL WHERE key = 'schema_version'")
    return int(rows[0][0]) if rows else 0


def _has_meta(connection: ClickHouse) -> bool:
    return bool(
        connection.query("SELECT 1 FROM system.tables WHERE database = currentDatabase() AND name = 'meta'")
    )


def migrate(connection: ClickHouse) -> list[str]:
    """Apply the migrations the store lacks; return the names applied."""
    current = schema_version(connection)
    migrations = available_migrations()
    if current > len(migrations):
        raise RuntimeError(
            f"The ClickHouse store is at schema version {current}, newer than this PulseGate knows "
            f"({len(migrations)}); upgrade PulseGate"
        )
    applied = []
    for migration in migrations[current:]:
        for statement in migration.statements:
            connection.command(render(statement, connection.target.cluster))
        connection.insert("meta", ("key", "value"), [("schema_version", str(migration.version))])
        applied.append(migration.name)
    return applied
