"""`pulsegate import umami`: an Umami database's visits become native sessions and events.

The CLI process reads Umami (store/umami_source.py, read-only) and turns each visit into a
session with its events (domain/umami.py); batches of whole visits then go to `BATCH`, which
writes each in one transaction: the rows not written before, the rollup of their hours, and the
import's resume point. So an import stops anywhere (Ctrl-C, a lost connection, `--max-batches`)
without leaving half a batch, and the same command continues it. Inside a running server the
batches run on the writer's thread between group commits; a batch is at most 500 visits and
900 KB, which takes the writer 0.13 s typically and 0.5 s at most (160,000 events with the
rollup held), so tracking waits no longer than that. Offline they run on
the file.

One import per website (its `label` is the website id): a later run after a complete import
reopens it and adds the visits since; times are UTC (Umami stores instants; days in
`import list` are UTC days).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

import msgspec

from pulsegate.domain.timestamps import now_ms, utc_datetime
from pulsegate.domain.tracking import Project, check_project
from pulsegate.domain.umami import (
    MAX_BATCH_VISITS,
    ImportedSession,
    ResumePoint,
    UmamiWebsite,
    project_name,
    visit_batches,
)
from pulsegate.errors import InvalidInput, UnknownId
from pulsegate.ops.context import OpContext
from pulsegate.ops.imports import ImportId, ImportInfo, import_info
from pulsegate.ops.operation import Operation
from pulsegate.ops.runner import OperationSession
from pulsegate.store import imported_visits, imports
from pulsegate.store.transactions import transaction

if TYPE_CHECKING:
    from pulsegate.store.umami_source import UmamiSource

ORIGIN = "umami"
TIMEZONE = "UTC"
# Visits that start in the last hour may still be going on (a visit spans up to about an hour):
# a run imports those that started before the previous whole hour; the next run adds the rest.
SETTLE = timedelta(hours=1)


class UmamiStart(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Start, or continue, the import of one Umami website into `project`."""

    website_id: str
    project: Project


class UmamiStarted(msgspec.Struct, kw_only=True):
    """The import to write into, and where it stands (None: from the start)."""

    id: int
    resume: ResumePoint | None
    continued: bool  # an interrupted import goes on (it was loading), or a complete one grows
    rows: int  # Umami rows it holds already


class UmamiBatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Whole visits to write, and where the import stands after them."""

    id: int
    sessions: list[ImportedSession]
    resume: ResumePoint


class BatchWritten(msgspec.Struct, kw_only=True):
    """What a batch added: sessions and events new to the database, and sessions skipped as
    already written by an earlier run."""

    sessions: int
    events: int
    skipped: int


def start_import(context: OpContext, args: UmamiStart) -> UmamiStarted:
    """The website's import (made when it has none; a complete one is reopened to grow)."""
    connection = context.connection
    existing = [row for row in imports.import_rows(connection, origin=ORIGIN) if row[3] == args.website_id]
    with transaction(connection):
        if not existing:
            import_id = imports.create_import(
                connection, project=args.project, origin=ORIGIN, label=args.website_id, timezone=TIMEZONE,
                created_at=utc_datetime(now_ms()),
            )  # fmt: skip
            return UmamiStarted(id=import_id, resume=None, continued=False, rows=0)
        import_id, project, _, _, status, *_, rows, state, _created, _finished = existing[0]
        if project != args.project:
            raise InvalidInput(
                f"--project: website {args.website_id} is imported into project {project!r} "
                f"(import {import_id}): use --project {project}, or `pulsegate import remove {import_id}` "
                "first"
            )
        if status == "complete":
            imported_visits.reopen(connection, import_id)
    resume = msgspec.json.decode(state, type=ResumePoint) if state else None
    return UmamiStarted(id=import_id, resume=resume, continued=True, rows=rows)


def _loading(context: OpContext, import_id: int) -> imports.ImportRow:
    row = imports.find_import(context.connection, import_id)
    if row is None or row[2] != ORIGIN:
        raise UnknownId(f"ID: no Umami import {import_id} (removed while importing?)")
    return row


def write_batch(context: OpContext, args: UmamiBatch) -> BatchWritten:
    """Write a batch of visits (those not written before) and the import's new resume point,
    in one transaction."""
    row = _loading(context, args.id)
    project, state = row[1], row[9]
    stored = msgspec.json.decode(state, type=ResumePoint) if state else None
    resume = max(stored, args.resume) if stored else args.resume  # a run from an earlier --since
    with transaction(context.connection) as connection:
        sessions, events = imported_visits.write_sessions(connection, args.id, project, args.sessions)
        imports.add_row_count(connection, args.id, events, msgspec.json.encode(resume).decode())
    return BatchWritten(sessions=sessions, events=events, skipped=len(args.sessions) - sessions)


