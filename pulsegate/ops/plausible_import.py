"""`pulsegate import plausible`: a Plausible CE export (ZIP or folder of CSVs) into `imported_daily`.

The CLI reads and checks the files (so a bad one fails before anything is written, and a dry run
needs no server); the rows go to the database in batches of operations, inside the running server
(each batch between two group commits, ~30 ms for 5,000 rows) or offline:

1. `imports.plausible_begin` checks the project and the imports it has: the same export (same
   days) is replaced, another one that overlaps is refused, an import a crash interrupted is
   removed. Days from the project's first tracked day on are left out (they would count twice).
2. `imports.plausible_rows` adds a batch to the new import, still 'loading', which no report reads.
3. `imports.plausible_finish` makes it complete and removes the one it replaces, in one
   transaction: the reports see the old numbers or the new, never both or neither.
"""

from __future__ import annotations

import contextlib
import csv
import io
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import msgspec

from pulsegate.domain import plausible_export as export
from pulsegate.domain.periods import zone
from pulsegate.domain.timestamps import now_ms, utc_datetime
from pulsegate.domain.tracking import check_project
from pulsegate.errors import InvalidInput, UnknownId
from pulsegate.ops.context import OpContext
from pulsegate.ops.imports import REMOVE, ImportId, ImportInfo, import_info
from pulsegate.ops.operation import Operation
from pulsegate.ops.runner import OperationSession
from pulsegate.store import imports as sql
from pulsegate.store.transactions import transaction

ORIGIN = "plausible"
BATCH_ROWS = 5000


# ---- reading the export (in the CLI's process) --------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExportEntry:
    """One CSV of the export: its name, what the name says, its size, and how to open it."""

    name: str
    file: export.ExportFile
    size: int
    open: Callable[[], io.BufferedIOBase | io.RawIOBase | io.BytesIO]


def export_entries(path: Path, stack: ExitStack) -> list[ExportEntry]:
    """The CSV files of a Plausible export, a ZIP or a folder; InvalidInput for anything else or a
    file whose name is not an export's (every file is checked before any is read)."""
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() == ".csv")
        found = [(p.name, p.stat().st_size, _opener(p)) for p in files]
    elif path.is_file():
        try:
            archive = stack.enter_context(zipfile.ZipFile(path))
        except (zipfile.BadZipFile, OSError) as exc:
            raise InvalidInput(f"{path}: not a ZIP archive or a folder of CSV files ({exc})") from None
        # As in a folder, only the CSV files count (a README or a macOS resource fork does not).
        members = [m for m in archive.infolist() if _is_csv(m)]
        found = [(Path(m.filename).name, m.file_size, _member(archive, m)) for m in members]
    else:
        raise InvalidInput(f"{path}: no such file or folder")
    if not found:
        raise InvalidInput(f"{path}: holds no CSV files of a Plausible export")
    entries = [ExportEntry(name, export.parse_file_name(name), size, opener) for name, size, opener in found]
    kinds = [entry.file.kind for entry in entries]
    doubled = sorted({kind for kind in kinds if kinds.count(kind) > 1})
    if doubled:
        raise InvalidInput(f"{path}: more than one {doubled[0]} file; import one export at a time")
    return entries


def _is_csv(member: zipfile.ZipInfo) -> bool:
    """Whether a ZIP entry is a CSV file (not a folder, not a macOS resource fork)."""
    name = member.filename
    return not member.is_dir() and not name.startswith("__MACOSX/") and name.lower().endswith(".csv")


def _opener(path: Path) -> Callable[[], io.BufferedIOBase]:
    """How to open a file of a folder export."""
    return lambda: path.open("rb")


