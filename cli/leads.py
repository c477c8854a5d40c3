"""`pulsegate leads …`: captured leads and their CRM deliveries."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.output import console, reports_errors
from cli.settings import ConfigOption, DatabaseOption, settings_for

app = typer.Typer(help="Leads and their CRM deliveries.", no_args_is_help=True)


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
    from pulsegate.ops.leads import RetryDeliveries
    from pulsegate.ops.runner import run_operation

    done = run_operation(
        settings_for(config, database), "leads.retry", RetryDeliveries(include_failed=failed)
    )
    console.print(f"{done.deliveries} deliveries due now.")