def finish_import(context: OpContext, args: ImportId) -> ImportInfo:
    """Mark the import complete, with the UTC days its sessions cover."""
    _loading(context, args.id)
    with transaction(context.connection) as connection:
        first, last = imported_visits.imported_days(connection, args.id)
        imports.finish_import(connection, args.id, utc_datetime(now_ms()), first, last)
    row = imports.find_import(context.connection, args.id)
    assert row is not None
    return import_info(row)


START = Operation("imports.umami_start", start_import, UmamiStart, UmamiStarted, on_clickhouse=True)
BATCH = Operation("imports.umami_batch", write_batch, UmamiBatch, BatchWritten, on_clickhouse=True)
FINISH = Operation("imports.umami_finish", finish_import, ImportId, ImportInfo, on_clickhouse=True)


# ---- the run, in the CLI's process ----------------------------------------------------------------


class Progress(Protocol):
    """What the CLI shows while an import runs."""

    def begin(self, website: UmamiWebsite, project: str, total: int) -> None: ...

    def advance(self, rows: int) -> None: ...


@dataclass(slots=True)
class WebsiteImported:
    """How one website's import went."""

    website_id: str
    name: str
    project: str
    import_id: int
    sessions: int = 0  # new sessions written by this run
    events: int = 0
    skipped: int = 0  # sessions an earlier run had written
    dropped_rows: int = 0  # events of over-large visits left out
    continued: bool = False
    complete: bool = False


def scrubbed(text: str, url: str) -> str:
    """`text` on one line without the URL's password (for the CLI, which may not import store)."""
    from pulsegate.store.umami_source import scrubbed as scrub

    return scrub(text, url)


def chosen_websites(source: UmamiSource, website_ids: Sequence[str]) -> list[UmamiWebsite]:
    """The websites named (deleted ones too: naming one asks for it), else every one not deleted."""
    if website_ids:
        return [source.website(website_id) for website_id in dict.fromkeys(w.strip() for w in website_ids)]
    return [website for website in source.websites() if not website.deleted]


def import_umami(
    session: OperationSession,
    url: str,
    *,
    website_ids: Sequence[str] = (),
    project: str | None = None,
    since: datetime | None = None,
    batch_visits: int = MAX_BATCH_VISITS,
    max_batches: int | None = None,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> list[WebsiteImported]:
    """Import the websites' visits from the Umami database at `url`; returns how each went.
    `max_batches` stops after that many batches in all (the import stays resumable)."""
    if project is not None:
        check_project(project, "--project")
    moment = now or datetime.now(UTC)
    until_us = _us(moment.replace(minute=0, second=0, microsecond=0) - SETTLE)
    since_us = _us(since) if since is not None else None
    done: list[WebsiteImported] = []
    batches = 0
    # Imported here, not above: psycopg costs a server that never imports 9 MB resident.
    from pulsegate.store.umami_source import UmamiSource

    with UmamiSource(url) as source:
        websites = chosen_websites(source, website_ids)
        for website in websites:
            target = project or project_name(website)
            started = session.run(START, UmamiStart(website_id=website.website_id, project=target))
            result = WebsiteImported(
                website.website_id, website.name, target, started.id, continued=started.continued
            )
            done.append(result)
            start_us = max(since_us or 0, website.reset_us or 0) or None
            if progress is not None:
                begin = max(start_us or 0, started.resume.started_us if started.resume else 0)
                progress.begin(website, target, source.count_rows(website.website_id, begin, until_us))
            rows = source.rows(website, start_us, started.resume, until_us)
            for batch in visit_batches(website, rows, max_visits=batch_visits):
                if max_batches is not None and batches >= max_batches:
                    return done
                written = session.run(BATCH, UmamiBatch(id=started.id, sessions=batch.sessions,
                                                        resume=batch.resume))  # fmt: skip
                batches += 1
                result.sessions += written.sessions
                result.events += written.events
                result.skipped += written.skipped
                result.dropped_rows += batch.dropped_rows
                if progress is not None:
                    progress.advance(batch.rows)
            session.run(FINISH, ImportId(id=started.id))
            result.complete = True
    return done


def _us(moment: datetime) -> int:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return (aware - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
