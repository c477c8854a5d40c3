"""Compare DuckDB write paths in one process: row-by-row INSERT, the appender, and PulseGate's Writer.

Run: python bench/writer_paths.py [--rows 20000]
Prints a Markdown table; the ratio column is each path's rows/s over the row-by-row baseline
measured in the same run, so a noisy machine moves all rows together.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import datetime
from pathlib import Path

import duckdb

from pulsegate.store.database import Database
from pulsegate.store.tracking import EVENT_COLUMNS
from pulsegate.store.writer import RowWrite, Writer


def event_row(n: int) -> tuple:
    now = datetime(2026, 11, 26, 12, 0, 0)
    return (now, f"session-{n % 500}", f"visitor-{n % 300}", "acme", "click", f"button-{n}",
            "https://example.com/pricing", "/pricing", "Pricing", None, '{"plan":"pro"}', 1_790_000_000_000,
            None, False)  # fmt: skip


def row_by_row(con: duckdb.DuckDBPyConnection, rows: list[tuple]) -> float:
    placeholders = ", ".join("?" for _ in EVENT_COLUMNS)
    started = time.perf_counter()
    con.begin()
    con.executemany(f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) VALUES ({placeholders})", rows)
    con.commit()
    return time.perf_counter() - started


def appender(con: duckdb.DuckDBPyConnection, rows: list[tuple], group: int = 1000) -> float:
    started = time.perf_counter()
    for offset in range(0, len(rows), group):
        con.begin()
        writer = con.appender("events", columns=list(EVENT_COLUMNS))
        writer.append_rows(rows[offset : offset + group])
        writer.flush()
        con.commit()
    return time.perf_counter() - started


def group_commit(database: Database, rows: list[tuple], producers: int = 64) -> tuple[float, int]:
    """`producers` concurrent callers each writing one row at a time, as HTTP handlers do."""

    async def scenario() -> tuple[float, int]:
        writer = Writer(database.connection)
        writer.start()
        chunks = [rows[i::producers] for i in range(producers)]

        async def produce(chunk: list[tuple]) -> None:
            for row in chunk:
                await writer.write(RowWrite("events", EVENT_COLUMNS, [row]))

        started = time.perf_counter()
        await asyncio.gather(*(produce(chunk) for chunk in chunks))
        elapsed = time.perf_counter() - started
        await writer.stop()
        return elapsed, writer.stats.commits

    return asyncio.run(scenario())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    args = parser.parse_args()
    rows = [event_row(n) for n in range(args.rows)]
    with tempfile.TemporaryDirectory() as folder:
        database = Database.open(Path(folder) / "bench.duckdb")
        baseline_rows = rows[: max(2000, args.rows // 10)]  # row-by-row is slow: time fewer rows
        baseline = len(baseline_rows) / row_by_row(database.connection, baseline_rows)
        bulk = len(rows) / appender(database.connection, rows)
        grouped_seconds, commits = group_commit(database, rows)
        grouped = len(rows) / grouped_seconds
        database.close()
    print("| path | rows/s | vs row-by-row |")
    print("|---|---:|---:|")
    print(f"| row-by-row INSERT (executemany, one transaction) | {baseline:,.0f} | 1.0x |")
    print(f"| appender, 1000-row groups, one commit each | {bulk:,.0f} | {bulk / baseline:.1f}x |")
    print(
        f"| Writer: 64 callers x 1 row, group commit ({commits} commits, "
        f"{len(rows) / commits:.0f} rows/commit) | {grouped:,.0f} | {grouped / baseline:.1f}x |"
    )


if __name__ == "__main__":
    main()
