"""`pulsegate storage stats` and `pulsegate backup` (offline or inside the running server)."""

from __future__ import annotations

import contextlib
from pathlib import Path

import msgspec

from pulsegate.domain.analytics import Storage
from pulsegate.errors import InvalidInput, StorageUnavailable
from pulsegate.ops.context import OpContext
from pulsegate.ops.keys import NoArguments
from pulsegate.services.analytics import file_size, storage_stats


class BackupArgs(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    path: str  # absolute
    force: bool = False


class BackupDone(msgspec.Struct, kw_only=True):
    path: str
    bytes: int
    tables: dict[str, int]  # rows per table, checked equal in the copy


def stats(context: OpContext, args: NoArguments) -> Storage:
    """What /analytics/storage shows."""
    path = Path(
        context.connection.execute(
            "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
        ).fetchall()[0][0]
    )
    return storage_stats(context.connection, path)


def backup(context: OpContext, args: BackupArgs) -> BackupDone:
    """A consistent copy of the database in a new file, made between two group commits.

    Inside the server this runs on the writer's thread, so no write lands half-way through it;
    every table's row count is compared in the copy before it is reported done.
    """
    target = Path(args.path)
    if not target.is_absolute():
        raise InvalidInput("FILE: give an absolute path")
    if target.exists():
        if not args.force:
            raise InvalidInput(f"FILE: {target} exists; pass --force to replace it")
        target.unlink()
    target.parent.mkdir(parents=True, exist_ok=True)
    connection = context.connection
    source = connection.execute("SELECT current_database()").fetchall()[0][0]
    counts = _row_counts(connection, source)
    quoted = str(target).replace("'", "''")
    connection.execute(f"ATTACH '{quoted}' AS pulsegate_backup")
    try:
        connection.execute(f'COPY FROM DATABASE "{source}" TO pulsegate_backup')
        copied = _row_counts(connection, "pulsegate_backup")
    finally:
        connection.execute("DETACH pulsegate_backup")
    if copied != counts:
        with contextlib.suppress(OSError):
            target.unlink()
        raise StorageUnavailable(f"The backup's row counts differ from the database's ({copied} vs {counts})")
    return BackupDone(path=str(target), bytes=file_size(target), tables=counts)


class CompactArgs(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    keep_old: bool = False


class CompactDone(msgspec.Struct, kw_only=True):
    bytes_before: int
    bytes_after: int
    tables: dict[str, int]
    old_file: str | None  # kept when asked


def compact(context: OpContext, args: CompactArgs) -> CompactDone:
    """Rewrite the database into a fresh file (DuckDB keeps the blocks of deleted rows), check
    every table's row count in it, swap it in, and check again after reopening.

    Inside the server this runs on the writer's thread: events that arrive meanwhile wait in the
    write queue (bounded: past it they get 503 and retry) and commit to the new file after.
    """
    if context.replace_file is None:
        raise StorageUnavailable("Compaction needs the database file itself")
    connection = context.connection
    connection.execute("CHECKPOINT")
    catalog, path_text = connection.execute(
        "SELECT database_name, path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchall()[0]
    path = Path(path_text)
    before = file_size(path)
    counts = _row_counts(connection, catalog)
    fresh = path.with_name(path.name + ".compact")
    for leftover in (fresh, fresh.with_name(fresh.name + ".wal")):
        leftover.unlink(missing_ok=True)
    quoted = str(fresh).replace("'", "''")
    connection.execute(f"ATTACH '{quoted}' AS pulsegate_compact")
    try:
        connection.execute(f'COPY FROM DATABASE "{catalog}" TO pulsegate_compact')
        copied = _row_counts(connection, "pulsegate_compact")
    finally:
        connection.execute("DETACH pulsegate_compact")
    if copied != counts:
        fresh.unlink(missing_ok=True)
        raise StorageUnavailable(
            f"The rewritten file's row counts differ ({copied} vs {counts}); nothing was swapped"
        )
    reopened = context.replace_file(fresh)
    new_catalog = reopened.execute("SELECT current_database()").fetchall()[0][0]
    after_counts = _row_counts(reopened, new_catalog)
    old = path.with_name(path.name + ".old")
    if after_counts != counts:
        raise StorageUnavailable(
            f"Row counts changed across the swap ({after_counts} vs {counts}); the old file is {old}"
        )
    if not args.keep_old:
        old.unlink(missing_ok=True)
        old.with_name(old.name + ".wal").unlink(missing_ok=True)
    return CompactDone(bytes_before=before, bytes_after=file_size(path), tables=counts,
                       old_file=str(old) if args.keep_old else None)  # fmt: skip


def _row_counts(connection, catalog: str) -> dict[str, int]:  # type: ignore[no-untyped-def]
    tables = connection.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = ? AND schema_name = 'main' ORDER BY 1",
        [catalog],
    ).fetchall()
    return {
        name: connection.execute(f'SELECT count(*) FROM "{catalog}".main."{name}"').fetchall()[0][0]
        for (name,) in tables
    }
