"""`pulsegate demo …`: sample data to see PulseGate at work."""

from __future__ import annotations

import shlex
from typing import Annotated

import typer

from cli.lazy import PulseTyper
from cli.output import console, format_ms, reports_errors
from cli.settings import ConfigOption, DatabaseOption, announce_new_database, settings_for

app = PulseTyper(help="Sample data and the demo site, to see PulseGate at work.", no_args_is_help=True)
SEED_TIMEOUT_SECONDS = 3600.0


@app.command("seed")
@reports_errors
def seed(
    days: Annotated[int, typer.Option(help="Spread the visits over this many days up to now.")] = 30,
    sessions: Annotated[int, typer.Option(help="How many visits (sessions) to make.")] = 5_000,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed makes the same data.")] = 1,
    force: Annotated[
        bool, typer.Option("--force", help="Seed even a database that already holds sessions.")
    ] = False,
    config: ConfigOption = None,
    database: DatabaseOption = None,
) -> None:
    """Fill a database with realistic sample traffic and leads, to see the dashboard populated.

    Visits follow a working week, come from search, social, newsletters and direct, read pages,
    click, scroll and send leads (some synced to a CRM, some failed, some spam). A database that
    already holds sessions is refused unless --force: sample data would mix with real data.
    Works while the server runs.

    Example:

        pulsegate demo seed --database demo.duckdb && pulsegate serve --database demo.duckdb
    """
    from pulsegate.ops.demo import SEED, SeedArgs
    from pulsegate.ops.runner import run_operation

    settings = settings_for(config, database)
    announce_new_database(settings)
    args = SeedArgs(days=days, sessions=sessions, seed=seed, force=force)
    with console.status(f"Generating {sessions:,} visits over {days} days…"):
        done = run_operation(settings, SEED, args, timeout=SEED_TIMEOUT_SECONDS)
    console.print(
        f"Stored {done.sessions:,} sessions, {done.events:,} events and {done.leads:,} leads in "
        f"{settings.database_path}"
        + (f", from {format_ms(done.first_ms)} to {format_ms(done.last_ms)} UTC." if done.first_ms else "."),
        highlight=False,
    )
    if done.goals_added:
        console.print(f"Sample goals added: {', '.join(done.goals_added)}.", highlight=False)
    database_option = f"--database {shlex.quote(str(settings.database_path))}"
    console.print(
        f"Next: `pulsegate keys create dashboard {database_option}`, `pulsegate serve {database_option}`, "
        f"then open http://{settings.server.host}:{settings.server.port}/dashboard with that key.",
        highlight=False,
    )
