"""How long the anomaly scan and a compaction take at 10M events (issue 6).

Run from the repository root:

    python bench/storage_ops.py --events 10000000

Generates the same data as bench/analytics.py (30 days, ~200k sessions), times the anomaly
scan (median of 5), deletes the oldest 1M events, and times `storage compact` on the file,
with the file size before and after. As a yardstick in the same run it times a plain
`SELECT count(*)` over all events and DuckDB's own `COPY FROM DATABASE` into a fresh file.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.analytics import generate
from pulsegate.domain.timestamps import now_ms
from pulsegate.ops.context import OpContext
from pulsegate.ops.storage import CompactArgs, compact
from pulsegate.services.anomalies import scan
from pulsegate.store.database import Database


def timed(run) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    run()
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ops.duckdb"
        end = now_ms()
        generate(path, args.events, end)
        db = Database.open(path)
        con = db.connection
        count_ms = statistics.median(
            timed(lambda: con.execute("SELECT count(*) FROM events").fetchall()) for _ in range(5)
        )
        scan(con, end, 6, "normal", None)  # warm
        scan_ms = statistics.median(timed(lambda: scan(con, end, 6, "normal", None)) for _ in range(5))
        copy_ms = timed(lambda: (con.execute(f"ATTACH '{folder}/copy.duckdb' AS c"),
                                 con.execute(f'COPY FROM DATABASE "{con.execute("SELECT current_database()").fetchall()[0][0]}" TO c'),
                                 con.execute("DETACH c")))  # fmt: skip
        deleted = min(1_000_000, args.events // 2)
        con.execute(f"DELETE FROM events WHERE rowid < {deleted}")
        con.execute("CHECKPOINT")
        started = time.perf_counter()
        done = compact(OpContext(db.connection, replace_file=db.swap_file), CompactArgs())
        compact_ms = (time.perf_counter() - started) * 1000
        db.close()
    print(f"{args.events:,} events, 30 days, 2 DuckDB threads\n")
    print("| operation | ms |")
    print("|---|---:|")
    print(f"| yardstick: `SELECT count(*) FROM events` | {count_ms:,.1f} |")
    print(f"| anomaly scan, 6 h window, all projects (median of 5) | {scan_ms:,.1f} |")
    print(f"| yardstick: DuckDB `COPY FROM DATABASE` to a fresh file | {copy_ms:,.0f} |")
    print(
        f"| `storage compact` after deleting {deleted:,} events (copy, verify, swap, verify) | {compact_ms:,.0f} |"
    )
    print(f"\nFile: {done.bytes_before / 1e6:,.1f} MB before compaction, {done.bytes_after / 1e6:,.1f} MB after; "
          f"{sum(done.tables.values()):,} rows kept.")  # fmt: skip


if __name__ == "__main__":
    main()
