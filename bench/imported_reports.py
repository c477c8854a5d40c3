"""Imported history: how fast an export is imported, and what adding its days costs a report.

Run from the repository root:

    python bench/imported_reports.py --events 10000000 --pages 5000

It takes the generated traffic of bench/reports.py (30 days, `--events`), writes a Plausible
export for the same 30 days of a project with no tracked traffic (every file; `--pages` values
a day in the pages files, 200 sources, 50 countries, …), imports it with the real operations
offline (timed: rows per second), then asks each report twice in turn, with imported days
(`include_imported=true`) and without (the baseline, the same report the same moment): the
overview, the daily time series and breakdowns by page, source and country (10 rows). The
result is each report's median and the ratio with/without.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.reports import bench_file
from pulsegate.config import load_settings
from pulsegate.domain.periods import Paging, resolve_window
from pulsegate.domain.reports import ReportQuery, dimension, metrics_for, parse_order
from pulsegate.domain.timestamps import now_ms, utc_datetime
from pulsegate.ops.plausible_import import import_export
from pulsegate.ops.runner import OperationSession
from pulsegate.services import reports
from pulsegate.store.database import Database

PROJECT = "legacy"


def write_export(folder: Path, first: object, days: int, pages: int) -> int:
    """A Plausible export of `days` days from `first`; returns its rows."""
    start = first
    suffix = f"{start:%Y%m%d}_{start + timedelta(days=days - 1):%Y%m%d}"  # type: ignore[operator]
    sizes = {"visitors": 1, "pages": pages, "entry_pages": pages // 4, "exit_pages": pages // 4,
             "sources": 200, "locations": 50, "devices": 3, "browsers": 12, "operating_systems": 10,
             "custom_events": 20}  # fmt: skip
    columns = {"visitors": [], "pages": ["hostname", "page"], "entry_pages": ["entry_page"],
               "exit_pages": ["exit_page"], "sources": ["source", "referrer", "utm_campaign"],
               "locations": ["country"], "devices": ["device"], "browsers": ["browser"],
               "operating_systems": ["operating_system"], "custom_events": ["name"]}  # fmt: skip
    rows = 0
    for kind, size in sizes.items():
        metrics = ["visitors", "events"] if kind == "custom_events" else [
            "visitors", "visits", "pageviews", "bounces", "visit_duration"]  # fmt: skip
        with (folder / f"imported_{kind}_{suffix}.csv").open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["date", *columns[kind], *metrics])
            for day in range(days):
                date = start + timedelta(days=day)  # type: ignore[operator]
                for n in range(size):
                    values = [f"/{kind}/{n}" if c in ("page", "entry_page", "exit_page") else f"{c}-{n}"
                              for c in columns[kind]]  # fmt: skip
                    writer.writerow([date.isoformat(), *values, *[(n * 7 + day) % 97 + 1 for _ in metrics]])
                    rows += 1
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description="Importing a Plausible export, and reports with its days")
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--pages", type=int, default=5000, help="page values a day in the export")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--database", type=Path)
    args = parser.parse_args()
    end_ms = now_ms()
    database = bench_file(args.events, args.database, end_ms)
    window = resolve_window({"period": "30d"}, end_ms)
    first_day = utc_datetime(window.start_ms).date() + timedelta(days=1)

    settings = load_settings(None, overrides={"storage": {"database": str(database)}})
    with tempfile.TemporaryDirectory() as folder, OperationSession(settings) as session:
        rows = write_export(Path(folder), first_day, 29, args.pages)
        started = time.perf_counter()
        done = import_export(session, Path(folder), PROJECT)
        seconds = time.perf_counter() - started
    print(f"Imported {done.rows:,} of {rows:,} rows in {seconds:.1f} s: {done.rows / seconds:,.0f} rows/s")

    db = Database.open(database, threads=2, memory_limit="64MB")
    cursor = db.connection.cursor()
    asked = ReportQuery(window, None)
    page = Paging(limit=10, page=1)
    questions = {
        "overview": lambda q: reports.overview(cursor, q),
        "timeseries (day)": lambda q: reports.timeseries(
            cursor, q, "day", metrics_for(("visitors", "sessions"), None)
        ),
    }
    for name in ("page", "source", "country"):
        by = dimension(name)
        metrics = metrics_for(("visitors", "pageviews" if by.scope == "event" else "sessions"), by)
        questions[f"breakdown by {name}"] = lambda q, by=by, m=metrics: reports.breakdown(
            cursor, q, by, m, parse_order(None, m), page
        )
    print("| report | without imports (ms) | with imports (ms) | ratio |\n|---|---|---|---|")
    for label, ask in questions.items():
        with_imports, without = [], []
        ask(asked), ask(replace(asked, include_imported=False))  # warm
        for _ in range(args.repeats):  # in turn, so both see the same moment of a shared machine
            for include, samples in ((True, with_imports), (False, without)):
                started = time.perf_counter()
                answer = ask(replace(asked, include_imported=include))
                samples.append((time.perf_counter() - started) * 1000)
            assert answer.imported is not None, label  # the window holds imported days
        a, b = statistics.median(without), statistics.median(with_imports)
        print(f"| {label} | {a:.1f} | {b:.1f} | {b / a:.2f} |")
    db.close()


if __name__ == "__main__":
    main()
