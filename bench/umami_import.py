"""`pulsegate import umami` at scale: throughput, the importing process's memory, and tracking beside it.

Run from the repository root (Debian's `postgresql` package installed, as `.ci/run` does):

    python bench/umami_import.py --events 1000000

It starts a throwaway PostgreSQL (tests/e2e/umami_db.py: a temporary data directory and port, as
`nobody` when root) and generates two Umami databases inside it with `generate_series` (Umami's
current schema, 60 days of one website: visits of 1 to 7 events, 15% custom events with two
event_data rows each, UTM-tagged and referred landings, two visits per Umami session): `--events`
events, and a quarter of that. Each size is then imported by the real CLI, as a subprocess:

- offline, into a fresh DuckDB file;
- into a running `pulsegate serve` (its control socket), while a client sends `POST /track/event`
  at a steady `--rate` (open loop: each request leaves at its scheduled time, on its own
  connection if the one before is still waiting); their latency during the import is compared
  with the `--baseline-seconds` before it, on the same server.

For every import: wall time, Umami events per second, the CLI process's peak RSS (the kernel's
high-water mark of its memory, VmHWM in /proc/PID/status, read every 0.1 s until it exits: not
wait4's `ru_maxrss`, which keeps the RSS of the forking bench process, carried over the exec)
and, into the server, the server worker's RSS. The peak RSS at `--events` is divided by the one
at a quarter of it, measured in the same run: about 1 when the import streams. Then each import runs a second time: it must add nothing (the file's
imported sessions are counted before and after), and its time is reported. Last, a resumed
import: a fresh offline import of the small database is interrupted with SIGINT at half its time,
run again, and must end with every visit and event exactly once. Every import is checked against
the source: sessions = Umami visits, events = Umami page views and custom events.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ingest import rss_mb, start_pulsegate, stop, worker_pid
from tests.e2e.running_server import free_port, pulsegate_command
from tests.e2e.umami_db import CURRENT_SCHEMA, create_database, postgres_bin, running_postgres

WEBSITE_ID = "5ca1ab1e-0000-4000-8000-000000000001"
DOMAIN = "example.org"
DAYS = 60
SESSIONS = 20  # tracked sessions the latency client's events go to

GENERATE = """
SELECT setseed(0.19);
INSERT INTO website (website_id, name, domain, created_at)
VALUES (%(website)s, 'Bench site', %(domain)s, %(start)s::timestamptz - interval '1 day');
CREATE TEMP TABLE visits AS
SELECT v, md5('visit' || v)::uuid AS visit_id,
       md5('session' || (v %% (%(visits)s / 2)))::uuid AS session_id,
       %(start)s::timestamptz + (v::float8 / %(visits)s * %(days)s * 86400 + random() * 3600) * interval '1 second'
           AS started_at,
       1 + v %% 7 AS events
FROM generate_series(0, %(visits)s - 1) AS v;
INSERT INTO session (session_id, website_id, browser, os, device, screen, language, country, created_at)
SELECT md5('session' || s)::uuid, %(website)s,
       (ARRAY['chrome', 'ios', 'firefox', 'edge-chromium', 'samsung', 'safari'])[1 + floor(random() * 6)::int],
       (ARRAY['Windows 10', 'Mac OS', 'iOS', 'Android OS', 'Linux'])[1 + floor(random() * 5)::int],
       (ARRAY['desktop', 'laptop', 'mobile', 'tablet'])[1 + floor(random() * 4)::int],
       (ARRAY['1920x1080', '390x844', '1440x900', '800x1280'])[1 + floor(random() * 4)::int],
       (ARRAY['en-US', 'de', 'fr-FR', 'es'])[1 + floor(random() * 4)::int],
       (ARRAY['DE', 'US', 'FR', 'GB', 'CH', 'IN'])[1 + floor(random() * 6)::int],
       %(start)s::timestamptz
FROM generate_series(0, %(visits)s / 2 - 1) AS s;
INSERT INTO website_event (event_id, website_id, session_id, visit_id, created_at, url_path, url_query,
                           utm_source, utm_medium, utm_campaign, referrer_path, referrer_domain, page_title,
                           event_type, event_name, hostname)
