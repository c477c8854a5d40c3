"""`pulsegate import …`: bring history from Plausible CE or Umami, list imports, remove one."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TextColumn, TimeRemainingColumn
from rich.table import Table

from cli.lazy import PulseTyper
from cli.output import JsonOption, console, error_console, format_ms, print_json, reports_errors
from cli.settings import ConfigOption, DatabaseOption, settings_for

app = PulseTyper(
    help="Bring your history from Plausible CE (its CSV export) or Umami (its database); "
    "list and remove imports.",
    no_args_is_help=True,
)


@app.command("plausible")
@reports_errors
def plausible(
    path: Annotated[
        Path,
        typer.Argument(
            metavar="EXPORT",
            help="The export's ZIP (Plausible: Site settings > Imports & Exports) or a folder of its CSVs.",
        ),
    ],
    project: Annotated[str, typer.Option("--project", "-p", help="The PulseGate project the site is.")],
    timezone: Annotated[
        str, typer.Option("--timezone", help="The Plausible site's time zone (its days are days there).")
    ] = "UTC",
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Read and check every file, say what would be imported, write nothing."
        ),
    ] = False,
    json: JsonOption = False,
    config: ConfigOption = None,
    database: DatabaseOption = None,
) -> None:
    """Import a Plausible CE export: its daily visitors, sources, pages, entry and exit pages,
    countries, devices, browsers, systems and custom events.

    The reports then add those days where the question can be answered from them (see the README:
    "Import your history"). Importing the same export again replaces it; days from the project's
    first tracked day on are left out, so nothing counts twice. Works while the server runs.

    Examples:

        pulsegate import plausible example_com_20250301.zip --project example --timezone Europe/Berlin

        pulsegate import plausible ./export-folder --project example --dry-run
    """
    from pulsegate.ops.plausible_import import import_export
    from pulsegate.ops.runner import OperationSession

    settings = settings_for(config, database)
    with ExitStack() as stack:
        progress = stack.enter_context(
            Progress(
                TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                console=error_console, disable=not error_console.is_terminal or json,
            )
        )  # fmt: skip
        tasks: dict[str, TaskID] = {}

        def heard(name: str, done: int) -> None:
            if name not in tasks:
                tasks[name] = progress.add_task(escape(name), total=None)
            progress.update(tasks[name], completed=done)

        session = stack.enter_context(OperationSession(settings))
        result = import_export(
            session, path.expanduser().resolve(), project, timezone=timezone, dry_run=dry_run, progress=heard
        )
    if json:
        print_json(result)
        return
    _print_plausible(result)


def _print_plausible(result: Any) -> None:
    table = Table("file", "kind", "rows")
    for item in result.files:
        table.add_row(
            escape(item.name), item.kind, "skipped (not imported)" if item.skipped else f"{item.rows:,}"
        )
    console.print(table)
    what = "Would import" if result.dry_run else f"Imported (import {result.imported.id})"
    console.print(
        f"{what} {result.rows:,} rows into {escape(result.project)}: "
        f"{result.first_day} to {result.last_day}, "
        f"{result.days:,} days with {result.visitors:,} visitors (daily uniques, summed) and "
        f"{result.pageviews:,} page views.",
        highlight=False,
    )
    if result.keep_before is not None:
        console.print(
            f"Days from {result.keep_before} on were left out: {escape(result.project)} has its own data "
            "from then.",
            highlight=False,
        )
    if result.replaces is not None:
        verb = "Would replace" if result.dry_run else "Replaced"
        console.print(f"{verb} import {result.replaces} of the same export.", highlight=False)


@app.command("list")
@reports_errors
def list_(json: JsonOption = False, config: ConfigOption = None, database: DatabaseOption = None) -> None:
    """List the imports: where from, which project, the days they cover and their rows."""
    from pulsegate.ops import imports
    from pulsegate.ops.context import NoArguments
    from pulsegate.ops.runner import run_operation

    found = run_operation(settings_for(config, database), imports.LIST, NoArguments())
    if json:
        print_json(found)
        return
    if not found:
        console.print("No imports yet: see pulsegate import plausible --help and import umami --help.")
        return
    table = Table("id", "origin", "project", "from", "days", "rows", "status", "imported (UTC)")
    for item in found:
        days = f"{item.first_day} to {item.last_day}" if item.first_day else "-"
        table.add_row(
            str(item.id), item.origin, escape(item.project), escape(item.label), days, f"{item.rows:,}",
            item.status, format_ms(item.finished_ms or item.created_ms),
        )  # fmt: skip
    console.print(table)


@app.command("remove")
@reports_errors
def remove(
    import_id: Annotated[int, typer.Argument(metavar="ID", help="The import's id (pulsegate import list).")],
    json: JsonOption = False,
    config: ConfigOption = None,
    database: DatabaseOption = None,
) -> None:
    """Remove an import and every row it brought; the reports no longer count it.
    Works while the server runs."""
    from pulsegate.ops import imports
    from pulsegate.ops.runner import run_operation

    removed = run_operation(settings_for(config, database), imports.REMOVE, imports.ImportId(id=import_id))
    if json:
        print_json(removed)
        return
    console.print(
        f"Removed import {removed.id} ({removed.origin}, {escape(removed.label)}, {removed.rows:,} rows).",
        highlight=False,
    )


from cli import import_umami  # noqa: E402,F401  (registers `import umami`)
