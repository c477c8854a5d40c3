"""Reports benchmark: every breakdown and the time series over HTTP, against hand-written SQL.

Run from the repository root:

    python bench/reports.py --events 10000000
    python bench/reports.py --events 50000000 --database /tmp/b50.duckdb   # keep the file for reruns

It generates the traffic of bench/analytics.py (sessions and their events over the last 30 days,
now with browsers, UTM fields, entry and exit pages, custom events with properties, outbound
links and downloads), then asks every dimension's breakdown (its default metrics, 10 rows, the
last 30 days) and the daily time series twice: without filters, and with two filters, one on a
session dimension (`country==DE`) and one on an event dimension (`page==/p/1`). Each is timed
over HTTP on a running `pulsegate serve` and as the bare SQL a person would write for the same
rows, run in DuckDB with the same settings. Both warm: one untimed run, then the median.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.analytics import generate, keyed_client, median_ms
from pulsegate.domain.periods import resolve_window
from pulsegate.domain.reports import DIMENSIONS, default_metrics, dimension
from pulsegate.domain.timestamps import now_ms, utc_datetime
from pulsegate.store import rollup
from pulsegate.store.database import Database
from pulsegate.store.report_sql import DUCKDB
from pulsegate.store.reports import EXACT_DISTINCT_UP_TO

FILTERS = ("country==DE", "page==/p/1")
SESSION_FILTER = "country = 'DE'"
EVENT_FILTER = "type = 'pageview' AND path = '/p/1'"
# Each event dimension's value over raw `events` and the event types that carry it, as a person
# would write them (prop:KEY: the property of custom events).
BARE_EVENT_VALUES = {
    "page": ("path", "'pageview'"),
    "event": ("name", "'custom'"),
    "outbound": ("json_extract_string(props, '$.href')", "'outbound'"),
    "download": ("json_extract_string(props, '$.href')", "'download'"),
}
BARE_SESSION_METRICS = {
    "visitors": "count(DISTINCT visitor_id)",
    "sessions": "count(*)",
    "bounce_rate": "100.0 * avg(CASE WHEN page_views <= 1 THEN 1.0 ELSE 0.0 END) FILTER (WHERE ended_at IS NOT NULL)",
    "avg_engaged_ms": "avg(engaged_ms) FILTER (WHERE ended_at IS NOT NULL)",
}


def bare_breakdown(
    name: str, filtered: bool, window: tuple[Any, Any], approximate: bool
) -> tuple[str, list[Any]]:
    """The SQL a person would write for the breakdown's rows (and their count), without the engine."""
    by = dimension(name)
    metrics = default_metrics(by)
    in_window = [*window]
    if by.scope == "session":
        value = DUCKDB.session_value(by)
        where = "started_at >= ? AND started_at < ? AND NOT is_bot"
        params: list[Any] = [*value.params, *in_window]
        if filtered:
            where += (f" AND {SESSION_FILTER} AND session_id IN (SELECT session_id FROM events "
                      f"WHERE received_at >= ? AND received_at < ? AND {EVENT_FILTER})")  # fmt: skip
            params += in_window
        aggregates = ", ".join(f"{BARE_SESSION_METRICS[m]} AS {m}" for m in metrics)
        return (
            f"SELECT {value.text} AS value, {aggregates}, count(*) OVER () FROM sessions WHERE {where} "
            f"GROUP BY value ORDER BY {metrics[0]} DESC, value LIMIT 10",
            params,
        )
    raw_value, types = BARE_EVENT_VALUES.get(name) or (
        f"json_extract_string(props, '$.\"{by.label}\"')",
        "'custom'",
    )
    where = "received_at >= ? AND received_at < ? AND NOT is_bot"
    filter_params: list[Any] = []
    if filtered:
        where += (f" AND session_id IN (SELECT session_id FROM sessions WHERE {SESSION_FILTER}) "
                  f"AND session_id IN (SELECT session_id FROM events WHERE received_at >= ? AND received_at < ? "
                  f"AND {EVENT_FILTER})")  # fmt: skip
        filter_params = in_window
        if name == "page":
            where += " AND path = '/p/1'"
    counted = "count(*) AS pageviews" if name == "page" else "count(*) AS events"
    # As the engine counts on a table this large (store/reports.EXACT_DISTINCT_UP_TO).
    visitors = "approx_count_distinct(visitor_id)" if approximate else "count(DISTINCT visitor_id)"
    rows_sql = (
        f"SELECT {raw_value} AS value, {visitors} AS visitors, {counted} FROM events "
        f"WHERE {where} AND type IN ({types}) AND {raw_value} IS NOT NULL GROUP BY value"
    )
    rows_params = [*in_window, *filter_params]
    if name != "page":
        return f"{rows_sql} ORDER BY visitors DESC, value LIMIT 10", rows_params
    return (
        f"WITH v AS ({rows_sql}), e AS (SELECT path AS value, sum(engaged_ms) AS engaged FROM events "
        f"WHERE {where} AND engaged_ms IS NOT NULL GROUP BY value) "
        "SELECT value, visitors, pageviews, coalesce(engaged, 0) / pageviews, count(*) OVER () "
        "FROM v LEFT JOIN e USING (value) ORDER BY visitors DESC, value LIMIT 10",
        [*rows_params, *in_window, *filter_params],
    )


def bare_daily(filtered: bool, window: tuple[Any, Any]) -> tuple[str, list[Any]]:
    where = "started_at >= ? AND started_at < ? AND NOT is_bot"
    params: list[Any] = [*window]
    if filtered:
        where += (f" AND {SESSION_FILTER} AND session_id IN (SELECT session_id FROM events "
                  f"WHERE received_at >= ? AND received_at < ? AND {EVENT_FILTER})")  # fmt: skip
        params += [*window]
    return (
        "SELECT date_trunc('day', timezone('UTC', started_at AT TIME ZONE 'UTC')) AS day, count(*), "
        f"count(DISTINCT visitor_id) FROM sessions WHERE {where} GROUP BY day ORDER BY day",
        params,
    )


