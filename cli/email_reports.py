"""`pulsegate reports …`: scheduled email reports, and one sent (or shown) now."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from cli.lazy import PulseTyper
from cli.output import JsonOption, console, format_ms, last_send_line, print_json, reports_errors
from cli.settings import ConfigOption, DatabaseOption, announce_new_database, settings_for

app = PulseTyper(
    help="Scheduled email reports: the week's or month's numbers in your inbox ([email] in the config).",
    no_args_is_help=True,
)


@app.command("add")
@reports_errors
def add(
    name: Annotated[str, typer.Argument(help="The report's name.")],
    to: Annotated[list[str], typer.Option("--to", help="An address to send it to (repeat for more).")],
    project: Annotated[str | None, typer.Option("--project", help="One project (default: all).")] = None,
    every: Annotated[str, typer.Option("--every", help="week or month.")] = "week",
    day: Annotated[
        str, typer.Option("--day", help="Weekly: monday … sunday; monthly: the day of the month, 1-28.")
    ] = "monday",
    hour: Annotated[int, typer.Option("--hour", help="The hour it is sent at, 0-23.")] = 8,
    tz: Annotated[str, typer.Option("--tz", help="The time zone of the day, hour and period.")] = "UTC",
    model: Annotated[
        str,
        typer.Option(
            "--model", help="Leads by campaign credited to the first, last or every (linear) touch."
        ),
    ] = "last",
    config: ConfigOption = None,
    database: DatabaseOption = None,
) -> None:
    """Schedule a report: every week (or month) it mails the period before, once. The server sends
    it at the hour (SMTP settings in [email] of the config file). Adding a name again replaces it.

    Examples:

        pulsegate reports add weekly --to team@example.com --project acme --hour 8 --tz Europe/Berlin

        pulsegate reports add monthly --to ceo@example.com --every month --day 1
    """
    from pulsegate.ops import email_reports
    from pulsegate.ops.runner import run_operation

    settings = settings_for(config, database)
    announce_new_database(settings)
    given = email_reports.AddSchedule(
        name=name, to=to, project=project, every=every, day=day, hour=hour, tz=tz, model=model
    )
    added = run_operation(settings, email_reports.ADD, given)
    console.print(
        f"Report {escape(added.name)}: {escape(added.project or 'all projects')} to {', '.join(added.to)}, "
        f"{added.description}; next on {format_ms(added.next_send_ms)} UTC.",
        highlight=False,
    )
    if not settings.email.host:
        console.print("No SMTP server is configured yet: set host and from in \\[email] of the config file.")


@app.command("list")
@reports_errors
def list_(json: JsonOption = False, config: ConfigOption = None, database: DatabaseOption = None) -> None:
    """List the scheduled reports, each with its last send and the next."""
    from pulsegate.ops import email_reports
    from pulsegate.ops.context import NoArguments
    from pulsegate.ops.runner import run_operation

    found = run_operation(settings_for(config, database), email_reports.LIST, NoArguments())
    if json:
        print_json(found)
        return
    if not found:
        console.print("No scheduled reports. Add one with: pulsegate reports add NAME --to you@example.com")
        return
    table = Table("report", "project", "to", "when", "last send", "next send (UTC)")
    for item in found:
        said = escape(last_send_line(item.last_send))
        table.add_row(
            escape(item.name), escape(item.project or "all"), escape(", ".join(item.to)), item.description,
            said, format_ms(item.next_send_ms),
        )  # fmt: skip
    console.print(table)


@app.command("remove")
@reports_errors
def remove(
    name: Annotated[str, typer.Argument(help="The report to stop sending.")],
    config: ConfigOption = None,
    database: DatabaseOption = None,
) -> None:
    """Stop a scheduled report (the record of its sends stays)."""
    from pulsegate.ops import email_reports
    from pulsegate.ops.runner import run_operation

    run_operation(
        settings_for(config, database), email_reports.REMOVE, email_reports.RemoveSchedule(name=name)
    )
    console.print(f"Removed report {escape(name)}.", highlight=False)


@app.command("send")
@reports_errors
def send(
    name: Annotated[
        str | None, typer.Option("--name", help="A scheduled report (its project and recipients).")
    ] = None,
    project: Annotated[str | None, typer.Option("--project", help="One project (default: all).")] = None,
    to: Annotated[
        list[str] | None, typer.Option("--to", help="Send to this address (repeat for more).")
    ] = None,
    period: Annotated[
        str | None, typer.Option("--period", help="The last whole week (default) or month.")
    ] = None,
    tz: Annotated[str | None, typer.Option("--tz", help="The time zone of the period (default UTC).")] = None,
    model: Annotated[
        str | None, typer.Option("--model", help="first, last (default) or linear, for leads by campaign.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Write the message instead of sending it (stdout, or -o).")
    ] = False,
    output: Annotated[
        Path | None,
        typer.Option(
            "-o", "--output", help="With --dry-run: FILE.eml (the whole message) or FILE.html (its HTML)."
        ),
    ] = None,
    config: ConfigOption = None,
    database: DatabaseOption = None,
) -> None:
    """Send a report now: a scheduled one (--name) or one of a project for the last whole week
    or month. --dry-run writes the message so it can be looked at, sending nothing.

    Examples:

        pulsegate reports send --project acme --to me@example.com

        pulsegate reports send --name weekly --dry-run -o report.html
    """
    from pulsegate.errors import InvalidInput
    from pulsegate.ops import email_reports
    from pulsegate.ops.output_files import check_output_file, written_in_place_of
    from pulsegate.ops.runner import run_operation

    if output is not None and not dry_run:
        raise InvalidInput("-o: only with --dry-run (a sent report goes to --to)")
    if name is not None and (project, period, tz, model) != (None, None, None, None):
        raise InvalidInput("--name: a scheduled report has its own project, period, time zone and model")
    if output is not None:
        check_output_file(output, option="-o", example="report.eml")
    settings = settings_for(config, database)
    args = email_reports.ComposeArgs(
        name=name,
        project=project,
        period=period or "week",
        tz=tz or "UTC",
        model=model or "last",
        dashboard_url=settings.email.dashboard_url,
    )
    recipients = list(to or [])
    if recipients:
        from pulsegate.domain.email_reports import check_recipients

        recipients = list(check_recipients(recipients))
    elif not dry_run and name is None:
        raise InvalidInput(
            "--to: whom to send it to (or --name, to send a scheduled report to its recipients)"
        )
    composed = run_operation(settings, email_reports.COMPOSE, args)
    message = email_reports.message_of(composed, settings.email, recipients or composed.recipients)
    if dry_run:
        if output is None:
            sys.stdout.write(message.as_string())
            return
        body = message.get_body(("html",)) if output.suffix.lower() in (".html", ".htm") else None
        text = body.get_content() if body is not None else message.as_string()
        with written_in_place_of(output) as partial:
            partial.write_text(text, encoding="utf-8")
        console.print(f"Wrote {output}.", highlight=False)
        return
    email_reports.send_now(settings.email, message)
    console.print(
        f"Sent {escape(message['Subject'])} to {', '.join(recipients or composed.recipients)}.",
        highlight=False,
    )
