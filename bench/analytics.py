"""Analytics benchmark: every GET route under /analytics over HTTP, the older ones against their bare SQL.

Run from the repository root:

    python bench/analytics.py --events 10000000
    python bench/analytics.py --events 50000000 --database /tmp/a50m.duckdb   # keep the file for reruns
    git worktree add /tmp/pulsegate-before <commit>
    python bench/analytics.py --events 50000000 --database /tmp/a50m.duckdb --against /tmp/pulsegate-before

It generates ~1M sessions per 50M events and their events over the last 30 days (in arrival order,
as the server writes them) into a DuckDB file (`--database`: reused when it exists), brings the
event rollup up to date (as the server's job does), and adds what the newer reports read: four
goals and a saved funnel (those of bench/conversions.py), 100,000 leads with their attribution
(bench/attribution.py's), and form views, starts and submits. It times the eight original
endpoints' work run directly in DuckDB (the same report functions the service calls, same DuckDB
settings), then starts `pulsegate serve` on the file (from this checkout, or `--checkout`) and
asks every route under /analytics, each with its default parameters (the default period, the
last 30 days) and as the dashboard asks it. Warm: one untimed run first, then the median of the
timed runs. `--against CHECKOUT` also serves that checkout's code on a copy of the file, both
servers running, and asks each route of both in turn (this VM's speed drifts over minutes).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ingest import ROOT, free_port, start_pulsegate, stop
from pulsegate.domain.periods import Paging, resolve_window
from pulsegate.domain.reports import Order, ReportQuery, dimension, metrics_for
from pulsegate.domain.timestamps import now_ms, utc_datetime
from pulsegate.services import reports
from pulsegate.store import queries, rollup
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
        "geo": lambda c: (
            reports.total_sessions(c, query, window),
            ranked("country", ("sessions", "visitors"))(c),
        ),
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


def _serve(database: Path, port: int, checkout: Path) -> subprocess.Popen[bytes]:
    """bench/ingest.start_pulsegate, given three minutes to answer (an older checkout's first start
    on a 1.8 GB file, just copied, on a busy machine took over 30 s)."""
    return start_pulsegate(database, port, checkout, healthy_within=180)


@contextmanager
def keyed_client(database: Path, memory_limit: str, checkout: Path = ROOT) -> Iterator[httpx.Client]:
    """`pulsegate serve` on `database` with DuckDB's `memory_limit` (from this checkout or
    `checkout`), and an HTTP client holding a fresh API key for it; the server stops afterwards."""
    port = free_port()
    os.environ["PULSEGATE_STORAGE__DUCKDB_MEMORY_LIMIT"] = memory_limit
    process = _serve(database, port, checkout)
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


# ---- what the newer reports read ----------------------------------------------------------------

FUNNEL_NAME = "bench"
LEADS = 100_000
FORMS = ("contact", "newsletter", "demo")
# Form views for one session in ten (at 30 s), a start for a third of those (at 60 s), a submit for
# half of the starts (at 120 s): the events go after the generated ones, in time order.
ADD_FORMS = f"""
CREATE OR REPLACE TEMP TABLE seen AS
SELECT session_id, visitor_id, project, started_at, is_bot, {list(FORMS)}[1 + (hash(session_id) % 3)::INTEGER] AS form,
       (hash(session_id || 'form') % 60)::INTEGER AS r