def measured(run: Callable[[], Any], repeats: int, label: object) -> float | None:
    """The median warm time in ms, or None when the query ran out of DuckDB memory (or the
    server answered 503 for it)."""
    try:
        return median_ms(run, repeats)
    except duckdb.OutOfMemoryException as exc:
        print(f"{label}: out of memory: {exc}", file=sys.stderr)
    except httpx.HTTPStatusError as exc:
        print(f"{label}: HTTP {exc.response.status_code}: {exc.response.text[:200]}", file=sys.stderr)
    return None


def _ms(value: float | None) -> str:
    return "out of memory" if value is None else f"{value:.1f}"


def roll_up(connection: duckdb.DuckDBPyConnection) -> None:
    """Bring the event rollup up to date as the server's job does, a turn at a time, and say how
    long that took (a file written by this script, or by an older PulseGate, has none)."""
    started, hours, turns, longest = time.perf_counter(), 0, 0, 0.0
    while True:
        turn = time.perf_counter()
        rolled = rollup.advance(connection, utc_datetime(now_ms()))
        longest = max(longest, time.perf_counter() - turn)
        if not rolled:
            break
        hours, turns = hours + rolled, turns + 1
    if hours:
        rows = {table: connection.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
                for table in rollup.FACT_TABLES}  # fmt: skip
        print(f"Rolled up {hours} hours in {time.perf_counter() - started:.1f} s ({turns} turns, the longest "
              f"{longest * 1000:.0f} ms); rows: {rows}")  # fmt: skip


def bench_file(events: int, database: Path | None, end_ms: int) -> Path:
    """The generated traffic's file (`database`, else one per size in $BENCH_TMP or /tmp), made
    when it does not exist yet."""
    database = database or Path(os.environ.get("BENCH_TMP", "/tmp")) / f"reports-{events}.duckdb"
    if not database.exists():
        started = time.perf_counter()
        generate(database, events, end_ms)
        print(f"Generated {events:,} events in {time.perf_counter() - started:.0f} s")
    return database


def main() -> None:
    parser = argparse.ArgumentParser(description="Every breakdown and the time series vs bare SQL")
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--memory-limit", default="64MB", help="DuckDB memory_limit for both sides")
    parser.add_argument("--database", type=Path, help="keep the generated file here (reused when it exists)")
    parser.add_argument(
        "--fresh-rollup",
        action="store_true",
        help="drop the event rollup of a reused file and build it again",
    )
    parser.add_argument("--only", help="comma-separated dimensions (default: all, and the time series)")
    args = parser.parse_args()
    end_ms = now_ms()
    database = bench_file(args.events, args.database, end_ms)
    window = resolve_window({"period": "30d"}, end_ms)
    bounds = (utc_datetime(window.start_ms), utc_datetime(window.end_ms))
    names = args.only.split(",") if args.only else [*DIMENSIONS, "prop:plan", "timeseries"]

    questions: dict[tuple[str, bool], tuple[str, list[Any]]] = {}
    for name in names:
        for filtered in (False, True):
            if name == "timeseries":
                questions[(name, filtered)] = bare_daily(filtered, bounds)
            else:
                approximate = args.events > EXACT_DISTINCT_UP_TO
                questions[(name, filtered)] = bare_breakdown(name, filtered, bounds, approximate)

    db = Database.open(database, threads=2, memory_limit=args.memory_limit)
    if args.fresh_rollup:
        for table in rollup.FACT_TABLES:
            db.connection.execute(f"DELETE FROM {table}")
        db.connection.execute("UPDATE rollup_state SET since = NULL, frontier = NULL, hash_probe = NULL")
        db.connection.execute("CHECKPOINT")
    roll_up(db.connection)
    cursor = db.connection.cursor()
    bare = {
        key: measured(
            lambda sql=sql, params=params: cursor.execute(sql, params).fetchall(), args.repeats, key
        )
        for key, (sql, params) in questions.items()
    }
    db.close()

    with keyed_client(database, args.memory_limit) as http:

        def asker(name: str, filtered: bool) -> Callable[[], None]:
            params: list[tuple[str, str]] = [("from", str(window.start_ms)), ("to", str(window.end_ms))]
            if filtered:
                params += [("filter", text) for text in FILTERS]
            route = "/analytics/timeseries" if name == "timeseries" else "/analytics/breakdown"
            if name == "timeseries":
                params.append(("interval", "day"))
            else:
                params.append(("dimension", name))

            def ask() -> None:
                http.get(route, params=params).raise_for_status()

            return ask

        served = {key: measured(asker(*key), args.repeats, key) for key in questions}

    print(f"\n{args.events:,} events over 30 days, DuckDB memory_limit {args.memory_limit}, threads 2, "
          f"median of {args.repeats} warm runs; filters: {' and '.join(FILTERS)}\n")  # fmt: skip
    print("| report | filters | bare SQL ms | HTTP ms | HTTP / bare |")
    print("|---|---|---:|---:|---:|")
    for (name, filtered), took in served.items():
        label = "timeseries (day)" if name == "timeseries" else f"breakdown by {name}"
        before = bare[(name, filtered)]
        ratio = f"{took / before:.2f}" if took and before else "-"
        print(f"| {label} | {'two' if filtered else 'none'} | {_ms(before)} | {_ms(took)} | {ratio} |")


if __name__ == "__main__":
    main()