SELECT gen_random_uuid(), %(website)s, session_id, visit_id,
       started_at + (n - 1) * (20 + random() * 100) * interval '1 second',
       CASE WHEN r.path < 0.5 THEN (ARRAY['/', '/pricing', '/docs', '/about', '/signup'])[1 + floor(r.path * 10)::int]
            ELSE '/blog/post-' || floor(r.path * 400)::int END,
       CASE WHEN n = 1 AND r.tag < 0.2 THEN 'utm_source=newsletter&utm_medium=email&utm_campaign=spring' END,
       CASE WHEN n = 1 AND r.tag < 0.2 THEN 'newsletter' END,
       CASE WHEN n = 1 AND r.tag < 0.2 THEN 'email' END,
       CASE WHEN n = 1 AND r.tag < 0.2 THEN 'spring' END,
       '/',
       CASE WHEN n > 1 THEN %(domain)s
            ELSE (ARRAY[NULL, NULL, 'google.com', 'news.ycombinator.com', 'reddit.com', 't.co', 'other-site.net'])
                 [1 + floor(r.referrer * 7)::int] END,
       'Example page ' || floor(r.path * 40)::int,
       CASE WHEN n > 1 AND r.kind < 0.15 THEN 2 ELSE 1 END,
       CASE WHEN n > 1 AND r.kind < 0.15 THEN (ARRAY['signup', 'download', 'play'])[1 + floor(r.kind * 20)::int] END,
       %(domain)s
FROM visits, generate_series(1, events) AS n,
     LATERAL (SELECT random() + n * 0 AS path, random() + n * 0 AS tag, random() + n * 0 AS referrer,
                     random() + n * 0 AS kind) AS r;
INSERT INTO event_data (event_data_id, website_id, website_event_id, data_key, string_value, number_value,
                        data_type, created_at)
SELECT gen_random_uuid(), e.website_id, e.event_id, d.data_key, d.string_value, d.number_value, d.data_type,
       e.created_at
FROM website_event e,
     (VALUES ('plan', 'pro', NULL::numeric, 1), ('seats', '2.0000', 2.0, 2))
         AS d (data_key, string_value, number_value, data_type)
WHERE e.event_type = 2;
"""


def generate_umami(base_url: str, name: str, events: int, start: datetime) -> tuple[str, int, int]:
    """A database `name` with Umami's current schema and about `events` events of one website
    (visits of 1 to 7 events, 4 on average); returns its URL, its visits and its events.
    Tables are filled first and indexed after, as a restore would."""
    url = create_database(base_url, name)
    statements = [s.strip() for s in CURRENT_SCHEMA.split(";") if s.strip()]
    indexes = [s for s in statements if s.startswith("CREATE INDEX")]
    visits = max(7, events // 4 // 7 * 7)  # a multiple of 7: exactly 4 events a visit on average
    params = {"website": WEBSITE_ID, "domain": DOMAIN, "start": start, "visits": visits, "days": DAYS}
    with psycopg.connect(url, autocommit=True, cursor_factory=psycopg.ClientCursor) as connection:
        for statement in statements:
            if statement not in indexes:
                connection.execute(statement)
        with connection.transaction():
            for statement in (s.strip() for s in GENERATE.split(";\n")):
                if statement:
                    connection.execute(statement, params)  # type: ignore[call-overload]
        for statement in indexes:
            connection.execute(statement)
        connection.execute("VACUUM ANALYZE")  # a live Umami has statistics and a visibility map
        counted = connection.execute(
            "SELECT count(DISTINCT visit_id), count(*) FROM website_event WHERE event_type IN (1, 2)"
        ).fetchall()[0]
    return url, int(counted[0]), int(counted[1])


# ---- one import, as a subprocess -----------------------------------------------------------------


@dataclass
class Run:
    """One `pulsegate import umami` process."""

    seconds: float
    peak_rss_mb: float  # VmHWM of the process, last read before it exited
    returncode: int
    result: list[dict[str, Any]]  # its --json answer ([] when interrupted)
    rss_series: list[float] = field(default_factory=list)  # VmRSS every 0.1 s
    server_rss_mb: tuple[float, float] = (0.0, 0.0)  # the server worker's, before / max during

    @property
    def events(self) -> int:
        return sum(item["events"] for item in self.result)

    @property
    def sessions(self) -> int:
        return sum(item["sessions"] for item in self.result)


def memory_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of a process in MB; (0, 0) once it has exited."""
    found = dict.fromkeys(("VmRSS:", "VmHWM:"), 0.0)
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, *value = line.split()
        if name in found:
            found[name] = int(value[0]) / 1024
    return found["VmRSS:"], found["VmHWM:"]


