"""`pulsegate report DIMENSION`: a breakdown as a Rich table, JSON or CSV."""

from __future__ import annotations

import re
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from cli.output import JsonOption, console, print_json, reports_errors
from cli.settings import ConfigOption, DatabaseOption, settings_for

# The API's parameter names in errors, as this command's options.
OPTION_NAMES = {
    "metrics": "--metric", "filter": "--filter", "from": "--from", "to": "--to", "order": "--order",
    "compare": "--compare", "period": "--period", "tz": "--tz", "dimension": "DIMENSION",
}  # fmt: skip
_PARAMETER_PREFIX = re.compile(r"^([a-z]+): ")
DIMENSION_HELP = (
    "What the rows are: source, referrer, utm_source, utm_medium, utm_campaign, utm_term, utm_content, "
    "entry_page, exit_page, country, browser, os, device, screen, language, project, page, event, "
    "outbound, download or prop:KEY."
)
METRIC_HELP = (
    "A metric per row (repeat it): visitors, sessions, pageviews, events, views_per_session, bounce_rate, "
    "avg_engaged_ms, avg_score, leads, conversion_rate. Default: Plausible's choice for the dimension."
)
FILTER_HELP = "DIMENSION OP VALUE, OP one of == != ~ !~; a|b are alternatives (repeat: all must hold)."


@reports_errors
def report(
    dimension: Annotated[str, typer.Argument(help=DIMENSION_HELP, show_default=False)],
    metric: Annotated[list[str] | None, typer.Option("--metric", "-m", help=METRIC_HELP)] = None,
    filter_: Annotated[list[str] | None, typer.Option("--filter", "-f", help=FILTER_HELP)] = None,
    period: Annotated[
        str | None, typer.Option(help="today, 24h, 7d, 30d (the default), 90d or 12mo.", show_default=False)
    ] = None,
    start: Annotated[
        str | None, typer.Option("--from", help="Start: a date, a datetime or epoch ms.", show_default=False)
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", help="End (a date includes its day).", show_default=False)
    ] = None,
    tz: Annotated[str, typer.Option(help="Time zone for day boundaries.")] = "UTC",
    project: Annotated[str | None, typer.Option("--project", "-p", help="Only this project.")] = None,
    compare: Annotated[
        str | None,
        typer.Option(help="previous (the window just before) or year (a year earlier).", show_default=False),
    ] = None,
    order: Annotated[
        str | None,
        typer.Option(help="METRIC:desc or METRIC:asc; default the first metric.", show_default=False),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="Rows to show.")] = 10,
    page: Annotated[int, typer.Option(help="Page of rows, from 1.")] = 1,
    imported: Annotated[
        bool,
        typer.Option(
            "--imported/--no-imported", help="Add imported history (pulsegate import) where it answers."
        ),
    ] = True,
    json: JsonOption = False,
    csv: Annotated[bool, typer.Option("--csv", help="Print the rows as CSV.")] = False,
    config: ConfigOption = None,
    database: DatabaseOption = None,
) -> None:
    """Break the traffic down by any dimension, with filters and a comparison.

    Works on a running server's database (through its control socket) and offline alike.

    Examples:

        pulsegate report source

        pulsegate report utm_campaign -m visitors -m leads -m conversion_rate --filter country==DE --period 7d

        pulsegate report page --filter "source==Google|Bing" --compare previous --csv > pages.csv
    """
    from pulsegate.errors import InvalidInput
    from pulsegate.ops.reports import BREAKDOWN, BreakdownArgs
    from pulsegate.ops.runner import run_operation

    if json and csv:
        raise InvalidInput("--json and --csv: choose one")
    args = BreakdownArgs(
        dimension=dimension, metrics=metric or [], filters=filter_ or [], period=period, start=start, end=end,
        tz=tz, project=project, compare=compare, order=order, limit=limit, page=page,
        include_imported=imported,
    )  # fmt: skip
    try:
        answer = run_operation(settings_for(config, database), BREAKDOWN, args)
    except InvalidInput as exc:
        raise InvalidInput(_PARAMETER_PREFIX.sub(_as_option, exc.message, count=1)) from None
    if json:
        print_json(answer)
    elif csv:
        _print_csv(answer.metrics, answer.rows, compared=answer.comparison is not None)
    else:
        _print_table(answer)


def _as_option(match: re.Match[str]) -> str:
    return f"{OPTION_NAMES.get(match[1], match[1])}: "


def _print_csv(metrics: list[str], rows: list[dict[str, Any]], *, compared: bool) -> None:
    import csv
    import sys

    from pulsegate.domain.csv_safety import csv_safe

    writer = csv.writer(sys.stdout)
    earlier = [f"{name}_earlier" for name in metrics] if compared else []
    writer.writerow(["value", *metrics, *earlier])
    for row in rows:
        before = [row["comparison"][name] for name in metrics] if compared else []
        writer.writerow([csv_safe(row["value"]), *(row[name] for name in metrics), *before])


def _print_table(answer: Any) -> None:
    from pulsegate.domain.reports import METRICS, dimension

    compared = answer.comparison is not None
    table = Table(escape(dimension(answer.dimension).label))
    for name in answer.metrics:
        table.add_column(METRICS[name].label, justify="right")
        if compared:
            table.add_column("change", justify="right")
    for row in answer.rows:
        cells = ["[dim](none)[/]" if row["value"] is None else escape(str(row["value"]))]
        for name in answer.metrics:
            cells.append(_number(row[name]))
            if compared:
                cells.append(_change(row[name], row["comparison"][name]))
        table.add_row(*cells)
    console.print(table)
    shown = f"{len(answer.rows)} of {answer.total_rows} rows" if answer.rows else "No rows"
    filters = f", filtered by {', '.join(answer.filters)}" if answer.filters else ""
    if answer.approximate:  # a large database: distinct counts of event dimensions are estimates
        console.print(
            f"{', '.join(answer.approximate).capitalize()} estimated (HyperLogLog, typically within 2%)."
        )
    if answer.imported is not None:
        console.print(f"Imported history {answer.imported}: {escape(answer.imported_note or '')}.")
    console.print(f"{shown}{filters}. Window {_when(answer.period)}" + (
        f", compared with {_when(answer.comparison)}." if compared else "."))  # fmt: skip


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"


def _change(now: float | None, before: float | None) -> str:
    if now is None or before is None:
        return "-"
    if before == 0:
        return "new" if now else "-"
    change = (now - before) / before * 100
    color = "green" if change > 0 else "red" if change < 0 else "dim"
    return f"[{color}]{change:+.0f}%[/]"


def _when(period: Any) -> str:
    from cli.output import format_ms

    return f"{format_ms(period.start)} to {format_ms(period.end)} UTC"
