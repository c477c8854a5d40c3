"""The `pulsegate` command: a thin Typer layer that parses options and calls PulseGate.

Each command's module is imported only when that command runs or its own --help is asked
(`COMMANDS`, cli/lazy.py), and heavy imports (Litestar, Granian, DuckDB) happen inside the
commands that need them, so `pulsegate --help` stays fast (issue 21; bench/startup.py measures it).
"""

from __future__ import annotations

from typing import Annotated

import typer

from cli.lazy import LazyCommand, LazyGroup
from pulsegate import __version__

# Every command, in the order `pulsegate --help` lists them, with the first paragraph of its help
# (tests/cli/test_lazy_imports.py checks each against the command's own).
COMMANDS = (
    LazyCommand("serve", "cli.serve:serve", "Run the server in the foreground until Ctrl-C or SIGTERM."),
    LazyCommand("init", "cli.serve:init", "Write a commented config file with freshly generated secrets."),
    LazyCommand(
        "backup",
        "cli.storage:backup",
        "Write a consistent copy of the database to FILE, also while the server runs.",
    ),
    LazyCommand(
        "status",
        "cli.status:status",
        "Show whether a server runs on the database, since when, its memory, and the database's counts.",
    ),
    LazyCommand(
        "snippet",
        "cli.snippet:snippet",
        "Print the script tag to paste into every page of a site, in its <head> (with --form, also a form "
        "to paste into a page's body).",
    ),
    LazyCommand(
        "report",
        "cli.report:report",
        "Break the traffic down by any dimension, with filters and a comparison.",
    ),
    LazyCommand("keys", "cli.keys:app", "Create, list and revoke API keys for the analytics API."),
    LazyCommand(
        "projects",
        "cli.projects:app",
        "The sites (projects and their domains) this server takes data for; none: any site.",
    ),
    LazyCommand(
        "goals",
        "cli.goals:app",
        "Goals: the conversions reports count (a custom event, a page view, a lead).",
    ),
    LazyCommand(
        "funnels", "cli.funnels:app", "Funnels: ordered steps toward a conversion, saved to run by name."
    ),
    LazyCommand("leads", "cli.leads:app", "Leads and their CRM deliveries."),
    LazyCommand(
        "anomalies",
        "cli.anomalies:app",
        "Anomaly detection: broken forms, traffic spikes and drops, VPN floods.",
    ),
    LazyCommand(
        "storage", "cli.storage:app", "The database file: sizes, compaction, a copy into ClickHouse."
    ),
    LazyCommand("demo", "cli.demo:app", "Sample data and the demo site, to see PulseGate at work."),
    LazyCommand(
        "import",
        "cli.imports:app",
        "Bring your history from Plausible CE (its CSV export) or Umami (its database); list and remove "
        "imports.",
    ),
    LazyCommand(
        "share",
        "cli.share:app",
        "Share one project's dashboard, read-only, by a link: create, list and revoke links.",
    ),
    LazyCommand(
        "reports",
        "cli.email_reports:app",
        "Scheduled email reports: the week's or month's numbers in your inbox ([email] in the config).",
    ),
)


class PulseGateGroup(LazyGroup):
    lazy = COMMANDS


app = typer.Typer(
    name="pulsegate",
    help="Self-hosted web analytics and lead capture on one DuckDB file.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: see cli/lazy.py
    cls=PulseGateGroup,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"pulsegate {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """Self-hosted web analytics and lead capture on one DuckDB file."""


def run() -> None:
    """Console-script entry point."""
    app()
