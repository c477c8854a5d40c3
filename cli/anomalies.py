"""`pulsegate anomalies scan`: findings as a table or JSON, with an exit code for cron."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from cli.lazy import PulseTyper
from cli.output import console, format_ms, reports_errors
from cli.settings import ConfigOption, DatabaseOption, settings_for

app = PulseTyper(
    help="Anomaly detection: broken forms, traffic spikes and drops, VPN floods.", no_args_is_help=True
)


@app.command("scan")
@reports_errors
def scan(
    project: Annotated[str | None, typer.Option("--project", "-p", help="Only this project.")] = None,
    window: Annotated[
        str, typer.Option("--window", "-w", help="Recent whole hours to judge, 1h to 72h.")
    ] = "6h",
    sensitivity: Annotated[str, typer.Option(help="low, normal or high.")] = "normal",
    json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    config: ConfigOption = None,
    database: DatabaseOption = None,
) -> None:
    """Scan for anomalies. Exit code 0: none found; 1: found (alert!); 2: error.

    Each window is compared with the same hours of the same weekday over the previous four
    weeks. Run it from cron or a systemd timer and alert on exit code 1.

    Example:

        pulsegate anomalies scan --window 6h --project acme || notify-team
    """
    import msgspec

    from pulsegate.domain.anomalies import sensitivity_of, window_hours
    from pulsegate.errors import InvalidInput
    from pulsegate.ops.anomalies import SCAN, ScanArgs
    from pulsegate.ops.runner import run_operation

    try:
        args = ScanArgs(
            project=project, window_hours=window_hours(window), sensitivity=sensitivity_of(sensitivity)
        )
    except InvalidInput as exc:  # the API's parameter names are this command's options
        raise InvalidInput(f"--{exc.message}") from None
    report = run_operation(settings_for(config, database), SCAN, args)
    if json:
        typer.echo(msgspec.json.encode(report).decode())
    elif not report.findings:
        console.print(f"No anomalies in the last {report.window_hours} h ({report.sensitivity} sensitivity).")
    else:
        table = Table("severity", "kind", "project", "observed", "expected", "what happened")
        for finding in report.findings:
            color = "red" if finding.severity == "critical" else "yellow"
            table.add_row(
                f"[{color}]{finding.severity}[/]", finding.kind, escape(finding.project or "-"),
                f"{finding.observed:g}", f"{finding.expected:g}", escape(finding.message),
            )  # fmt: skip
        console.print(table)
        first = report.findings[0]
        console.print(f"Window {format_ms(first.window_start)} to {format_ms(first.window_end)} UTC.")
    if report.findings:
        raise typer.Exit(1)
