"""`pulsegate import umami`: read an Umami database (read-only) into native sessions and events."""

from __future__ import annotations

from contextlib import ExitStack
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn
from rich.table import Table

from cli.imports import app
from cli.output import JsonOption, console, error_console, print_json, reports_errors
from cli.settings import ConfigOption, DatabaseOption, settings_for
from pulsegate.errors import InvalidInput, PulseGateError

if TYPE_CHECKING:
    from pulsegate.domain.umami import UmamiWebsite

INTERRUPTED_EXIT = 130  # as a shell reports Ctrl-C


def parse_since(text: str | None) -> datetime | None:
    """--since as a UTC moment: a date (its midnight) or an ISO 8601 datetime (UTC if it names no zone)."""
    if text is None:
        return None
    try:
        if len(text.strip()) == 10:
            day = date.fromisoformat(text.strip())
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"--since: a date (2024-01-31) or an ISO datetime (got {text!r})") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class _Bar:
    """The progress bar of `ops.umami_import.Progress`: one line per website, in Umami rows."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._task: TaskID | None = None
        self._done = 0

    def begin(self, website: UmamiWebsite, project: str, total: int) -> None:
        self._done = 0
        label = escape(f"{website.name or website.website_id} -> {project}")
        self._task = self._progress.add_task(label, total=total or None)

    def advance(self, rows: int) -> None:
        assert self._task is not None
        self._done += rows
        total = self._progress.tasks[self._task].total
        # The total counts events by time; visits that cross its ends can make the rows read more.
        self._progress.update(self._task, completed=self._done, total=max(total or 0, self._done) or None)


@app.command("umami")
@reports_errors
def umami(
    source: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="The Umami database: postgresql://USER:PASSWORD@HOST:PORT/DB (read-only; "
            "also $PULSEGATE_UMAMI_URL, which keeps the password off the command line).",
            envvar="PULSEGATE_UMAMI_URL",
            show_envvar=False,
            show_default=False,
        ),
    ] = None,
    website: Annotated[
        list[str] | None,
        typer.Option(
            "--website",
            "-w",
            help="A website id to import (repeat it). Default: every website not deleted.",
            show_default=False,
        ),
    ] = None,
    project: Annotated[
        str | None,
        typer.Option(
            "--project",
            "-p",
            help="The project the visits go to. Default: the website's domain (else its name).",
            show_default=False,
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(help="Only visits from this date or datetime (UTC) on.", show_default=False),
    ] = None,
    max_batches: Annotated[
        int | None,
        typer.Option(
            "--max-batches",
            min=1,
            help="Stop after this many batches of up to 500 visits; run again to continue.",
            show_default=False,
        ),
    ] = None,
    batch_visits: Annotated[int, typer.Option("--batch-visits", min=1, max=500, hidden=True)] = 500,
    json: JsonOption = False,
    config: ConfigOption = None,
    database: DatabaseOption = None,
) -> None:
    """Import an Umami database's history: each visit becomes a session with its page views and
    custom events, which every report, goal and funnel then counts as native data.

    Reads the database read-only and streams it in batches of whole visits; each batch is
    committed with the import's place, so an interrupted import continues where it stopped when
    run again, and a later run adds only the visits since (visits of the last hour wait for the
    next run). Works while the server runs. Engaged time and scroll depth cannot be imported:
    Umami does not record them.

    Examples:

        pulsegate import umami --from postgresql://umami:secret@localhost:5432/umami

        PULSEGATE_UMAMI_URL=postgresql://… pulsegate import umami --website 4fb7cdde-… --since 2024-01-01
    """
    from pulsegate.ops.runner import OperationSession
    from pulsegate.ops.umami_import import import_umami, scrubbed

    if not source:  # checked here, not by Click: one line, as every other error
        raise InvalidInput(
            "--from: the Umami database's postgresql:// URL (or $PULSEGATE_UMAMI_URL) is needed"
        )
    settings = settings_for(config, database)
    moment = parse_since(since)
    with ExitStack() as stack:
        progress = stack.enter_context(
            Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("events"),
                TimeRemainingColumn(), console=error_console, disable=not error_console.is_terminal or json,
            )
        )  # fmt: skip
        session = stack.enter_context(OperationSession(settings))
        try:
            done = import_umami(
                session, source, website_ids=website or (), project=project, since=moment,
                batch_visits=batch_visits, max_batches=max_batches, progress=_Bar(progress),
            )  # fmt: skip
        except KeyboardInterrupt:
            progress.stop()
            error_console.print(
                "Interrupted. Every batch written so far is kept: run the same command again to continue.",
                highlight=False,
            )
            raise typer.Exit(INTERRUPTED_EXIT) from None
        except PulseGateError:
            raise
        except Exception as exc:  # a bug, or the file failing offline: one line, as the server answers it
            reason = scrubbed(f"{type(exc).__name__}: {exc}", source)
            raise PulseGateError(
                f"the import failed: {reason} (every batch written so far is kept: run the same command "
                "again to continue)"
            ) from None
    if json:
        print_json(done)
        return
    if not done:
        console.print("No websites to import (all deleted? name one with --website).")
        return
    table = Table("website", "project", "import", "new sessions", "events", "already there", "status")
    for item in done:
        table.add_row(
            escape(item.name or item.website_id), escape(item.project), str(item.import_id),
            f"{item.sessions:,}", f"{item.events:,}", f"{item.skipped:,}",
            "complete" if item.complete else "stopped: run again to continue",
        )  # fmt: skip
    console.print(table)
    dropped = sum(item.dropped_rows for item in done)
    if dropped:
        console.print(
            f"{dropped:,} events of visits too large for one batch were left out (the latest of each).",
            highlight=False,
        )
    console.print(
        "Imported sessions have no engaged time, scroll depth or engagement score (Umami does not "
        "record them); every other report counts them.",
        highlight=False,
    )
