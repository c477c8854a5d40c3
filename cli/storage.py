"""`pulsegate storage …` and `pulsegate backup`: the database file itself."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn
from rich.table import Table

from cli.lazy import PulseTyper
from cli.output import JsonOption, console, error_console, format_ms, print_json, reports_errors
from cli.settings import ConfigOption, DatabaseOption, settings_for

app = PulseTyper(help="The database file: sizes, compaction, a copy into ClickHouse.", no_args_is_help=True)
LONG_OPERATION_SECONDS = 6 * 3600.0
INTERRUPTED_EXIT = 130  # as a shell reports Ctrl-C


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:,.1f} MB"


@app.command("stats")
@reports_errors
def stats(json: JsonOption = False, config: ConfigOption = None, database: DatabaseOption = None) -> None:
    """What /analytics/storage shows: file and WAL size, rows and bytes per table, event range."""
    from pulsegate.ops import storage
    from pulsegate.ops.context import NoArguments
    from pulsegate.ops.runner import run_operation

    answer = run_operation(settings_for(config, database), storage.STATS, NoArguments())
    if json:
        print_json(answer)
        return
    console.print(
        f"{answer.database_path}: {_megabytes(answer.database_bytes)}, WAL {_megabytes(answer.wal_bytes)}"
    )
    table = Table("table", "rows", "estimated size")
    for size in answer.tables:
        table.add_row(size.table, f"{size.rows:,}", _megabytes(size.estimated_bytes))
    console.print(table)
    if answer.oldest_event_ms is not None:
        console.print(
            f"Events from {format_ms(answer.oldest_event_ms)} to {format_ms(answer.newest_event_ms)} UTC."
        )


@app.command("compact")
@reports_errors
def compact(
    keep_old: Annotated[
        bool, typer.Option("--keep-old", help="Keep the previous file as <name>.old.")
    ] = False,
    config: ConfigOption = None,
    database: DatabaseOption = None,
) -> None:
    """Rewrite the database into a fresh file to give back the space of deleted rows.

    Every table's row count is checked in the new file before it is swapped in, and again
    after. Against a running server it runs inside it; events arriving meanwhile wait and are
    written after.

    Example:

        pulsegate storage compact
    """
    from pulsegate.ops import storage
    from pulsegate.ops.runner import run_operation

    with console.status("Compacting: copying every table into a fresh file…"):
        done = run_operation(
            settings_for(config, database), storage.COMPACT, storage.CompactArgs(keep_old=keep_old),
            timeout=LONG_OPERATION_SECONDS,
        )  # fmt: skip
    rows = sum(done.tables.values())
    before, after = _megabytes(done.bytes_before), _megabytes(done.bytes_after)
    console.print(f"Compacted {rows:,} rows: {before} before, {after} after.")
    if done.old_file:
        console.print(f"The previous file is kept as {done.old_file}.")


@app.command("prune")
@reports_errors
def prune(
    older_than: Annotated[
        str, typer.Option("--older-than", help="Age of the events to delete, in days: 400d.")
    ],
    archive: Annotated[
        Path | None,
        typer.Option(
            "--archive",
            help="First write them to Parquet here, a folder a day (default: retention.archive_dir).",
        ),
    ] = None,
    sessions: Annotated[
        bool, typer.Option("--sessions", help="Also delete ended sessions that started before the cutoff.")
    ] = False,
    json: JsonOption = False,
    config: ConfigOption = None,
    database: DatabaseOption = None,
) -> None:
    """Delete raw events older than a cutoff (sessions and leads are kept by default).

    On ClickHouse (storage.engine = "clickhouse") the events are deleted there, without an archive.

    Example:

        pulsegate storage prune --older-than 400d --archive /var/lib/pulsegate/archive
    """
    import re

    from pulsegate.errors import InvalidInput
    from pulsegate.ops import storage
    from pulsegate.ops.runner import run_operation

    match = re.fullmatch(r"([0-9]{1,6})d", older_than.strip())
    if not match or int(match.group(1)) < 1:
        raise InvalidInput(f"--older-than: a number of days such as 400d (got {older_than!r})")
    settings = settings_for(config, database)
    folder = archive.resolve() if archive else settings.archive_path  # default: the configured archive
    args = storage.PruneArgs(
        older_than_days=int(match.group(1)),
        archive_dir=str(folder) if folder else None,
        include_sessions=sessions,
    )
    with error_console.status("Pruning…"):
        done = run_operation(settings, storage.PRUNE, args, timeout=LONG_OPERATION_SECONDS)
    if json:
        print_json(done)
        return
    archived = f", archived to {done.archive_dir}" if done.archive_dir else ""
    after = (
        "ClickHouse frees their space as it merges its parts."
        if settings.storage.engine == "clickhouse"
        else "Run `pulsegate storage compact` to shrink the file."
    )
    console.print(
        f"Deleted {done.events:,} events and {done.sessions:,} sessions from before "
        f"{format_ms(done.cutoff_ms)} UTC{archived}. {after}"
    )


@reports_errors
def backup(
    file: Annotated[Path, typer.Argument(help="Where to write the copy (a new DuckDB file).")],
    force: Annotated[bool, typer.Option("--force", help="Replace FILE if it exists.")] = False,
    config: ConfigOption = None,
    database: DatabaseOption = None,
) -> None:
    """Write a consistent copy of the database to FILE, also while the server runs.

    Example:

        pulsegate backup /backups/pulsegate-$(date +%F).duckdb
    """
    from pulsegate.ops import storage
    from pulsegate.ops.runner import run_operation

    with console.status("Copying the database…"):
        done = run_operation(
            settings_for(config, database),
            storage.BACKUP,
            storage.BackupArgs(path=str(file.resolve()), force=force),
            timeout=LONG_OPERATION_SECONDS,
        )  # fmt: skip
    console.print(f"Backed up {sum(done.tables.values()):,} rows to {done.path} ({_megabytes(done.bytes)}).")


class _CopyBar:
    """`ops.storage_copy.CopyProgress` as a Rich bar, one line per table."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._task: TaskID | None = None

    def begin(self, table: str, total: int, done: int) -> None:
        self._task = self._progress.add_task(table, total=total, completed=done)

    def advance(self, rows: int) -> None:
        assert self._task is not None
        self._progress.advance(self._task, rows)


