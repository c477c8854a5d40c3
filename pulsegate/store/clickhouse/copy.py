"""The SQL of `pulsegate storage copy`: a DuckDB file's rows read in rowid ranges and inserted into
the ClickHouse store, each range once, with the place reached kept in ClickHouse's `meta`.

Why rowid ranges: DuckDB prunes a scan to the row groups a rowid range covers, so each batch reads
only its own rows (an OFFSET would read every earlier row again), and a range names its rows
exactly, so a retried batch is the same rows. Each batch's insert carries a deduplication token
of its range (the tables keep a window of recent tokens, migration 0004): a batch inserted just
before the process died, its place not yet written, is dropped by ClickHouse when run again.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pulsegate.store.clickhouse.connection import ClickHouse, Row

if TYPE_CHECKING:
    import duckdb


@dataclass(frozen=True, slots=True)
class CopiedTable:
    """A DuckDB table and where its rows go. `computed` adds ClickHouse columns DuckDB lacks, as
    DuckDB expressions; `counted` is what holds one row per source row on ClickHouse."""

    source: str
    target: str
    computed: tuple[tuple[str, str], ...] = ()
    counted: str = ""

    @property
    def count_from(self) -> str:
        return self.counted or self.target


# Every table with history or settings, in an order where a row's references come first. Not
# copied: the event rollup (DuckDB's alone: ClickHouse reports read raw events) and meta, whose
# secrets copy_secrets takes (its other rows are each engine's own bookkeeping).
COPIED_TABLES = (
    CopiedTable("projects", "projects"),
    CopiedTable("api_keys", "api_keys"),
    CopiedTable("goals", "goals"),
    CopiedTable("funnels", "funnels"),
    CopiedTable("email_reports", "email_reports"),
    CopiedTable("email_report_sends", "email_report_sends"),
    CopiedTable("share_links", "share_links"),
    # A session is one whole row there, versioned by its end (migration 0001 says why).
    CopiedTable(
        "sessions",
        "session_rows",
        computed=(("version", "coalesce(epoch_ms(ended_at), 0)"),),
        counted="sessions",
    ),
    CopiedTable("events", "events"),
    CopiedTable("form_views", "form_views"),
    CopiedTable("leads", "leads"),
    CopiedTable("lead_stages", "lead_stages"),
    CopiedTable("lead_attribution", "lead_attribution"),
    CopiedTable("deliveries", "deliveries"),
    CopiedTable("imports", "imports"),
    CopiedTable("imported_daily", "imported_daily"),
    CopiedTable("imported_sessions", "imported_sessions"),
)
PLACE_KEY = "copy:"  # meta's key for a table's place: copy:<table>


@dataclass(frozen=True, slots=True)
class Place:
    """How far a table's copy from one source file has come: every rowid below `next_rowid`."""

    source: str
    next_rowid: int


def shared_columns(duck: duckdb.DuckDBPyConnection, clickhouse: ClickHouse, table: CopiedTable) -> list[str]:
    """The columns both sides have, in DuckDB's order (a column ClickHouse computes is left out)."""
    source = [row[0] for row in duck.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
        [table.source],
    ).fetchall()]  # fmt: skip
    target = {row[0] for row in clickhouse.query(
        "SELECT name FROM system.columns WHERE database = currentDatabase() AND table = ? "
        "AND default_kind NOT IN ('MATERIALIZED', 'ALIAS', 'EPHEMERAL')",
        [table.target],
    )}  # fmt: skip
    return [name for name in source if name in target]


def source_rows(duck: duckdb.DuckDBPyConnection, table: CopiedTable) -> tuple[int, int]:
    """The table's row count (of the rows copied) and one past its highest rowid."""
    found = duck.execute(f"SELECT count(*), coalesce(max(rowid) + 1, 0) FROM {table.source}").fetchone()
    assert found is not None
    return int(found[0]), int(found[1])


def read_range(
    duck: duckdb.DuckDBPyConnection, table: CopiedTable, columns: Sequence[str], low: int, high: int
) -> list[Row]:
    """The rows with rowid in [low, high), as the ClickHouse insert takes them."""
    selected = ", ".join([*(f'"{name}"' for name in columns), *(expr for _, expr in table.computed)])
    rows = duck.execute(
        f"SELECT {selected} FROM {table.source} WHERE rowid >= ? AND rowid < ?", [low, high]
    ).fetchall()
    return [tuple(_insertable(value) for value in row) for row in rows]


def insert_range(
    clickhouse: ClickHouse, table: CopiedTable, columns: Sequence[str], rows: Sequence[Row], token: str
) -> None:
    clickhouse.insert(table.target, [*columns, *(name for name, _ in table.computed)], rows, token=token)


def ranges(start: int, top: int, size: int) -> Iterator[tuple[int, int]]:
    """[low, high) rowid ranges of `size` from `start` up to `top`."""
    for low in range(start, top, size):
        yield low, min(low + size, top)


def read_places(clickhouse: ClickHouse, table: CopiedTable) -> list[Place]:
    """Every place kept for the table, furthest first (meta keeps each write: one per batch)."""
    rows = clickhouse.query("SELECT value FROM meta WHERE key = ?", [PLACE_KEY + table.source])
    places = [
        Place(stored["source"], int(stored["next_rowid"])) for stored in (json.loads(row[0]) for row in rows)
    ]
    return sorted(places, key=lambda place: -place.next_rowid)


def write_place(clickhouse: ClickHouse, table: CopiedTable, place: Place) -> None:
    value = json.dumps({"source": place.source, "next_rowid": place.next_rowid})
    clickhouse.insert("meta", ("key", "value"), [(PLACE_KEY + table.source, value)])


def target_rows(clickhouse: ClickHouse, table: CopiedTable) -> int:
    """The rows the table holds on ClickHouse (sessions: one per session, the latest row)."""
    return int(clickhouse.query(f"SELECT count() FROM {table.count_from}")[0][0])


def copy_secrets(duck: duckdb.DuckDBPyConnection, clickhouse: ClickHouse) -> list[str]:
    """The file's secrets (the visitor salt: visitor ids stay the same across the move) into the
    store, where it has none yet; returns the names of those it already had, with another value
    (the store's own is kept: its servers have used it)."""
    wanted = duck.execute("SELECT key, value FROM meta WHERE key LIKE 'secret:%' ORDER BY key").fetchall()
    kept = dict(
        clickhouse.query(
            "SELECT key, argMin(value, (written, value)) FROM meta WHERE key LIKE 'secret:%' GROUP BY key"
        )
    )
    clickhouse.insert("meta", ("key", "value"), [(key, value) for key, value in wanted if key not in kept])
    return [key.removeprefix("secret:") for key, value in wanted if key in kept and kept[key] != value]


def _insertable(value: Any) -> Any:
    """A DuckDB value as JSON the insert reads: text for bytes (payloads are UTF-8 JSON)."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", errors="replace")
    return value
