"""`pulsegate status`: is a server running on the database, since when, and what it holds."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from cli.output import console, format_ms, last_send_line, projects_line, reports_errors
from cli.settings import ConfigOption, DatabaseOption, settings_for


@reports_errors
def status(
    config: ConfigOption = None,
    database: DatabaseOption = None,
    json: Annotated[bool, typer.Option("--json", help="Print the status as one JSON object.")] = False,
) -> None:
    """Show whether a server runs on the database, since when, its memory, and the database's counts.

    On ClickHouse (storage.engine = "clickhouse"): the store's counts, projects and email reports;
    servers are not listed there (each answers GET /health).
    """
    import msgspec

    from pulsegate.ops.context import NoArguments
    from pulsegate.ops.runner import run_operation
    from pulsegate.ops.status import STATUS

    settings = settings_for(config, database)
    answer = run_operation(settings, STATUS, NoArguments())
    if json:
        typer.echo(msgspec.json.encode(answer).decode())
        return
    server = answer.server
    duckdb_memory = answer.duckdb_memory
    on_clickhouse = settings.storage.engine == "clickhouse"
    store = settings.clickhouse_target.display() if on_clickhouse else str(settings.database_path)
    if on_clickhouse:
        console.print(
            f"On ClickHouse ({store}): any number of servers may share it, and none is listed here "
            "(there is no control socket); each answers GET /health itself.",
            highlight=False,
        )
    elif server is None:
        console.print(f"No server is running on {settings.database_path}.")
    else:
        console.print(
            f"Server running: pid {server.parent_pid} (worker {server.pid}), PulseGate {server.version}, "
            f"since {format_ms(server.started_ms)} UTC, http://{server.host}:{server.port}",
            highlight=False,
        )
        console.print(
            f"  open sessions {server.open_sessions:,} (+{server.remembered_sessions:,} ended lately, kept "
            f"for their next page), rows waiting to commit {server.pending_rows:,}, "
            f"{server.commits:,} commits of {server.rows_committed:,} rows since start",
            highlight=False,
        )
        buffers = ""
        if duckdb_memory is not None:
            buffers = f", of which DuckDB's buffers {duckdb_memory.used_mb:,.0f} MB"
            buffers += f" (memory_limit {duckdb_memory.limit})"
        console.print(f"  memory: {server.rss_mb:,.0f} MB resident{buffers}", highlight=False)
    console.print(projects_line(answer.projects), highlight=False)
    if server is not None and server.refused_requests:
        console.print(
            f"  {server.refused_requests:,} tracking and lead requests refused since start (not from a "
            "registered project's pages)",
            highlight=False,
        )
    if server is not None and server.dropped_properties:
        dropped = server.dropped_properties
        reasons = ", ".join(f"{reason} {count:,}" for reason, count in sorted(dropped.items()))
        console.print(
            f"  {sum(dropped.values()):,} event properties dropped since start ({reasons}): at most 30 "
            "per event; keys of 1-64 characters; strings up to 512, numbers or booleans",
            highlight=False,
        )
    for report in answer.email_reports:
        console.print(
            f"Email report {escape(report.name)} ({report.description}): "
            f"{escape(last_send_line(report.last_send))}; "
            + (f"next {format_ms(report.next_send_ms)} UTC" if settings.email.host
               else "not sent: no SMTP server in \\[email]"),
            highlight=False,
        )  # fmt: skip
    counts = answer.counts
    console.print(
        f"{'Store' if on_clickhouse else 'Database'} {store}: {counts.sessions:,} sessions "
        f"({counts.open_sessions:,} open), "
        f"{counts.events:,} events, {counts.leads:,} leads, {counts.api_keys:,} live API keys",
        highlight=False,
    )