FROM sessions WHERE (hash(session_id || 'form') % 10)::INTEGER = 0;
INSERT INTO form_views (received_at, session_id, visitor_id, project, form, url, is_bot)
SELECT started_at + INTERVAL 30 SECOND, session_id, visitor_id, project, form, 'https://example.com/' || form, is_bot
FROM seen ORDER BY 1;
INSERT INTO events (received_at, session_id, visitor_id, project, type, name, url, path, is_bot)
SELECT * FROM (
    SELECT started_at + INTERVAL 60 SECOND AS sent_at, session_id, visitor_id, project, 'form_start', form,
           'https://example.com/' || form, '/' || form, is_bot FROM seen WHERE r < 20
    UNION ALL
    SELECT started_at + INTERVAL 120 SECOND, session_id, visitor_id, project, 'form_submit', form,
           'https://example.com/' || form, '/' || form, is_bot FROM seen WHERE r < 10
) ORDER BY sent_at;
"""


def prepare(database: Path, events: int, end_ms: int, leads: int = LEADS) -> None:
    """The bench file at `database`, generated when missing, its rollup brought up to date, with
    goals, a saved funnel, leads with attribution and form events (each added once)."""
    from bench.attribution import ADD_LEADS  # these import this module
    from bench.conversions import GOALS, STEPS
    from bench.reports import roll_up
    from pulsegate.domain.funnels import funnel
    from pulsegate.store.funnels import upsert_funnel
    from pulsegate.store.goals import upsert_goal

    if not database.exists():
        started = time.perf_counter()
        generate(database, events, end_ms)
        print(f"Generated {events:,} events in {time.perf_counter() - started:.0f} s; "
              f"file {database.stat().st_size / 1e6:.0f} MB")  # fmt: skip
    db = Database.open(database, threads=2, memory_limit="2GB")
    con = db.connection
    roll_up(con)
    now = utc_datetime(end_ms)
    for goal in GOALS:
        upsert_goal(con, goal, now)
    while rollup.hold_goals(con):  # as the server's rollup job does for goals added
        pass
    upsert_funnel(con, funnel(STEPS, "session", None, name=FUNNEL_NAME), now)
    if con.execute("SELECT count(*) FROM lead_attribution").fetchall()[0][0] == 0:
        started = time.perf_counter()
        first, *rest = [part for part in ADD_LEADS.replace("{leads}", str(leads)).split(";") if part.strip()]
        con.execute(first, [utc_datetime(end_ms - 600_000)])
        for statement in rest:
            con.execute(statement)
        added = con.execute("SELECT count(*) FROM lead_attribution").fetchall()[0][0]
        print(f"Added {added:,} leads and their attribution in {time.perf_counter() - started:.0f} s")
    if con.execute("SELECT count(*) FROM form_views").fetchall()[0][0] == 0:
        for statement in (part for part in ADD_FORMS.split(";") if part.strip()):
            con.execute(statement)
    con.execute("CHECKPOINT")
    db.close()


# ---- every route ----------------------------------------------------------------------------------


def routes(lead_id: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(label, path, parameters) of every GET route under /analytics: each with its default
    parameters (the default period), and as the dashboard asks it (period=30d in its zone, the
    panels' metrics and limits)."""
    from bench.conversions import STEPS
    from pulsegate.domain.reports import DIMENSIONS

    dash = {"period": "30d", "tz": "Europe/Berlin"}
    steps = {"step": list(STEPS)}
    found: list[tuple[str, str, dict[str, Any]]] = [
        ("overview", "overview", {}),
        ("overview (dashboard)", "overview", dash),
        ("sessions/daily", "sessions/daily", {}),
        ("timeseries", "timeseries", {}),
        ("timeseries (dashboard)", "timeseries", {**dash, "metrics": "sessions,visitors"}),
    ]
    for name in [*DIMENSIONS, "prop:plan"]:
        found.append((f"breakdown {name}", "breakdown", {"dimension": name}))
    # The dashboard's panels (web_assets/dashboard/panels.js): session tabs by sessions with
    # visitors, leads and conversion rate; pages by views; custom events by events.
    for name in ("source", "utm_source", "utm_medium", "utm_campaign", "referrer", "entry_page", "exit_page",
                 "country", "browser", "os", "device", "screen"):  # fmt: skip
        found.append((f"breakdown {name} (dashboard)", "breakdown",
                      {**dash, "dimension": name, "metrics": "sessions,visitors,leads,conversion_rate", "limit": 10}))  # fmt: skip
    found += [
        ("breakdown page (dashboard)", "breakdown", {**dash, "dimension": "page", "metrics": "pageviews,visitors", "limit": 10}),
        ("breakdown event (dashboard)", "breakdown", {**dash, "dimension": "event", "metrics": "events,visitors", "limit": 10}),
        ("pages/top", "pages/top", {}),
        ("geo", "geo", {}),
        ("engagement", "engagement", {}),
        ("sources", "sources", {}),
        ("realtime", "realtime", {}),
        ("projects", "projects", {}),
        ("storage", "storage", {}),
        ("goals", "goals", {}),
        ("goals (dashboard)", "goals", {**dash, "compare": "previous"}),
        ("funnels", "funnels", {}),
        ("funnel (saved, dashboard)", "funnel", {**dash, "name": FUNNEL_NAME}),
        ("funnel (4 steps, session)", "funnel", steps),
        ("funnel (4 steps, visitor, 7d)", "funnel", {**steps, "within": "visitor"}),
        ("properties (event=Signup)", "properties", {"event": "Signup"}),
        ("attribution", "attribution", {}),
        ("attribution (dashboard)", "attribution", {**dash, "model": "last", "dimension": "source", "limit": 20}),
        ("attribution won (dashboard)", "attribution",
         {**dash, "model": "last", "dimension": "utm_campaign", "metrics": "won,revenue,leads", "order": "won:desc", "limit": 10}),
        ("forms", "forms", {}),
        ("forms (dashboard)", "forms", {**dash, "limit": 10}),
        ("anomalies", "anomalies", {}),
        ("leads", "leads", {}),
        ("leads (dashboard)", "leads", {**dash, "limit": 20}),
        ("leads/projects", "leads/projects", {}),
        ("leads/sources", "leads/sources", {}),
        ("leads/{id}", f"leads/{lead_id}", {}),
    ]  # fmt: skip
    return found


