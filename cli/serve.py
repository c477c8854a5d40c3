"""`pulsegate serve` and `pulsegate init`: run the server, write its config file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.output import console, error_console, projects_line, reports_errors
from cli.settings import ConfigOption, DatabaseOption, announce_new_database, settings_for
from pulsegate import __version__


@reports_errors
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port (default 8787).")] = None,
    log_level: Annotated[
        str | None, typer.Option(help="debug, info, warning or error (default info).")
    ] = None,
    config: ConfigOption = None,
    database: DatabaseOption = None,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo", help="Also serve a demo site at /demo/ that shows the tracker and forms at work."
        ),
    ] = False,
) -> None:
    """Run the server in the foreground until Ctrl-C or SIGTERM.

    Creates the database on first start; no configuration is needed.

    Examples:

        pulsegate serve --port 8787 --database /var/lib/pulsegate/pulsegate.duckdb

        pulsegate serve --demo      then open http://127.0.0.1:8787/demo/
    """
    from pulsegate.server import serve as run_server

    settings = settings_for(
        config,
        database,
        server={"host": host, "port": port, "log_level": log_level},
        web={"demo": True if demo else None},
    )
    base = f"http://{settings.server.host}:{settings.server.port}"
    if settings.storage.engine == "clickhouse":
        store = f"ClickHouse at {settings.clickhouse_target.display()}"
    else:
        announce_new_database(settings)
        store = str(settings.database_path)
    console.print(f"PulseGate {__version__}: {base} on {store}", highlight=False)
    console.print(f"Dashboard: {base}/dashboard", highlight=False)
    if settings.web.demo:
        console.print(f"Demo site: {base}/demo/", highlight=False)
    run_server(settings, announce=print_projects)


def print_projects(projects: dict[str, list[str]]) -> None:
    """Which sites the server takes data from, said as it starts."""
    hint = (
        ""
        if projects
        else ". Register yours to refuse the rest: pulsegate projects add NAME --domain example.com"
    )
    console.print(projects_line(projects) + hint, highlight=False)


@reports_errors
def init(
    config: Annotated[Path, typer.Option("--config", "-c", help="Where to write the config file.")] = Path(
        "pulsegate.toml"
    ),
    database: DatabaseOption = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
    owner: Annotated[
        str | None,
        typer.Option("--owner", help="Give the file to this user (run as root, for the service's user)."),
    ] = None,
) -> None:
    """Write a commented config file with freshly generated secrets.

    `pulsegate serve` reads ./pulsegate.toml when it exists, so run this where you run the server.

    Example:

        pulsegate init --database /var/lib/pulsegate/pulsegate.duckdb
    """
    from pulsegate.ops.init_config import readable_only_by_root, write_config

    written = write_config(config, database=database, force=force, owner=owner)
    console.print(f"Wrote {written} (mode 0600: it holds secrets). Edit it, then run: pulsegate serve")
    if readable_only_by_root(written):
        error_console.print(
            "[yellow]Warning:[/] written by root for root alone: a service running as another user cannot "
            "read it. Give it to that user with --owner USER (or run init as that user).",
            highlight=False,
        )
