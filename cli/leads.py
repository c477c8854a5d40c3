"""`pulsegate leads …`: captured leads and their CRM deliveries."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from cli.lazy import PulseTyper
from cli.output import JsonOption, console, error_console, format_ms, print_json, reports_errors
from cli.settings import ConfigOption, DatabaseOption, settings_for
from pulsegate.domain.attribution import Touch
from pulsegate.errors import InvalidInput

app = PulseTyper(help="Leads and their CRM deliveries.", no_args_is_help=True)


@app.command("retry")
@reports_errors
def retry(
    failed: Annotated[
        bool,
        typer.Option("--failed", help="Also re-queue deliveries that gave up, with a fresh set of attempts."),
    ] = False,
    config: ConfigOption = None,
    database: DatabaseOption = None,
) -> None:
    """Send queued CRM deliveries now instead of at their next retry time.

    A running server picks them up within a second; otherwise the next `pulsegate serve` does.

    Example:

        pulsegate leads retry --failed
    """
    from pulsegate.ops.leads import RETRY, RetryDeliveries
    from pulsegate.ops.runner import run_operation

    done = run_operation(settings_for(config, database), RETRY, RetryDeliveries(include_failed=failed))
    console.print(f"{done.deliveries} deliveries due now.")


ProjectOption = Annotated[str | None, typer.Option("--project", "-p", help="Only this project.")]
SinceOption = Annotated[
    str | None, typer.Option("--since", help="From this date (inclusive), ISO datetime or epoch ms (UTC).")
]
UntilOption = Annotated[
    str | None, typer.Option("--until", help="Up to this date (inclusive), ISO datetime or epoch ms (UTC).")
]
StatusOption = Annotated[str | None, typer.Option("--status", help="new, forwarded, synced, failed or spam.")]


@app.command("export")
@reports_errors
def export(
    csv: Annotated[bool, typer.Option("--csv", help="CSV with a header row (the default).")] = False,
    json: Annotated[bool, typer.Option("--json", help="JSON lines: one lead object per line.")] = False,
    parquet: Annotated[bool, typer.Option("--parquet", help="A Parquet file (needs --output).")] = False,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of standard output.")
    ] = None,
    project: ProjectOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    status: StatusOption = None,
    config: ConfigOption = None,
    database: DatabaseOption = None,
) -> None:
    """Export leads, oldest first, streaming: a million leads never sit in memory at once.

    CSV cells that a spreadsheet would run as a formula (starting with = + - @, tab or CR) are
    prefixed with an apostrophe. Works with or without a running server.

    Example:

        pulsegate leads export --csv -o leads.csv --project acme --since 2026-01-01
    """
    from pulsegate.ops.leads import EXPORT_PARQUET, ExportParquet, LeadSelection
    from pulsegate.ops.output_files import check_output_file

    if sum((csv, json, parquet)) > 1:
        raise InvalidInput("choose one of --csv, --json and --parquet")
    if parquet and output is None:
        raise InvalidInput("--parquet needs --output FILE")
    # Everything is checked before anything is asked or written: a bad option never leaves a
    # header behind, and a bad path fails in a second, not after the export.
    selection = LeadSelection(project=project, since=since, until=until, status=status).checked()  # type: ignore[arg-type]
    if output is not None:
        output = output.resolve()
        check_output_file(output, option="--output", example="leads.parquet" if parquet else "leads.csv")
    settings = settings_for(config, database)
    if parquet:
        from pulsegate.ops.runner import run_operation

        assert output is not None
        done = run_operation(
            settings, EXPORT_PARQUET, ExportParquet(selection=selection, path=str(output)), timeout=3600
        )
        error_console.print(f"Wrote {done.rows:,} leads to {done.path}")
        return
    from cli.export import write_export  # imports DuckDB: not at module level, so --help stays fast

    written = write_export(settings, selection, output, "json" if json else "csv")
    if output is not None:
        error_console.print(f"Wrote {written:,} leads to {output}")


@app.command("list")
@reports_errors
def list_(
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many, newest first.")] = 20,
    project: ProjectOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    status: StatusOption = None,
    json: JsonOption = False,
    config: ConfigOption = None,
    database: DatabaseOption = None,
) -> None:
    """List the newest leads as a table (ids shortened to the start that names each one)."""
    from pulsegate.ops import leads
    from pulsegate.ops.runner import run_operation

    selection = leads.LeadSelection(project=project, since=since, until=until, status=status).checked()  # type: ignore[arg-type]
    if not 1 <= limit <= 1000:
        raise InvalidInput(f"--limit: from 1 to 1000 (got {limit})")
    listed = run_operation(
        settings_for(config, database), leads.LIST, leads.ListLeads(selection=selection, limit=limit)
    )
    found = listed.listing
    if json:
        print_json(found)
        return
    if not found.leads:
        console.print("No leads match.")
        return
    columns = ("created (UTC)", "status", "project", "name", "email", "company", "first touch", "last touch")
    table = Table(*columns, "stage", "lead id")
    table.columns[-1].no_wrap = True
    for lead, short_id in zip(found.leads, listed.short_ids, strict=True):
        touches = (touch_label(lead.first_touch), touch_label(lead.last_touch))
        table.add_row(
            format_ms(lead.created_at), lead.status, *(escape(value or "-") for value in
            (lead.project, lead.name, lead.email, lead.company, *touches, lead.stage)), short_id,
        )  # fmt: skip
    console.print(table)
    console.print(
        f"{len(found.leads)} of {found.total:,} matching leads; `pulsegate leads show ID` takes these ids."
    )


@app.command("show")
@reports_errors
def show(
    lead_id: Annotated[
        str,
        typer.Argument(help="The lead's id, or any start of it that names one lead (as `leads list` shows)."),
    ],
    config: ConfigOption = None,
    database: DatabaseOption = None,
) -> None:
    """Show one lead: its fields, CRM deliveries, and the visitor's sessions and events before it."""
    from pulsegate.ops.leads import SHOW, ShowLead
    from pulsegate.ops.runner import run_operation

    detail = run_operation(settings_for(config, database), SHOW, ShowLead(lead_id=lead_id))
    lead = detail.lead
    console.print(f"[bold]{escape(lead.name or lead.email or lead.phone or lead.lead_id)}[/] ({lead.status})")
    fields = (
        ("email", lead.email), ("phone", lead.phone), ("company", lead.company), ("project", lead.project),
        ("form", lead.source), ("arrived via", lead.traffic_source), ("page", detail.page_url),
        ("message", detail.message), ("CRM id", lead.crm_lead_id),
    )  # fmt: skip
    for label, value in fields:
        if value:
            console.print(f"  {label}: {escape(value)}", highlight=False)
    console.print(f"  captured: {format_ms(lead.created_at)} UTC, lead id {lead.lead_id}")
    if lead.first_touch is not None and lead.last_touch is not None:
        for label, touch in (("first touch", lead.first_touch), ("last touch", lead.last_touch)):
            console.print(f"  {label}: {escape(touch_details(touch))}", highlight=False)
        console.print(
            f"  touches: {lead.touches}, time to convert: {format_duration(detail.time_to_convert_ms or 0)}",
            highlight=False,
        )
    converting = detail.converting_session
    if converting is not None:
        console.print(
            f"  converting session: landed on {escape(converting.landing_page or '?')}, "
            f"{converting.page_views} page(s), engaged {format_duration(converting.engaged_ms)}, "
            f"score {converting.engagement_score}"
            + (", from a hosting/VPN network" if detail.from_hosting else ""),
            highlight=False,
        )
    if detail.stages:
        history = " → ".join(f"{entry.stage} ({format_ms(entry.at)})" for entry in detail.stages)
        console.print(f"  CRM stages: {escape(history)}", highlight=False)
        if lead.stage_value is not None:
            console.print(f"  value: {lead.stage_value:,.2f} {lead.stage_currency}", highlight=False)
    for delivery in detail.deliveries:
        console.print(
            f"  delivery to {delivery.target}: {delivery.status} after {delivery.attempts} attempt(s)"
            + (f", last error: {escape(delivery.last_error)}" if delivery.last_error else ""),
            highlight=False,
        )
    if not detail.timeline:
        console.print("  No tracked sessions are linked to this lead.")
    for session in detail.timeline:
        console.print(
            f"\n  session {format_ms(session.started_at)} from {escape(session.source)}, "
            f"{session.device or '?'} in {session.country or '?'}, score {session.engagement_score}",
            highlight=False,
        )
        for event in session.events:
            what = " ".join(escape(part) for part in (event.name or "", event.path or "") if part)
            console.print(f"    {format_ms(event.at)}  {event.type:<11} {what}", highlight=False)


def touch_label(touch: Touch | None) -> str | None:
    """A touch in a table cell: its source, and its campaign when it has one."""
    if touch is None:
        return None
    return f"{touch.source} ({touch.utm_campaign})" if touch.utm_campaign else touch.source


def touch_details(touch: Touch) -> str:
    """A touch on one line: source / medium / campaign, landing page, when, click ids."""
    origin = " / ".join(part for part in (touch.source, touch.utm_medium, touch.utm_campaign) if part)
    clicks = ", ".join(f"{key}={value}" for key, value in touch.click_ids.items())
    return (
        f"{origin}, landed on {touch.landing_page or '?'} at {format_ms(touch.at)} UTC"
        + (f", referrer {touch.referrer_host}" if touch.referrer_host else "")
        + (f", {clicks}" if clicks else "")
    )


def format_duration(ms: int) -> str:
    """A duration as the largest two units (`3d 4h`, `12m 5s`, `800ms`)."""
    if ms < 1000:
        return f"{ms}ms"
    seconds = ms // 1000
    parts: list[str] = []
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)):
        if seconds >= size or parts:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return " ".join(parts[:2])