def paired_ms(runs: dict[str, Callable[[], Any]], repeats: int) -> dict[str, float]:
    """The median warm ms of each of `runs`, asked in turn (the order reversed every round: this
    VM's speed drifts, and blocks of one side and then the other would measure the drift)."""
    names = list(runs)
    for run in runs.values():
        run()  # warm
    samples: dict[str, list[float]] = {name: [] for name in names}
    for n in range(repeats):
        for name in names if n % 2 == 0 else reversed(names):
            started = time.perf_counter()
            runs[name]()
            samples[name].append((time.perf_counter() - started) * 1000)
    return {name: statistics.median(taken) for name, taken in samples.items()}


def schema_of(database: Path) -> int:
    """The schema version a database file is at (read-only, no migration)."""
    import duckdb

    connection = duckdb.connect(str(database), read_only=True)
    try:
        rows = connection.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
    finally:
        connection.close()
    return int(rows[0][0]) if rows else 0


def twin_of(database: Path, against: Path) -> Path:
    """A copy of `database` for the server of `--against` (DuckDB lets one process open a file).
    Copied again when `database` changed, unless this checkout has migrated it past what the
    `against` checkout knows: that checkout keeps the copy it has (made before the migration)."""
    twin = database.with_name(f"{database.stem}-against{database.suffix}")
    known = len(list((against / "pulsegate" / "store" / "migrations").glob("[0-9][0-9][0-9][0-9]_*.sql")))
    if schema_of(database) > known:
        if not twin.exists() or schema_of(twin) > known:
            raise SystemExit(
                f"{database} is at a schema newer than {against} knows, and {twin} is not a copy it can "
                "open: copy the file from before this checkout opened it there"
            )
        print(f"{twin} kept: {database} is at a schema newer than {against} knows")
        return twin
    if not twin.exists() or twin.stat().st_mtime < database.stat().st_mtime:
        shutil.copyfile(database, twin)
        wal = database.with_name(database.name + ".wal")
        if wal.exists():
            shutil.copyfile(wal, twin.with_name(twin.name + ".wal"))
    return twin


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Every analytics route over HTTP (the older ones vs bare SQL)"
    )
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--memory-limit", default="64MB", help="DuckDB memory_limit for both sides")
    parser.add_argument("--database", type=Path, help="the bench file (generated when missing, else reused)")
    parser.add_argument(
        "--checkout", type=Path, default=ROOT, help="serve from this checkout (default: this one)"
    )
    parser.add_argument(
        "--against",
        type=Path,
        help="also serve from this checkout (the code before), on a copy of the file, asked in turn",
    )
    parser.add_argument("--only", help="comma-separated substrings of the routes' labels to time")
    parser.add_argument("--no-bare", action="store_true", help="skip the bare SQL of the original endpoints")
    args = parser.parse_args()
    end_ms = now_ms()
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as folder:
        database = args.database or Path(folder) / "analytics.duckdb"
        prepare(database, args.events, end_ms)
        bare: dict[str, float] = {}
        if not args.no_bare:
            db = Database.open(database, threads=2, memory_limit=args.memory_limit)
            bare = {
                name: median_ms(lambda q=q: q(db.connection), args.repeats)
                for name, q in bare_questions(end_ms).items()
            }
            db.close()
        db = Database.open(database, threads=2, memory_limit=args.memory_limit)
        lead_id = db.connection.execute(
            "SELECT lead_id FROM leads JOIN lead_attribution USING (lead_id) ORDER BY touches DESC, lead_id LIMIT 1"
        ).fetchall()[0][0]
        db.close()
        asked = routes(lead_id)
        if args.only:
            wanted = args.only.split(",")
            asked = [route for route in asked if any(w in route[0] for w in wanted)]

        served: dict[str, dict[str, float]] = {}
        twin = twin_of(database, args.against) if args.against else None  # before the file is served
        with ExitStack() as servers:
            clients = {"now": servers.enter_context(keyed_client(database, args.memory_limit, args.checkout))}
            if args.against and twin is not None:
                clients["before"] = servers.enter_context(keyed_client(twin, args.memory_limit, args.against))
            for label, path, params in asked:

                def asker(
                    http: httpx.Client, path: str = path, params: dict[str, Any] = params
                ) -> Callable[[], None]:
                    return lambda: http.get(f"/analytics/{path}", params=params).raise_for_status()

                served[label] = paired_ms({name: asker(http) for name, http in clients.items()}, args.repeats)

    source = "this checkout" if args.checkout == ROOT else str(args.checkout)
    print(f"\n{args.events:,} events, DuckDB memory_limit {args.memory_limit}, threads 2, median of "
          f"{args.repeats} warm runs, served from {source}"
          f"{f' and, in turn, from {args.against} (before)' if args.against else ''}\n")  # fmt: skip
    if args.against:
        print("| route | parameters | before ms | now ms | now / before | under 300 ms |")
        print("|---|---|---:|---:|---:|---|")
    else:
        print("| route | parameters | HTTP ms | bare SQL ms | under 300 ms |")
        print("|---|---|---:|---:|---|")
    for label, path, params in asked:
        shown = ", ".join(f"{k}={'&'.join(v) if isinstance(v, list) else v}" for k, v in params.items())
        route = f"/analytics/{path}{' ' if shown else ''}{shown}"
        took = served[label]["now"]
        under = "yes" if took < 300 else "NO"
        if args.against:
            before = served[label]["before"]
            print(f"| {label} | {route} | {before:.1f} | {took:.1f} | {took / before:.2f} | {under} |")
        else:
            base = bare.get(label)
            print(
                f"| {label} | {route} | {took:.1f} | {f'{base:.1f}' if base is not None else ''} | {under} |"
            )


if __name__ == "__main__":
    main()
