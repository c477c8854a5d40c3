"""`pulsegate projects …`: the sites this server takes data for."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from cli.lazy import PulseTyper
from cli.output import JsonOption, console, format_ms, print_json, reports_errors
from cli.settings import ConfigOption, DatabaseOption, announce_new_database, settings_for

app = PulseTyper(
    help="The sites (projects and their domains) this server takes data for; none: any site.",
    no_args_is_help=True,
)


@app.command("add")
@reports_errors
def add(
    name: Annotated[str, typer.Argument(help="The project's name, as pages send it (data-project).")],
    domain: Annotated[
        list[str],
        typer.Option(
            "--domain",
            help="A host its pages are on: example.com, or *.example.com for every host below it (repeat).",
        ),
    ],
    config: ConfigOption = None,
    database: DatabaseOption = None,
) -> None:
    """Register a project: from then on the server takes its data only from pages on its domains,
    and once any project is registered, refuses data for projects that are not (403).

    Adding a registered project again replaces its domains. Works while the server runs.

    Example:

        pulsegate projects add acme --domain acme.com --domain www.acme.com
    """
    from pulsegate.ops import projects
    from pulsegate.ops.runner import run_operation

    settings = settings_for(config, database)
    announce_new_database(settings)
    added = run_operation(settings, projects.ADD, projects.AddProject(name=name, domains=domain))
    console.print(f"Registered {escape(added.name)}: data from {', '.join(added.domains)}.", highlight=False)


@app.command("list")
@reports_errors
def list_(json: JsonOption = False, config: ConfigOption = None, database: DatabaseOption = None) -> None:
    """List the registered projects and their domains."""
    from pulsegate.ops import projects
    from pulsegate.ops.context import NoArguments
    from pulsegate.ops.runner import run_operation

    registered = run_operation(settings_for(config, database), projects.LIST, NoArguments())
    if json:
        print_json(registered)
        return
    if not registered:
        console.print(
            "No projects registered: any site may send data. Register one with: "
            "pulsegate projects add NAME --domain example.com",
            highlight=False,
        )
        return
    table = Table("project", "domains", "registered (UTC)")
    for project in registered:
        table.add_row(escape(project.name), ", ".join(project.domains), format_ms(project.created_ms))
    console.print(table)


@app.command("remove")
@reports_errors
def remove(
    name: Annotated[str, typer.Argument(help="The project to forget (its data stays).")],
    config: ConfigOption = None,
    database: DatabaseOption = None,
) -> None:
    """Forget a project: its pages' data is refused from then on (unless none is left registered,
    which opens the server to every site again)."""
    from pulsegate.ops import projects
    from pulsegate.ops.runner import run_operation

    left = run_operation(settings_for(config, database), projects.REMOVE, projects.RemoveProject(name=name))
    console.print(f"Removed {escape(name)}.", highlight=False)
    if not left:
        console.print("No projects are registered now: any site may send data.", highlight=False)
