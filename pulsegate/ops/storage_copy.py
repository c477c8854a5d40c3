"""`pulsegate storage copy`: a DuckDB file's history and settings into a ClickHouse store, in
batches, resumable, with every table's row count checked at the end (docs/scaling.md)."""

from __future__ import annotations

import hashlib
import time
from typing import Protocol

import msgspec

from pulsegate.config import Settings
from pulsegate.control.client import ask_server
from pulsegate.control.protocol import control_socket_path
from pulsegate.domain.clickhouse_target import ClickHouseTarget
from pulsegate.errors import InvalidInput, StorageUnavailable
from pulsegate.ops.runner import missing_database, open_offline
from pulsegate.store.clickhouse import copy
from pulsegate.store.clickhouse.store import ClickHouseStore

DEFAULT_BATCH_ROWS = 100_000
MAX_BATCH_ROWS = 10_000_000


class TableCopied(msgspec.Struct, kw_only=True):
    table: str
    rows: int  # in the file
    copied_now: int  # inserted by this run (an earlier, interrupted run may have done the rest)
    in_clickhouse: int  # counted there at the end: equal to `rows`, or the copy fails


class CopyDone(msgspec.Struct, kw_only=True):
    source: str
    target: str  # without its password
    tables: list[TableCopied]
    resumed: bool  # an earlier run had begun (or finished) this copy
    # Secrets the store already had with another value: it keeps its own, so visitor ids made on
    # ClickHouse differ from the file's for the same visitor.
    secrets_kept_by_target: list[str]
    seconds: float


class CopyProgress(Protocol):
    def begin(self, table: str, total: int, done: int) -> None:
        """A table starts: `total` rows in the file, `done` of them copied by earlier runs."""

    def advance(self, rows: int) -> None:
        """`rows` more rows of the current table are in ClickHouse."""


def copy_to_clickhouse(
    settings: Settings,
    target: ClickHouseTarget,
    *,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    progress: CopyProgress | None = None,
) -> CopyDone:
    """Copy the file of `settings` into `target`. Run again after an interruption, it goes on from
    the last batch ClickHouse acknowledged (none is inserted twice: copy.py says how)."""
    if not 1 <= batch_rows <= MAX_BATCH_ROWS:
        raise InvalidInput(f"--batch-rows: from 1 to {MAX_BATCH_ROWS:,} (got {batch_rows})")
    path = settings.database_path
    if not path.exists():
        raise InvalidInput(missing_database(path))
    socket = control_socket_path(path)
    if ask_server(socket, "status", b"{}", 5.0) is not None:
        raise InvalidInput(
            f"A server is running on {path}: stop it first (rows keep arriving while it runs), or "
            "copy a backup of it: pulsegate backup /tmp/copy.duckdb, then --database /tmp/copy.duckdb"
        )
    started = time.monotonic()
    source_id = str(path.resolve())
    token_prefix = "pulsegate-copy:" + hashlib.sha256(source_id.encode()).hexdigest()[:16]
    database = open_offline(settings, socket)
    try:
        store = ClickHouseStore.open(target)
        try:
            clickhouse, duck = store.connection, database.connection
            resumed = _check_target(clickhouse, source_id, target)
            secrets_kept = copy.copy_secrets(duck, clickhouse)
            tables = []
            for table in copy.COPIED_TABLES:
                columns = copy.shared_columns(duck, clickhouse, table)
                total, top = copy.source_rows(duck, table)
                places = copy.read_places(clickhouse, table)
                start = places[0].next_rowid if places else 0
                copied_now = 0
                if progress is not None:
                    done_before = total if start >= top else _rows_below(duck, table.source, start)
                    progress.begin(table.source, total, done_before)
                for low, high in copy.ranges(start, top, batch_rows):
                    rows = copy.read_range(duck, table, columns, low, high)
                    copy.insert_range(
                        clickhouse, table, columns, rows, f"{token_prefix}:{table.source}:{low}-{high}"
                    )
                    copy.write_place(clickhouse, table, copy.Place(source_id, high))
                    copied_now += len(rows)
                    if progress is not None:
                        progress.advance(len(rows))
                if not places and top == 0:  # an empty table: its place says the copy began
                    copy.write_place(clickhouse, table, copy.Place(source_id, 0))
                tables.append(
                    TableCopied(table=table.source, rows=total, copied_now=copied_now,
                                in_clickhouse=copy.target_rows(clickhouse, table))
                )  # fmt: skip
        finally:
            store.close()
    finally:
        database.close()
    differ = [
        f"{t.table}: {t.rows:,} in the file, {t.in_clickhouse:,} in ClickHouse"
        for t in tables
        if t.rows != t.in_clickhouse
    ]
    if differ:
        raise StorageUnavailable(
            "The copy's row counts differ (did something else write to the ClickHouse database?): "
            + "; ".join(differ)
        )
    return CopyDone(
        source=source_id, target=target.display(), tables=tables, resumed=resumed,
        secrets_kept_by_target=secrets_kept, seconds=round(time.monotonic() - started, 3),
    )  # fmt: skip


def _check_target(clickhouse: copy.ClickHouse, source_id: str, target: ClickHouseTarget) -> bool:
    """Whether this copy was begun before; refuses a store that holds other data, or another
    file's copy, since the counts could then not be checked."""
    resumed = False
    for table in copy.COPIED_TABLES:
        places = copy.read_places(clickhouse, table)
        others = {place.source for place in places} - {source_id}
        if others:
            raise InvalidInput(
                f"{target.display()} holds a copy of another file ({sorted(others)[0]}): copy into an "
                "empty database"
            )
        if places:
            resumed = True
        elif (rows := copy.target_rows(clickhouse, table)) > 0:
            raise InvalidInput(
                f"{target.display()} already has rows in {table.target} ({rows:,}) that no copy made: "
                "copy into an empty database (a server that ran on it writes its own)"
            )
    return resumed


def _rows_below(duck: object, table: str, rowid: int) -> int:
    found = duck.execute(f"SELECT count(*) FROM {table} WHERE rowid < ?", [rowid]).fetchone()  # type: ignore[attr-defined]
    return int(found[0])