def _member(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> Callable[[], io.BufferedIOBase]:
    """How to open a file of a ZIP export."""
    return lambda: archive.open(member)  # type: ignore[return-value]


def export_days(entries: list[ExportEntry]) -> tuple[date, date]:
    """The days the export covers: from the earliest first day to the latest last in its names."""
    return min(e.file.first_day for e in entries), max(e.file.last_day for e in entries)


def read_rows(entry: ExportEntry, on_bytes: Callable[[int], None]) -> Iterator[dict[str, object]]:
    """The stored rows of one CSV, read as a stream (`on_bytes` hears how far it got)."""
    kind = export.KINDS[entry.file.kind]
    with entry.open() as raw:
        # strict: an unclosed quote is an error, not the rest of the file read as one value.
        reader = csv.reader(_text_lines(raw, on_bytes, entry.name), strict=True)
        try:
            header = next(reader, None)
            if header is None:  # an empty file: a table without rows
                return
            header = [column.strip() for column in header]
            export.check_header(kind, header, entry.name)
            for record in reader:
                if not record or record == [""]:
                    continue
                row = export.stored_row(
                    kind, dict(zip(header, record, strict=False)), entry.name, reader.line_num
                )
                if row is not None:
                    yield row
        except csv.Error as exc:
            raise InvalidInput(f"{entry.name} line {reader.line_num}: {exc}") from None


def _text_lines(raw: Iterable[bytes], on_bytes: Callable[[int], None], name: str) -> Iterator[str]:
    """The file's lines as text, decoded one at a time so a bad byte is named by its line."""
    for number, line in enumerate(raw, 1):
        on_bytes(len(line))
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput(f"{name} line {number}: not UTF-8 text") from None
        yield text.removeprefix("\ufeff") if number == 1 else text  # a byte order mark, if any


def batch_columns(rows: list[dict[str, object]]) -> dict[str, list[object]]:
    """Rows as one list per stored column (how the batch travels and is inserted)."""
    return {
        column: [row.get(column, 0 if column in export.STORED_METRICS else None) for row in rows]
        for column in export.STORED_COLUMNS
    }


# ---- the operations (in the server, or offline) -------------------------------------------------


class BeginArgs(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Arguments of `imports.plausible_begin`: which export, into which project."""

    project: str
    label: str  # the export's file or folder name
    first_day: date
    last_day: date
    timezone: str = "UTC"  # the Plausible site's: its days are days there
    dry_run: bool = False


class Begun(msgspec.Struct, kw_only=True):
    """A started (or checked) import, and what it will leave out or replace."""

    import_id: int  # 0 for a dry run
    replaces: int | None  # the import of the same export this one replaces
    keep_before: date | None  # the project's first tracked day: imported days from it on are left out


class RowsArgs(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """One batch of an export file's rows."""

    import_id: int
    kind: str
    columns: dict[str, list[str | int | None]]  # batch_columns; days as ISO dates


class RowsAdded(msgspec.Struct, kw_only=True):
    """How many of a batch's rows were stored."""

    kept: int  # rows stored (days before the project's own data, inside the export's days)


class FinishArgs(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Which loading import to make count, and the one it replaces."""

    import_id: int
    replaces: int | None = None


class Finished(msgspec.Struct, kw_only=True):
    """The completed import and its headline numbers."""

    imported: ImportInfo
    replaced: int | None
    days: int  # days with a row in the visitors file
    visitors: int  # summed daily uniques, as the reports add them
    pageviews: int


def begin(context: OpContext, args: BeginArgs) -> Begun:
    """Check the import can be made, and start it (unless a dry run)."""
    project = check_project(args.project, "--project")
    tz = zone(args.timezone)
    connection = context.connection
    replaces = None
    for row in sql.import_rows(connection, origin=ORIGIN):
        info = import_info(row)
        if info.project != project:
            continue
        if info.status == "loading":
            continue  # interrupted: removed below, when this one starts
        if _export_days(row) == (args.first_day, args.last_day):
            replaces = info.id
        elif _overlap(info, args.first_day, args.last_day):
            raise InvalidInput(
                f"EXPORT: its days ({args.first_day} to {args.last_day}) overlap import {info.id} of "
                f"{project} ({info.first_day} to {info.last_day}); remove that one first "
                f"(pulsegate import remove {info.id})"
            )
    keep_before = first_tracked_day(context, project, tz)
    if args.dry_run:
        return Begun(import_id=0, replaces=replaces, keep_before=keep_before)
    state = msgspec.json.encode(
        {"keep_before": keep_before, "export_days": [args.first_day, args.last_day]}
    ).decode()
    with transaction(connection):
        for row in sql.import_rows(connection, origin=ORIGIN):
            if row.project == project and row.status == "loading":
                sql.delete_import(connection, row.id)
        import_id = sql.create_import(
            connection, project=project, origin=ORIGIN, label=args.label, timezone=tz,
            created_at=utc_datetime(now_ms()), first_day=args.first_day, last_day=args.last_day, state=state,
        )  # fmt: skip
    return Begun(import_id=import_id, replaces=replaces, keep_before=keep_before)


def _overlap(info: ImportInfo, first: date, last: date) -> bool:
    return bool(info.first_day and info.last_day and info.first_day <= last and info.last_day >= first)


def _export_days(row: sql.ImportRow) -> tuple[date, date] | None:
    """The days an import's export names (its stored days may be fewer: see keep_before)."""
    days = msgspec.json.decode(row.state or "{}").get("export_days")
    return (date.fromisoformat(days[0]), date.fromisoformat(days[1])) if days else None


def first_tracked_day(context: OpContext, project: str, tz: str) -> date | None:
    """The local day of the project's first session (tracked, or imported from Umami)."""
    first = sql.first_session_at(context.connection, project)
    if first is None:
        return None
    return first.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(tz)).date()


def add_rows(context: OpContext, args: RowsArgs) -> RowsAdded:
    """Store one batch of a loading import's rows (those inside its days and before the project's own)."""
    row = _loading(context, args.import_id)
    if args.kind not in export.KINDS:
        raise InvalidInput(f"kind: unknown {args.kind!r}")
    _check_columns(args.columns)
    keep_before = msgspec.json.decode(row.state or "{}").get("keep_before")
    with transaction(context.connection) as connection:
        kept = sql.add_daily_rows(
            connection, row, args.kind, args.columns, date.fromisoformat(keep_before) if keep_before else None
        )
        sql.add_row_count(connection, args.import_id, kept, None)
    return RowsAdded(kept=int(kept))


def _check_columns(columns: dict[str, list[str | int | None]]) -> None:
    """A batch must be what `batch_columns` makes: one list per stored column, all of one length,
    days as ISO dates, counts as whole numbers from 0, names as text or null."""
    if set(columns) != set(export.STORED_COLUMNS) or len({len(v) for v in columns.values()}) > 1:
        raise InvalidInput("columns: one list per stored column, all of one length")
    for name, values in columns.items():
        if name in export.STORED_METRICS:
            good = all(isinstance(v, int) and 0 <= v < 2**63 for v in values)
        elif name == "day":
            good = all(isinstance(v, str) and _is_day(v) for v in values)
        else:
            good = all(v is None or isinstance(v, str) for v in values)
        if not good:
            raise InvalidInput(f"columns: {name} holds a value of the wrong kind")


def _is_day(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def finish(context: OpContext, args: FinishArgs) -> Finished:
    """Make the import count, and remove the one it replaces, in one transaction."""
    row = _loading(context, args.import_id)
    with transaction(context.connection) as connection:
        if args.replaces is not None and args.replaces != args.import_id:
            replaced = sql.find_import(connection, args.replaces)
            if replaced is not None and replaced.origin == ORIGIN and replaced.project == row.project:
                sql.delete_import(connection, args.replaces)
        first, last = sql.daily_days(connection, args.import_id)
        # The days it holds, which the reports mark: the export's, less those the project tracked.
        sql.finish_import(connection, args.import_id, utc_datetime(now_ms()), first, last)
    days, visitors, pageviews = sql.daily_totals(context.connection, args.import_id)
    done = sql.find_import(context.connection, args.import_id)
    assert done is not None
    return Finished(
        imported=import_info(done), replaced=args.replaces, days=days, visitors=int(visitors),
        pageviews=int(pageviews),
    )  # fmt: skip


def _loading(context: OpContext, import_id: int) -> sql.ImportRow:
    row = sql.find_import(context.connection, import_id)
    if row is None or row.origin != ORIGIN or row.status != "loading":
        raise UnknownId(f"import_id: no Plausible import {import_id} being loaded")
    return row


BEGIN = Operation("imports.plausible_begin", begin, BeginArgs, Begun, on_clickhouse=True)
ADD_ROWS = Operation("imports.plausible_rows", add_rows, RowsArgs, RowsAdded, on_clickhouse=True)
FINISH = Operation("imports.plausible_finish", finish, FinishArgs, Finished, on_clickhouse=True)


# ---- the whole import, driven from the CLI ------------------------------------------------------


class FileSummary(msgspec.Struct, kw_only=True):
    """One file of the export, as `import plausible` reports it."""

    name: str
    kind: str
    rows: int  # rows read (Plausible's internal events and skipped files: 0)
    skipped: bool = False  # a file PulseGate does not import (custom_props)


class PlausibleImport(msgspec.Struct, kw_only=True):
    """What `import plausible` did, or would do (`dry_run`)."""

    dry_run: bool
    project: str
    label: str
    first_day: date
    last_day: date
    files: list[FileSummary]
    replaces: int | None  # the import of the same export it replaced (or would)
    keep_before: date | None  # days from here on were left out: the project's own data starts
    rows: int  # rows stored (or that would be)
    days: int  # days with visitors
    visitors: int  # summed daily uniques
    pageviews: int
    imported: ImportInfo | None = None


Progress = Callable[[str, int], None]  # (file name, bytes read so far in it)


def import_export(
    session: OperationSession,
    path: Path,
    project: str,
    *,
    timezone: str = "UTC",
    dry_run: bool = False,
    progress: Progress | None = None,
) -> PlausibleImport:
    """Read the export at `path` and import it into `project` (or only check it, `dry_run`)."""
    with ExitStack() as stack:
        entries = export_entries(path, stack)
        first, last = export_days(entries)
        label = path.name
        args = BeginArgs(project=project, label=label, first_day=first, last_day=last, timezone=timezone)
        # The whole export is read once before anything is written when dry: every error shows.
        check = session.run(BEGIN, msgspec.structs.replace(args, dry_run=True))
        begun = check if dry_run else session.run(BEGIN, args)
        files, stored, days, visitors, pageviews = [], 0, set(), 0, 0
        try:
            for entry in entries:
                if entry.file.skipped:
                    files.append(FileSummary(name=entry.name, kind=entry.file.kind, rows=0, skipped=True))
                    continue
                read = 0
                batch: list[dict[str, object]] = []
                for row in read_rows(entry, _reporter(progress, entry.name)):
                    read += 1
                    day = row["day"]
                    assert isinstance(day, date)
                    if not (first <= day <= last) or (begun.keep_before and day >= begun.keep_before):
                        continue
                    stored += 1
                    if entry.file.kind == "visitors":
                        days.add(day)
                        visitors += int(row["visitors"])  # type: ignore[call-overload]
                        pageviews += int(row["pageviews"])  # type: ignore[call-overload]
                    batch.append(row)
                    if len(batch) == BATCH_ROWS:
                        _send(session, begun, entry, batch, dry_run)
                        batch = []
                _send(session, begun, entry, batch, dry_run)
                files.append(FileSummary(name=entry.name, kind=entry.file.kind, rows=read))
            done = (
                None
                if dry_run
                else session.run(FINISH, FinishArgs(import_id=begun.import_id, replaces=begun.replaces))
            )
        except BaseException:
            if not dry_run:  # an import left loading is never counted; the next one removes it too
                with contextlib.suppress(Exception):
                    session.run(REMOVE, ImportId(id=begun.import_id))
            raise
    return PlausibleImport(
        dry_run=dry_run, project=project, label=label, first_day=first, last_day=last, files=files,
        replaces=begun.replaces, keep_before=begun.keep_before, rows=stored, days=len(days),
        visitors=visitors, pageviews=pageviews, imported=done.imported if done else None,
    )  # fmt: skip


def _reporter(progress: Progress | None, name: str) -> Callable[[int], None]:
    """`progress` hearing the bytes read so far in the file `name` (counted by text lines)."""
    done = 0

    def heard(read: int) -> None:
        nonlocal done
        done += read
        if progress is not None:
            progress(name, done)

    return heard


def _send(
    session: OperationSession, begun: Begun, entry: ExportEntry, batch: list[dict[str, object]], dry_run: bool
) -> None:
    if batch and not dry_run:
        columns = batch_columns(batch)
        columns["day"] = [str(day) for day in columns["day"]]  # ISO dates
        session.run(ADD_ROWS, RowsArgs(import_id=begun.import_id, kind=entry.file.kind, columns=columns))  # type: ignore[arg-type]
