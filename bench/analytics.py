"""Analytics benchmark: every /analytics endpoint over HTTP against its bare SQL, at 10M events.

Run from the repository root:

    python bench/analytics.py --events 10000000

It generates ~200k sessions and their events over the last 30 days (in arrival order, as the
server writes them) into a fresh DuckDB file, times each endpoint's work run directly in DuckDB
(the same report functions the service calls, same DuckDB settings), then starts
`pulsegate serve` on the file and times the same questions over HTTP. Both are warm: one
untimed run first, then the median of the timed runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ingest import free_port, start_pulsegate, stop
from pulsegate.domain.periods import Paging, resolve_window
from pulsegate.domain.reports import Order, ReportQuery, dimension, metrics_for
from pulsegate.domain.timestamps import now_ms, utc_datetime
from pulsegate.services import reports
from pulsegate.store import queries
from pulsegate.store import reports as report_queries
from pulsegate.store.database import Database
from pulsegate.store.visitors import VISITOR_KEY_SQL

EVENTS_PER_SESSION = 50
PATHS = 500


def generate(database: Path, events: int, end_ms: int) -> None:
    """Sessions, events and leads over the 30 days before `end_ms`, generated inside DuckDB."""
    sessions = max(1, events // EVENTS_PER_SESSION)
    db = Database.open(database, memory_limit="4GB")
    con = db.connection
    end = utc_datetime(end_ms)
    span_us = 30 * 86_400 * 1_000_000
    con.execute("SET threads = 2")
    con.execute(
        f"""
        INSERT INTO sessions (session_id, visitor_id, project, started_at, last_seen_at, ended_at, entry_url,
                              source, country, is_hosting, device, is_bot, page_views, event_count,
                              engaged_ms, duration_ms, engagement_score, entry_path, exit_path, exit_url,
                              browser, os, utm_source, utm_medium, utm_campaign, referrer_host, screen_width,
                              language)
        SELECT 's' || i, 'v' || ((hash(i) % {max(1, sessions * 6 // 10)})::BIGINT), ['acme', 'globex'][1 + i % 2],
               ?::TIMESTAMP - INTERVAL ({span_us} - i * {span_us // sessions}) MICROSECONDS,
               ?::TIMESTAMP - INTERVAL ({span_us} - i * {span_us // sessions}) MICROSECONDS,
               ?::TIMESTAMP - INTERVAL ({span_us} - i * {span_us // sessions} - 300000000) MICROSECONDS,
               'https://example.com/',
               ['Google', 'Direct', 'Hacker News', 'X', 'Reddit', 'LinkedIn', 'news.example.org'][1 + (hash(i * 3) % 7)::BIGINT],
               ['US', 'DE', 'GB', 'FR', 'JP', 'IN', 'BR', 'CA', 'NL', NULL][1 + (hash(i * 5) % 10)::BIGINT],
               (hash(i * 11) % 10)::BIGINT = 0, ['desktop', 'mobile', 'tablet'][1 + (hash(i * 13) % 3)::BIGINT],
               (hash(i * 17) % 20)::BIGINT = 0, 1 + (hash(i * 19) % 8)::BIGINT, {EVENTS_PER_SESSION},
               (hash(i * 23) % 240000)::BIGINT, 300000, (hash(i * 29) % 101)::BIGINT,
               '/p/' || (hash(i * 31) % 50)::BIGINT, '/p/' || (hash(i * 37) % 50)::BIGINT,
               'https://example.com/p/' || (hash(i * 37) % 50)::BIGINT,
               ['Chrome', 'Firefox', 'Safari', 'Edge', 'Samsung Internet'][1 + (hash(i * 41) % 5)::BIGINT],
               ['Windows', 'macOS', 'iOS', 'Android', 'Linux'][1 + (hash(i * 43) % 5)::BIGINT],
               CASE WHEN (hash(i * 47) % 4)::BIGINT = 0 THEN ['newsletter', 'google', 'twitter'][1 + (hash(i * 53) % 3)::BIGINT] END,
               CASE WHEN (hash(i * 47) % 4)::BIGINT = 0 THEN ['email', 'cpc', 'social'][1 + (hash(i * 53) % 3)::BIGINT] END,
               CASE WHEN (hash(i * 47) % 4)::BIGINT = 0 THEN 'campaign-' || (hash(i * 59) % 40)::BIGINT END,
               ['google.com', NULL, 'news.ycombinator.com', 'reddit.com', NULL][1 + (hash(i * 61) % 5)::BIGINT],
               [375, 768, 1280, 1440, 1920][1 + (hash(i * 67) % 5)::BIGINT],
               ['en-US', 'de-DE', 'fr-FR', 'en-GB', 'ja-JP'][1 + (hash(i * 71) % 5)::BIGINT]
        FROM range({sessions}) t(i)
        """,
        [end, end, end],
    )
    con.execute(f"UPDATE sessions SET visitor_key = {VISITOR_KEY_SQL}")  # as the server keeps it
    con.execute(
        f"""
        INSERT INTO events (received_at, session_id, visitor_id, project, type, url, path, engaged_ms, is_bot,
                            name, props)
        SELECT ?::TIMESTAMP - INTERVAL ({span_us} - i * {span_us // events}) MICROSECONDS,
               's' || (i // {EVENTS_PER_SESSION}),
               'v' || ((hash(i // {EVENTS_PER_SESSION}) % {max(1, sessions * 6 // 10)})::BIGINT),
               ['acme', 'globex'][1 + (i // {EVENTS_PER_SESSION}) % 2],
               ['pageview', 'pageview', 'click', 'scroll', 'engagement', 'pageview', 'pageview', 'click', 'scroll',
                'engagement', 'pageview', 'pageview', 'click', 'scroll', 'engagement', 'pageview', 'pageview',
                'custom', 'outbound', 'download'][1 + (hash(i) % 20)::BIGINT],
               'https://example.com/p/' || floor(pow(((hash(i * 7) % 1000000)::BIGINT) / 1e6, 3) * {PATHS})::INT,
               '/p/' || floor(pow(((hash(i * 7) % 1000000)::BIGINT) / 1e6, 3) * {PATHS})::INT,
               CASE WHEN (hash(i) % 20)::BIGINT IN (4, 9, 14) THEN (hash(i * 3) % 30000)::BIGINT END,
               (hash((i // {EVENTS_PER_SESSION}) * 17) % 20)::BIGINT = 0,
               CASE (hash(i) % 20)::BIGINT WHEN 17 THEN ['Signup', 'Play video', 'Download brochure'][1 + (hash(i * 5) % 3)::BIGINT] END,
               CASE (hash(i) % 20)::BIGINT
                   WHEN 17 THEN '{{"plan": "' || ['free', 'pro', 'team'][1 + (hash(i * 13) % 3)::BIGINT] || '"}}'
                   WHEN 18 THEN '{{"href": "https://other.example/' || (hash(i * 13) % 30)::BIGINT || '"}}'
                   WHEN 19 THEN '{{"href": "https://example.com/files/' || (hash(i * 13) % 10)::BIGINT || '.pdf"}}'
               END
        FROM range({events}) t(i)
        """,
        [end],
    )
    con.execute(
        f"""
        INSERT INTO leads (lead_id, submission_id, created_at, project, traffic_source, is_spam, session_id)
        SELECT 'l' || i, 'l' || i, ?::TIMESTAMP - INTERVAL ((hash(i) % {span_us})::BIGINT) MICROSECONDS,
               ['acme', 'globex'][1 + i % 2], ['Google', 'Direct', 'Hacker News', 'X'][1 + (hash(i * 3) % 4)::BIGINT],
               (hash(i) % 10)::BIGINT = 0, 's' || (hash(i * 7) % {sessions})::BIGINT
        FROM range({max(1, sessions // 100)}) t(i)
        """,
        [end],
    )
    db.close()


def bare_questions(end_ms: int) -> dict[str, Callable[[Any], Any]]:
    """What each endpoint computes, called directly on a DuckDB cursor (the same functions the
    service runs, without HTTP, auth and JSON): the server's own overhead is HTTP / this."""
    window = resolve_window({"period": "30d"}, end_ms)
    query = ReportQuery(window, None)
    paging = Paging(limit=10, page=1)

    def ranked(name: str, metrics: tuple[str, ...]) -> Callable[[Any], Any]:
        by = dimension(name)
        return lambda c: reports.breakdown(
            c, query, by, metrics_for(metrics, by), Order(metrics[0], "desc"), paging
        )

    return {
        "overview": lambda c: reports.overview(c, query),
        "sessions/daily": lambda c: reports.timeseries(
            c, query, "day", metrics_for(("sessions", "visitors"), None)
        ),
        "pages/top": ranked("page", ("pageviews", "visitors", "avg_engaged_ms")),
        "geo": lambda c: (reports.totals(c, query, window), ranked("country", ("sessions", "visitors"))(c)),
        "engagement": lambda c: report_queries.engagement_scores(c, reports.scope_of(window, None), ()),
        "sources": ranked("source", ("sessions", "visitors", "leads")),
        "realtime": lambda c: queries.recent_activity(
            c,
            utc_datetime(end_ms - 30 * 60_000),
            utc_datetime(end_ms + 1),
            utc_datetime(end_ms - 300_000),
            utc_datetime(end_ms - 60_000),
            None,
        ),
        "storage": lambda c: (queries.event_time_range(c), queries.table_stats(c)),
    }


@contextmanager
def keyed_client(database: Path, memory_limit: str) -> Iterator[httpx.Client]:
    """`pulsegate serve` on `database` with DuckDB's `memory_limit`, and an HTTP client holding a
    fresh API key for it; the server stops afterwards."""
    port = free_port()
    os.environ["PULSEGATE_STORAGE__DUCKDB_MEMORY_LIMIT"] = memory_limit
    process = start_pulsegate(database, port)
    try:
        secret = subprocess.run(
            [sys.executable, "-m", "cli", "keys", "create", "bench", "-q", "--database", str(database)],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers={"X-API-Key": secret}, timeout=120
        ) as http:
            yield http
    finally:
        stop(process)


def median_ms(run: Callable[[], Any], repeats: int) -> float:
    run()  # warm
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description="Analytics endpoints vs bare SQL")
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--memory-limit", default="64MB", help="DuckDB memory_limit for both sides")
    args = parser.parse_args()
    end_ms = now_ms()
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as folder:
        database = Path(folder) / "analytics.duckdb"
        started = time.perf_counter()
        generate(database, args.events, end_ms)
        print(f"Generated {args.events:,} events in {time.perf_counter() - started:.0f} s; "
              f"file {database.stat().st_size / 1e6:.0f} MB")  # fmt: skip

        db = Database.open(database, threads=2, memory_limit=args.memory_limit)
        bare = {
            name: median_ms(lambda q=q: q(db.connection), args.repeats)
            for name, q in bare_questions(end_ms).items()
        }
        db.close()

        with keyed_client(database, args.memory_limit) as http:

            def ask(route: str) -> None:
                response = http.get(f"/analytics/{route}", params={"period": "30d"})
                response.raise_for_status()

            served = {route: median_ms(lambda r=route: ask(r), args.repeats) for route in bare}

    print(
        f"\n{args.events:,} events, DuckDB memory_limit {args.memory_limit}, threads 2, median of {args.repeats} warm runs\n"
    )
    print("| endpoint | bare SQL ms | HTTP ms | HTTP / bare | under 100 ms |")
    print("|---|---:|---:|---:|---|")
    for route in bare:
        ratio = served[route] / bare[route] if bare[route] else float("nan")
        print(f"| /analytics/{route} | {bare[route]:.1f} | {served[route]:.1f} | {ratio:.2f} | "
              f"{'yes' if served[route] < 100 else 'NO'} |")  # fmt: skip


if __name__ == "__main__":
    main()
