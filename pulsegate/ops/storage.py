"""`pulsegate storage stats` and `pulsegate backup` (offline or inside the running server)."""

from __future__ import annotations

import os
import stat
import uuid
from pathlib import Path
from typing import Annotated

import msgspec
from msgspec import Meta

from pulsegate.domain.analytics import Storage
from pulsegate.domain.timestamps import now_ms, utc_datetime
from pulsegate.errors import InvalidInput, StorageUnavailable
from pulsegate.ops.context import NoArguments, OpContext
from pulsegate.ops.operation import Operation
from pulsegate.ops.output_files import check_output_file, written_in_place_of
from pulsegate.services.analytics import file_size, storage_stats
from pulsegate.store import rollup
from pulsegate.store.clickhouse import storage as clickhouse_storage
from pulsegate.store.clickhouse.cursor import is_clickhouse
from pulsegate.store.transactions import transaction


class BackupArgs(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    path: str  # absolute
    force: bool = False


class BackupDone(msgspec.Struct, kw_only=True):
    path: str
    bytes: int
    tables: dict[str, int]  # rows per table, checked equal in the copy


def stats(context: OpContext, args: NoArguments) -> Storage:
    """What /analytics/storage shows."""
    if is_clickhouse(context.connection):
        return clickhouse_storage.storage_stats(context.connection)  # type: ignore[arg-type]
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
    connection = context.connection
    source, database_path = connection.execute(
        "SELECT database_name, path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchall()[0]
    database_file, resolved = Path(database_path).resolve(), target.resolve()
    own_files = resolved.parent == database_file.parent and (
        resolved.name == database_file.name or resolved.name.startswith(database_file.name + ".")
    )
    if own_files:
        raise InvalidInput(f"FILE: {target} is the database itself or one of its own files")
    check_output_file(
        target, option="FILE", example="pulsegate-backup.duckdb", replace=args.force, create_folder=True
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    # Written beside the target and moved over it only once its counts check out: a failed
    # backup never costs the previous one.
    with written_in_place_of(target, create=False) as partial:
        counts, copied = _copy_database(connection, source, partial)
        if copied != counts:
            raise StorageUnavailable(
                f"The backup's row counts differ from the database's ({copied} vs {counts})"
            )
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
    fresh = path.with_name(path.name + ".compact")
    for leftover in (fresh, fresh.with_name(fresh.name + ".wal")):
        leftover.unlink(missing_ok=True)
    counts, copied = _copy_database(connection, catalog, fresh)
    if copied != counts:
        fresh.unlink(missing_ok=True)
        raise StorageUnavailable(
            f"The rewritten file's row counts differ ({copied} vs {counts}); nothing was swapped"
        )
    _take_owner_and_mode(fresh, path)
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


def _take_owner_and_mode(fresh: Path, original: Path) -> None:
    """Give the rewritten file the original's owner and mode: run as root on a file the service
    user owns, compaction must not leave a file that user cannot open on its next start."""
    details = original.stat()
    try:
        if (details.st_uid, details.st_gid) != (os.geteuid(), os.getegid()):
            os.chown(fresh, details.st_uid, details.st_gid)
        os.chmod(fresh, stat.S_IMODE(details.st_mode))
    except PermissionError as exc:
        fresh.unlink(missing_ok=True)
        raise StorageUnavailable(
            f"Cannot give the compacted file the owner and mode of {original} ({exc.strerror}); "
            "nothing was swapped: run the command as the file's owner or as root"
        ) from exc


def _copy_database(connection, catalog: str, target: Path) -> tuple[dict[str, int], dict[str, int]]:  # type: ignore[no-untyped-def]
    """Copy every table of `catalog` into a new DuckDB file at `target`; returns the row counts
    per table before and in the copy, for the caller to compare."""
    counts = _row_counts(connection, catalog)
    quoted = str(target).replace("'", "''")
    connection.execute(f"ATTACH '{quoted}' AS pulsegate_copy")
    try:
        connection.execute(f'COPY FROM DATABASE "{catalog}" TO pulsegate_copy')
        return counts, _row_counts(connection, "pulsegate_copy")
    finally:
        connection.execute("DETACH pulsegate_copy")


def _row_counts(connection, catalog: str) -> dict[str, int]:  # type: ignore[no-untyped-def]
    tables = connection.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = ? AND schema_name = 'main' ORDER BY 1",
        [catalog],
    ).fetchall()
    return {
        name: connection.execute(f'SELECT count(*) FROM "{catalog}".main."{name}"').fetchall()[0][0]
        for (name,) in tables
    }


class PruneArgs(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    older_than_days: Annotated[int, Meta(ge=1, le=100_000)]
    archive_dir: str | None = None  # absolute; Parquet files partitioned by day
    include_sessions: bool = False


# Each process would write its own files, and readers on other machines would not see them.
ARCHIVE_ON_CLICKHOUSE = (
    "--archive: the Parquet archive is for the DuckDB file; on ClickHouse, keep old events on cheaper "
    "storage with ClickHouse's own TTL … TO VOLUME (docs/scaling.md), and prune without --archive"
)


class Pruned(msgspec.Struct, kw_only=True):
    cutoff_ms: int
    events: int
    sessions: int
    archive_dir: str | None


def prune(context: OpContext, args: PruneArgs) -> Pruned:
    """Delete raw events older than the cutoff, first archiving them to Parquet when asked.

    Sessions (their summaries feed every session metric) and leads are kept unless
    `include_sessions`, which also removes ended sessions that started before the cutoff.
    Run `storage compact` afterwards to give the space back to the file system.
    """
    connection = context.connection
    cutoff_ms = now_ms() - args.older_than_days * 86_400_000
    cutoff = utc_datetime(cutoff_ms)
    if is_clickhouse(connection):
        if args.archive_dir is not None:
            raise InvalidInput(ARCHIVE_ON_CLICKHOUSE)
        events, sessions = clickhouse_storage.delete_before(connection, cutoff, args.include_sessions)  # type: ignore[arg-type]
        return Pruned(cutoff_ms=cutoff_ms, events=events, sessions=sessions, archive_dir=None)
    run = uuid.uuid4().hex[:12]  # this prune's files, so a failed delete can take them back
    folder = Path(args.archive_dir) if args.archive_dir is not None else None
    if folder is not None:
        if not folder.is_absolute():
            raise InvalidInput("--archive: give an absolute folder")
        folder.mkdir(parents=True, exist_ok=True)
        # COPY takes no parameters: the rows go through a temporary table; the folder is quoted.
        connection.execute(
            "CREATE OR REPLACE TEMP TABLE prune_archive AS "
            "SELECT *, CAST(received_at AS DATE) AS day FROM events WHERE received_at < ?",
            [cutoff],
        )
        try:
            if connection.execute("SELECT count(*) FROM prune_archive").fetchall()[0][0]:
                quoted = str(folder).replace("'", "''")
                connection.execute(
                    f"COPY prune_archive TO '{quoted}' (FORMAT parquet, PARTITION_BY (day), "
                    f"FILENAME_PATTERN 'events_{run}_{{i}}', OVERWRITE_OR_IGNORE true)"
                )
        finally:
            connection.execute("DROP TABLE IF EXISTS prune_archive")
    (events,) = connection.execute("SELECT count(*) FROM events WHERE received_at < ?", [cutoff]).fetchall()[
        0
    ]
    try:
        # In one transaction with the rollup's repair, so reports never count deleted events.
        with transaction(connection):
            connection.execute("DELETE FROM events WHERE received_at < ?", [cutoff])
            # Form views are events kept apart (migration 0011): they go with the others, unarchived.
            connection.execute("DELETE FROM form_views WHERE received_at < ?", [cutoff])
            rollup.forget_before(connection, cutoff)
    except Exception:
        # The rows stay in the table: remove this run's copies, or they would count twice.
        if folder is not None:
            for written in folder.glob(f"day=*/events_{run}_*.parquet"):
                written.unlink(missing_ok=True)
        raise
    sessions = 0
    if args.include_sessions:
        where = "started_at < ? AND ended_at IS NOT NULL"
        sessions = connection.execute(f"SELECT count(*) FROM sessions WHERE {where}", [cutoff]).fetchall()[0][
            0
        ]
        connection.execute(f"DELETE FROM sessions WHERE {where}", [cutoff])
    connection.execute("CHECKPOINT")
    return Pruned(cutoff_ms=cutoff_ms, events=events, sessions=sessions, archive_dir=args.archive_dir)


# The archive or the file itself may change under these: the server's readers look again after.
STATS = Operation("storage.stats", stats, NoArguments, Storage, refreshes_readers=True, on_clickhouse=True)
BACKUP = Operation(
    "storage.backup", backup, BackupArgs, BackupDone, refreshes_readers=True,
    never_on_clickhouse="back ClickHouse up with its own BACKUP … TO statement or clickhouse-backup",
)  # fmt: skip
COMPACT = Operation(
    "storage.compact", compact, CompactArgs, CompactDone, refreshes_readers=True,
    never_on_clickhouse="ClickHouse merges its parts and drops deleted rows itself",
)  # fmt: skip
PRUNE = Operation("storage.prune", prune, PruneArgs, Pruned, refreshes_readers=True, on_clickhouse=True)
