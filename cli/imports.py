"""`pulsegate import …`: bring history from Plausible CE or Umami, list imports, remove one."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from cli.output import JsonOption, console, format_ms, print_json, reports_errors
from cli.settings import ConfigOption, DatabaseOption, settings_for

app = typer.Typer(
    help="Bring your history from Plausible CE (its CSV export) or Umami (its database); "
    "list and remove imports.",
    no_args_is_help=True,
)


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
