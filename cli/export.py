"""Streaming lead exports (CSV, JSON lines) page by page, with a progress bar on a terminal."""

from __future__ import annotations

import csv
import sys
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import msgspec
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from cli.output import error_console
from pulsegate.config import Settings
from pulsegate.domain.csv_safety import csv_safe
from pulsegate.ops.leads import EXPORT_COLUMNS, EXPORT_PAGE, EXPORT_TIME_COLUMNS, ExportPage, LeadSelection
from pulsegate.ops.output_files import written_in_place_of
from pulsegate.ops.runner import OperationSession

PAGE_SIZE = 2000


def iso_utc(epoch_ms: object) -> object:
    """Epoch milliseconds as ISO 8601 in UTC (`2026-01-31T14:05:00.000Z`); other values as they are."""
    if not isinstance(epoch_ms, int):
        return epoch_ms
    moment = datetime.fromtimestamp(epoch_ms / 1000, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def write_export(settings: Settings, selection: LeadSelection, output: Path | None, kind: str) -> int:
    """Write every selected lead to `output` (or stdout) as CSV or JSON lines; returns the count."""
    with ExitStack() as stack:
        handle: IO[str] = sys.stdout
        if output is not None:  # written beside its final name (private) and moved in once complete
            partial = stack.enter_context(written_in_place_of(output))
            handle = stack.enter_context(partial.open("w", newline="", encoding="utf-8"))
        session = stack.enter_context(OperationSession(settings))
        writer = csv.writer(handle) if kind == "csv" else None
        if writer is not None:
            writer.writerow(EXPORT_COLUMNS)
        progress = stack.enter_context(
            Progress(
                TextColumn("exporting leads"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                console=error_console, disable=not error_console.is_terminal,
            )
        )  # fmt: skip
        task = progress.add_task("export", total=None)
        written = 0
        page = ExportPage(selection=selection, limit=PAGE_SIZE)
        # Spreadsheets read ISO 8601, not epoch milliseconds: CSV gets times as 2026-01-31T14:05:00.000Z.
        time_columns = {n for n, name in enumerate(EXPORT_COLUMNS) if name in EXPORT_TIME_COLUMNS}
        while True:
            answer = session.run(EXPORT_PAGE, page)
            if answer.total is not None:
                progress.update(task, total=answer.total)
            for row in answer.rows:
                if writer is not None:
                    writer.writerow([csv_safe(iso_utc(value) if n in time_columns else value)
                                     for n, value in enumerate(row)])  # fmt: skip
                else:
                    handle.write(
                        msgspec.json.encode(dict(zip(EXPORT_COLUMNS, row, strict=True))).decode() + "\n"
                    )
            written += len(answer.rows)
            progress.update(task, completed=written)
            if len(answer.rows) < PAGE_SIZE:
                return written
            page = ExportPage(
                selection=selection, limit=PAGE_SIZE, after_ms=answer.last_ms, after_id=answer.last_id
            )
