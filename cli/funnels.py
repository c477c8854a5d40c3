"""`pulsegate funnels …`: saved funnels, run by name in the API and the dashboard."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from cli.lazy import PulseTyper
from cli.output import JsonOption, console, format_ms, print_json, reports_errors
from cli.settings import ConfigOption, DatabaseOption, announce_new_database, settings_for

app = PulseTyper(
    help="Funnels: ordered steps toward a conversion, saved to run by name.",
    no_args_is_help=True,
)


@app.command("add")
@reports_errors
def add(
    name: Annotated[str, typer.Argument(help="The funnel's name, as the API and dashboard will call it.")],
    step: Annotated[
        list[str],
        typer.Option(
            "--step",
            help="A step, in order (2 to 8): page:PATTERN (* any characters), event:NAME, goal:NAME or lead.",
        ),
    ],
    within: Annotated[
        str | None,
        typer.Option(
            "--within", help="session (default): the steps in one session; visitor: across sessions."
        ),
    ] = None,
    window: Annotated[
        str | None,
        typer.Option(
            "--window", help="With --within visitor: how long after the first step, like 12h or 7d (7d)."
        ),
    ] = None,
    project: Annotated[
        str | None, typer.Option("--project", help="Only this project's visitors (default: every one).")
    ] = None,
    config: ConfigOption = None,
    database: DatabaseOption = None,
) -> None:
    """Save a funnel. Saving a name again replaces it. Works while the server runs.

    Examples:

        pulsegate funnels add Demo --step page:/pricing --step "event:Book demo" --step lead

        pulsegate funnels add Trial --step "page:/blog/*" --step goal:Signup --within visitor --window 7d
    """
    from pulsegate.ops import funnels
    from pulsegate.ops.runner import run_operation

    settings = settings_for(config, database)
    announce_new_database(settings)
    given = funnels.AddFunnel(name=name, steps=step, within=within, window=window, project=project)
    saved = run_operation(settings, funnels.ADD, given)
    where = f"across a visitor's sessions within {saved.window}" if saved.window else "within a session"
    console.print(
        f"Funnel {escape(saved.name)}: {escape(' → '.join(saved.steps))}, {where}.", highlight=False
    )


@app.command("list")
@reports_errors
def list_(json: JsonOption = False, config: ConfigOption = None, database: DatabaseOption = None) -> None:
    """List the saved funnels."""
    from pulsegate.ops import funnels
    from pulsegate.ops.context import NoArguments
    from pulsegate.ops.runner import run_operation

    found = run_operation(settings_for(config, database), funnels.LIST, NoArguments())
    if json:
        print_json(found)
        return
    if not found:
        console.print(
            "No saved funnels yet. Save one with: "
            "pulsegate funnels add NAME --step page:/pricing --step lead",
            highlight=False,
        )
        return
    table = Table("funnel", "steps", "within", "project", "saved (UTC)")
    for info in found:
        table.add_row(
            escape(info.name), escape(" → ".join(info.steps)),
            f"visitor, {info.window}" if info.window else info.within,
            escape(info.project or "every project"), format_ms(info.created_ms),
        )  # fmt: skip
    console.print(table)


@app.command("remove")
@reports_errors
def remove(
    name: Annotated[str, typer.Argument(help="The saved funnel to remove.")],
    config: ConfigOption = None,
    database: DatabaseOption = None,
) -> None:
    """Remove a saved funnel."""
    from pulsegate.ops import funnels
    from pulsegate.ops.runner import run_operation

    run_operation(settings_for(config, database), funnels.REMOVE, funnels.RemoveFunnel(name=name))
    console.print(f"Removed funnel {escape(name)}.", highlight=False)
