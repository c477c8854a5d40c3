"""`pulsegate import list` and `import remove`: the imports of every origin (offline or in the server)."""

from __future__ import annotations

from datetime import date

import msgspec

from pulsegate.domain.timestamps import epoch_ms
from pulsegate.errors import UnknownId
from pulsegate.ops.context import NoArguments, OpContext
from pulsegate.ops.operation import Operation
from pulsegate.store import imports as sql
from pulsegate.store.transactions import transaction


class ImportInfo(msgspec.Struct, kw_only=True):
    """One import, as `import list` shows it."""

    id: int
    project: str
    origin: str  # plausible or umami
    label: str  # the export's file name, or the Umami website id
    status: str  # loading (interrupted, or still running) or complete
    first_day: date | None
    last_day: date | None
    timezone: str
    rows: int
    created_ms: int
    finished_ms: int | None


class ImportId(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Arguments of `import remove`."""

    id: int


def import_info(row: sql.ImportRow) -> ImportInfo:
    """An `imports` row as `import list` shows it."""
    import_id, project, origin, label, status, first, last, tz, rows, _state, created, finished = row
    return ImportInfo(
        id=import_id, project=project, origin=origin, label=label, status=status, first_day=first,
        last_day=last, timezone=tz, rows=rows, created_ms=epoch_ms(created),
        finished_ms=epoch_ms(finished) if finished else None,
    )  # fmt: skip


def list_imports(context: OpContext, args: NoArguments) -> list[ImportInfo]:
    """Every import, oldest first."""
    return [import_info(row) for row in sql.import_rows(context.connection)]


def remove_import(context: OpContext, args: ImportId) -> ImportInfo:
    """Remove an import and every row it brought, in one transaction; returns what it was."""
    row = sql.find_import(context.connection, args.id)
    if row is None:
        raise UnknownId(f"ID: no import {args.id} (pulsegate import list shows them)")
    with transaction(context.connection) as connection:
        sql.delete_import(connection, args.id)
    return import_info(row)


LIST = Operation("imports.list", list_imports, NoArguments, list[ImportInfo], on_clickhouse=True)
REMOVE = Operation("imports.remove", remove_import, ImportId, ImportInfo, on_clickhouse=True)
