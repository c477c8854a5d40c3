"""`pulsegate goals …`: the conversions the reports count."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from cli.lazy import PulseTyper
from cli.output import JsonOption, console, format_ms, print_json, reports_errors
from cli.settings import ConfigOption, DatabaseOption, announce_new_database, settings_for

app = PulseTyper(
    help="Goals: the conversions reports count (a custom event, a page view, a lead).",
    no_args_is_help=True,
)


@app.command("add")
@reports_errors
def add(
    name: Annotated[str, typer.Argument(help="The goal's name, as reports and filters will call it.")],
    event: Annotated[str | None, typer.Option("--event", help="A custom event's name (PulseGate.track).")] = (
        None
    ),
    prop: Annotated[
        str | None, typer.Option("--prop", help="With --event: a property value it must carry, KEY=VALUE.")
    ] = None,
    page: Annotated[
        str | None, typer.Option("--page", help="A page view whose path matches, * for any characters.")
    ] = None,
    lead: Annotated[bool, typer.Option("--lead", help="A lead (spam never counts).")] = False,
    form: Annotated[str | None, typer.Option("--form", help="With --lead: only leads from this form.")] = (
        None
    ),
    project: Annotated[
        str | None, typer.Option("--project", help="Only this project's conversions (default: every one).")
    ] = None,
    config: ConfigOption = None,
    database: DatabaseOption = None,
) -> None:
    """Add a goal: exactly one of --event, --page or --lead. Adding a goal's name again replaces
    it. Works while the server runs.

    Examples:

        pulsegate goals add Signup --event Signup --prop plan=pro

        pulsegate goals add "Thank you" --page "/thank-you*"

        pulsegate goals add "Demo request" --lead --form demo
    """
    from pulsegate.ops import goals
    from pulsegate.ops.runner import run_operation

    settings = settings_for(config, database)
    announce_new_database(settings)
    given = goals.AddGoal(name=name, event=event, prop=prop, page=page, lead=lead, form=form, project=project)
    added = run_operation(settings, goals.ADD, given)
    scope = f" in {escape(added.goal.project)}" if added.goal.project else ""
    console.print(f"Goal {escape(added.goal.name)}: {escape(added.description)}{scope}.", highlight=False)


@app.command("list")
@reports_errors
def list_(json: JsonOption = False, config: ConfigOption = None, database: DatabaseOption = None) -> None:
    """List the goals."""
    from pulsegate.ops import goals
    from pulsegate.ops.context import NoArguments
    from pulsegate.ops.runner import run_operation

    found = run_operation(settings_for(config, database), goals.LIST, NoArguments())
    if json:
        print_json(found)
        return
    if not found:
        console.print("No goals yet. Add one with: pulsegate goals add NAME --event NAME", highlight=False)
        return
    table = Table("goal", "counts", "project", "added (UTC)")
    for info in found:
        table.add_row(
            escape(info.goal.name), escape(info.description), escape(info.goal.project or "every project"),
            format_ms(info.created_ms),
        )  # fmt: skip
    console.print(table)


@app.command("remove")
@reports_errors
def remove(
    name: Annotated[str, typer.Argument(help="The goal to remove (the events and leads stay).")],
    config: ConfigOption = None,
    database: DatabaseOption = None,
) -> None:
    """Remove a goal."""
    from pulsegate.ops import goals
    from pulsegate.ops.runner import run_operation

    run_operation(settings_for(config, database), goals.REMOVE, goals.RemoveGoal(name=name))
    console.print(f"Removed goal {escape(name)}.", highlight=False)