def import_umami(
    database: Path, url: str, *, server_pid: int | None = None, interrupt_after: float | None = None
) -> Run:
    """Run the CLI on `database` (offline, or through the server holding it), sampling its memory
    until it exits. `interrupt_after`: send SIGINT (Ctrl-C) after that many seconds."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            pulsegate_command("import", "umami", "--from", url, "--json", "--database", str(database)),
            stdout=out, stderr=err,
        )  # fmt: skip
        series: list[float] = []
        peak = [0.0]
        server: list[float] = [rss_mb(server_pid)] if server_pid else []
        done = threading.Event()

        def sample() -> None:
            nonlocal interrupt_after
            while not done.wait(0.1):
                try:
                    rss, hwm = memory_mb(process.pid)
                    if server_pid:
                        server.append(rss_mb(server_pid))
                except OSError:  # reaped
                    return
                if rss:
                    series.append(rss)
                    peak[0] = max(peak[0], hwm)
                if interrupt_after is not None and time.perf_counter() - started >= interrupt_after:
                    process.send_signal(signal.SIGINT)  # once: the import then writes nothing more
                    interrupt_after = None

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        process.wait()
        seconds = time.perf_counter() - started
        done.set()
        sampler.join()
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if process.returncode not in (0, 130):
        raise RuntimeError(f"pulsegate import umami exited with {process.returncode}: {stderr}")
    return Run(
        seconds=seconds,
        peak_rss_mb=peak[0],
        returncode=process.returncode,
        result=json.loads(stdout) if process.returncode == 0 else [],
        rss_series=series,
        server_rss_mb=(server[0], max(server)) if server else (0.0, 0.0),
    )


def imported_counts(database: Path) -> tuple[int, int]:
    """(sessions, events) of imported visits in the file (the server must not hold it)."""
    with duckdb.connect(str(database), read_only=True) as connection:
        sessions = connection.execute(
            "SELECT count(*) FROM sessions WHERE session_id LIKE 'umami-%'"
        ).fetchone()
        events = connection.execute("SELECT count(*) FROM events WHERE session_id LIKE 'umami-%'").fetchone()
    assert sessions is not None and events is not None
    return int(sessions[0]), int(events[0])


def new_file(folder: Path, name: str) -> Path:
    """A fresh PulseGate file (made by the CLI, as a person's first command would)."""
    path = folder / f"{name}.duckdb"
    subprocess.run(pulsegate_command("keys", "create", "setup", "--quiet", "--database", str(path)),
                   check=True, capture_output=True)  # fmt: skip
    return path


# ---- tracking latency beside it -----------------------------------------------------------------


class Tracker:
    """`POST /track/event` at a steady rate, open loop, from its own thread and event loop; keeps
    (scheduled time, latency ms, status) of every request."""

    def __init__(self, base_url: str, rate: float) -> None:
        self.base_url = base_url
        self.rate = rate
        self.samples: list[tuple[float, float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)
        self._sessions = [
            httpx.post(f"{base_url}/track/session/start", json={"url": f"https://{DOMAIN}/"}).json()[
                "session_id"
            ]
            for _ in range(SESSIONS)
        ]

    def __enter__(self) -> Tracker:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    async def _run(self) -> None:
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
        async with httpx.AsyncClient(base_url=self.base_url, limits=limits, timeout=30) as client:
            pending: set[asyncio.Task[None]] = set()
            at = time.monotonic()
            n = 0
            while not self._stop.is_set():
                await asyncio.sleep(max(0.0, at - time.monotonic()))
                task = asyncio.create_task(self._send(client, at, n))
                pending.add(task)
                task.add_done_callback(pending.discard)
                at += 1 / self.rate
                n += 1
            await asyncio.gather(*pending)

    async def _send(self, client: httpx.AsyncClient, scheduled: float, n: int) -> None:
        body = {"session_id": self._sessions[n % SESSIONS], "type": "pageview",
                "url": f"https://{DOMAIN}/pricing?n={n}", "title": "Pricing"}  # fmt: skip
        try:
            status = (await client.post("/track/event", json=body)).status_code
        except httpx.HTTPError:
            status = 0
        self.samples.append((scheduled, (time.monotonic() - scheduled) * 1000, status))

    def between(self, start: float, end: float) -> dict[str, float]:
        """p50, p99, max (ms), requests and errors of the requests scheduled in [start, end)."""
        chosen = [(ms, status) for at, ms, status in self.samples if start <= at < end]
        latencies = sorted(ms for ms, _ in chosen)
        return {
            "p50": statistics.median(latencies),
            "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
            "max": latencies[-1],
            "requests": len(chosen),
            "errors": sum(1 for _, status in chosen if status != 200),
        }


# ---- the run ------------------------------------------------------------------------------------------


@dataclass
class Source:
    name: str
    url: str
    visits: int
    events: int


def check(database: Path, source: Source, label: str) -> None:
    got = imported_counts(database)
    assert got == (source.visits, source.events), (
        f"{label}: imported {got}, Umami has {source.visits, source.events}"
    )


def offline(folder: Path, source: Source) -> tuple[Run, Run]:
    database = new_file(folder, f"offline-{source.name}")
    first = import_umami(database, source.url)
    check(database, source, f"offline {source.name}")
    second = import_umami(database, source.url)
    check(database, source, f"offline {source.name}, second run")
    assert (second.sessions, second.events) == (0, 0), second.result
    print(f"  offline {source.name}: {first.seconds:.1f} s, second run {second.seconds:.1f} s", flush=True)
    return first, second


def served(
    folder: Path, source: Source, args: argparse.Namespace
) -> tuple[Run, Run, dict[str, dict[str, float]]]:
    database = folder / f"served-{source.name}.duckdb"
    port = free_port()
    process = start_pulsegate(database, port)
    try:
        pid = worker_pid(process.pid)
        with Tracker(f"http://127.0.0.1:{port}", args.rate) as tracker:
            time.sleep(1)  # connections opened, the loop steady
            before = time.monotonic()
            time.sleep(args.baseline_seconds)
            started = time.monotonic()
            first = import_umami(database, source.url, server_pid=pid)
            ended = time.monotonic()
            second = import_umami(database, source.url, server_pid=pid)
        latency = {"before": tracker.between(before, started), "during": tracker.between(started, ended)}
    finally:
        stop(process)
    check(database, source, f"served {source.name}")
    assert (second.sessions, second.events) == (0, 0), second.result
    print(f"  served {source.name}: {first.seconds:.1f} s, second run {second.seconds:.1f} s", flush=True)
    return first, second, latency


def resumed(folder: Path, source: Source, after: float) -> tuple[Run, Run]:
    database = new_file(folder, f"resumed-{source.name}")
    stopped = import_umami(database, source.url, interrupt_after=after)
    assert stopped.returncode == 130, "the import ended before the interrupt: raise the size"
    partial = imported_counts(database)
    rest = import_umami(database, source.url)
    check(database, source, "resumed")
    (item,) = rest.result
    assert item["continued"] and item["skipped"] == 0 and rest.sessions == source.visits - partial[0], item
    print(f"  resumed: {partial[0]:,} visits before SIGINT, {rest.sessions:,} after", flush=True)
    return stopped, rest


def main() -> None:
    parser = argparse.ArgumentParser(
        description="pulsegate import umami: throughput, memory, tracking beside it"
    )
    parser.add_argument("--events", type=int, default=1_000_000, help="Umami events of the large database")
    parser.add_argument(
        "--rate", type=float, default=50, help="tracking requests per second beside the import"
    )
    parser.add_argument("--baseline-seconds", type=float, default=15)
    args = parser.parse_args()
    if postgres_bin() is None:
        sys.exit("PostgreSQL is not installed (apt-get install postgresql)")
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start = today - timedelta(days=DAYS + 3)  # every visit long before the import's cut-off
    with running_postgres() as base, tempfile.TemporaryDirectory(prefix="pulsegate-umami-bench-") as tmp:
        folder = Path(tmp)
        sources = []
        for name, events in (("small", args.events // 4), ("large", args.events)):
            began = time.perf_counter()
            url, visits, made = generate_umami(base, f"umami_{name}", events, start)
            sources.append(Source(name, url, visits, made))
            print(f"Generated {made:,} Umami events ({visits:,} visits) in {time.perf_counter() - began:.1f} s",
                  flush=True)  # fmt: skip
        small = sources[0]
        runs: dict[tuple[str, str], tuple[Run, Run]] = {}
        latencies: dict[str, dict[str, dict[str, float]]] = {}
        for source in sources:
            runs["offline", source.name] = offline(folder, source)
        for source in sources:
            *pair, latencies[source.name] = served(folder, source, args)
            runs["server", source.name] = (pair[0], pair[1])
        interrupted = resumed(folder, small, runs["offline", "small"][0].seconds / 2)
    report(sources, runs, latencies, interrupted, args)


def report(
    sources: list[Source],
    runs: dict[tuple[str, str], tuple[Run, Run]],
    latencies: dict[str, dict[str, dict[str, float]]],
    interrupted: tuple[Run, Run],
    args: argparse.Namespace,
) -> None:
    by_name = {source.name: source for source in sources}
    print(f"\nUmami events per database: {by_name['small'].events:,} and {by_name['large'].events:,} "
          f"({by_name['small'].visits:,} and {by_name['large'].visits:,} visits), {DAYS} days\n")  # fmt: skip
    print(
        "| into | Umami events | wall s | events/s | CLI peak RSS MB | CLI RSS MB median / last "
        "| server RSS MB before / max | second run s (added) |"
    )
    print("|---|---:|---:|---:|---:|---|---|---|")
    for (target, _), (first, second) in runs.items():
        series = first.rss_series or [0.0]
        server = f"{first.server_rss_mb[0]:.0f} / {first.server_rss_mb[1]:.0f}" if target == "server" else "-"
        print(
            f"| {'offline file' if target == 'offline' else 'running server'} | {first.events:,} "
            f"| {first.seconds:.1f} | {first.events / first.seconds:,.0f} | {first.peak_rss_mb:.0f} "
            f"| {statistics.median(series):.0f} / {series[-1]:.0f} | {server} "
            f"| {second.seconds:.1f} ({second.sessions} sessions, {second.events} events) |"
        )
    for target in ("offline", "server"):
        small, large = runs[target, "small"][0], runs[target, "large"][0]
        print(f"\n{target}: peak RSS at {by_name['large'].events:,} / at {by_name['small'].events:,} events: "
              f"{large.peak_rss_mb:.0f} / {small.peak_rss_mb:.0f} MB = {large.peak_rss_mb / small.peak_rss_mb:.2f}")  # fmt: skip
    print(f"\nTracking: POST /track/event at {args.rate:g}/s, open loop, {args.baseline_seconds:g} s before "
          "each import into the server and all through it\n")  # fmt: skip
    print("| import | phase | requests | p50 ms | p99 ms | max ms | errors |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for name, phases in latencies.items():
        for phase, stats in phases.items():
            print(f"| {by_name[name].events:,} events | {phase} | {stats['requests']:,} | {stats['p50']:.1f} "
                  f"| {stats['p99']:.1f} | {stats['max']:.1f} | {stats['errors']} |")  # fmt: skip
    stopped, rest = interrupted
    print(f"\nResumed: SIGINT after {stopped.seconds:.1f} s (exit {stopped.returncode}), the same command then "
          f"added {rest.sessions:,} visits / {rest.events:,} events in {rest.seconds:.1f} s; the file holds "
          f"each of the {by_name['small'].visits:,} visits once.")  # fmt: skip


if __name__ == "__main__":
    main()