@app.command("copy")
@reports_errors
def copy(
    to: Annotated[
        str | None,
        typer.Option(
            "--to",
            help="The ClickHouse store: clickhouse://USER:PASSWORD@HOST:8123/DATABASE (or http(s)://…, "
            "or chdb:///FOLDER). Default: clickhouse.url of the configuration.",
            show_default=False,
        ),
    ] = None,
    batch_rows: Annotated[
        int, typer.Option("--batch-rows", help="Rows read and inserted at a time (1 to 10,000,000).")
    ] = 100_000,
    json: JsonOption = False,
    config: ConfigOption = None,
    database: DatabaseOption = None,
) -> None:
    """Copy the DuckDB file's history and settings into ClickHouse, to move to storage.engine =
    "clickhouse" without losing anything (docs/scaling.md).

    Copies sessions, events, form views, leads with their stages, attribution and deliveries,
    imports, goals, funnels, projects, API keys, share links, email reports and the visitor salt
    (so visitor ids stay the same). Every table's rows are counted on both sides at the end.
    Interrupted, run it again: it goes on from the last batch ClickHouse acknowledged, and none is
    inserted twice. Stop the server first (or copy a `pulsegate backup` of the file), and copy into
    an empty ClickHouse database.

    Examples:

        pulsegate storage copy --to clickhouse://pulsegate:secret@ch.internal:8123/pulsegate

        PULSEGATE_CLICKHOUSE__URL=http://… pulsegate storage copy --database /backups/copy.duckdb
    """
    from pulsegate.domain.clickhouse_target import parse_target
    from pulsegate.errors import ConfigError, InvalidInput
    from pulsegate.ops.storage_copy import copy_to_clickhouse

    settings = settings_for(config, database)
    url = to or settings.clickhouse.url
    if not url:
        raise InvalidInput(
            "--to: the ClickHouse store's URL (or clickhouse.url in the configuration) is needed"
        )
    try:
        target = parse_target(url, cluster=settings.clickhouse.cluster)
    except ConfigError as exc:  # named as the option it came from, when it did
        raise InvalidInput(
            str(exc).replace("Invalid setting clickhouse.url", "--to") if to else str(exc)
        ) from None
    with Progress(
        TextColumn("{task.description:<18}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
        console=error_console, disable=not error_console.is_terminal or json,
    ) as progress:  # fmt: skip
        try:
            done = copy_to_clickhouse(settings, target, batch_rows=batch_rows, progress=_CopyBar(progress))
        except KeyboardInterrupt:
            progress.stop()
            error_console.print(
                "Interrupted. Every batch copied so far is kept: run the same command again to continue.",
                highlight=False,
            )
            raise typer.Exit(INTERRUPTED_EXIT) from None
    if json:
        print_json(done)
        return
    table = Table("table", "rows", "copied now", "in ClickHouse")
    for item in done.tables:
        table.add_row(item.table, f"{item.rows:,}", f"{item.copied_now:,}", f"{item.in_clickhouse:,}")
    console.print(table)
    copied = sum(item.copied_now for item in done.tables)
    again = " (continued an earlier run)" if done.resumed else ""
    console.print(
        f"Copied {copied:,} rows to {done.target} in {done.seconds:,.1f} s{again}; every table's count "
        "matches.", highlight=False
    )  # fmt: skip
    for name in done.secrets_kept_by_target:
        console.print(
            f"The ClickHouse store already had its own {name}: it is kept, so visitor ids made there "
            "differ from this file's for the same visitor.", highlight=False
        )  # fmt: skip
