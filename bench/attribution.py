"""Lead attribution benchmark: GET /analytics/attribution at 10M events and 100k leads, and what
attribution adds to a lead's capture.

Run from the repository root:

    git worktree add /tmp/pulsegate-before 60c94a7     # the last commit before issue 18
    python bench/attribution.py --events 10000000 --before /tmp/pulsegate-before

It reuses the traffic of bench/reports.py (the file is made when missing) in two copies:

- the attribution report: 100,000 leads are added over the 30 days, each credited to its
  visitor's sessions of the 90 days before it (as a capture would), 30% qualified and 10% won
  with a value, 10% spam; then every model (first, last, linear) by source, campaign and landing
  page is asked over HTTP (warm, the median of `--repeats`) and as bare SQL over the same tables
  (leads, qualified, won, revenue per currency and sessions per value: the core of the answer
  without lead quality). The answers must agree before the times are compared.
- capture latency: `--captures` leads posted one after another to a running server, each as a
  returning visitor's browser sends it (a new session with the visitor's id, `form_start`, the
  lead 50 ms later), timed at the client; against the code of `--before` on a copy of the file
  at its older schema, both servers running at once and asked in turn (pairs, not blocks: this
  VM is shared and its speed drifts).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.analytics import keyed_client
from bench.ingest import free_port, start_pulsegate, stop
from bench.reports import bench_file, measured
from pulsegate.domain.periods import resolve_window
from pulsegate.domain.timestamps import now_ms, utc_datetime
from pulsegate.domain.visitor import visitor_id, visitor_key
from pulsegate.store.database import Database

ROOT = Path(__file__).resolve().parent.parent
LEADS = 100_000
FILL_MS = 50  # from a form's form_start to its capture (paired_capture_latencies)
BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/124.0.0.0 Safari/537.36"}  # fmt: skip
MODELS = ("first", "last", "linear")
DIMENSIONS = {"source": "source", "utm_campaign": "utm_campaign", "landing_page": "entry_path"}

# 100k leads, each from a random real session, created two minutes after it started; their touches
# are the visitor's sessions of the 90 days before (what LeadService does at capture, in SQL).
ADD_LEADS = """
CREATE OR REPLACE TEMP TABLE picked AS
SELECT session_id, visitor_id, project, started_at + INTERVAL 2 MINUTE AS created_at, source,
       (hash(session_id) % 1000) / 1000.0 AS r, engagement_score, is_hosting
FROM (SELECT * FROM sessions WHERE NOT is_bot AND started_at < ?) USING SAMPLE reservoir({leads} ROWS) REPEATABLE (7);
INSERT INTO leads (lead_id, submission_id, created_at, project, session_id, visitor_id, traffic_source, email,
                   is_spam, status, stage, stage_value, stage_currency, stage_at)
SELECT 'bench-' || session_id, 'bench-' || session_id, created_at, project, session_id, visitor_id, source,
       'x@example.com', r < 0.1, CASE WHEN r < 0.1 THEN 'spam' ELSE 'new' END,
       CASE WHEN r >= 0.9 THEN 'won' WHEN r >= 0.6 THEN 'qualified' END,
       CASE WHEN r >= 0.9 THEN [500.0, 1200.0, 3000.0][1 + (hash(session_id) % 3)::INTEGER] END,
       CASE WHEN r >= 0.9 THEN ['EUR', 'USD'][1 + (hash(visitor_id) % 2)::INTEGER] END,
       CASE WHEN r >= 0.6 THEN created_at + INTERVAL 1 DAY END
FROM picked ORDER BY created_at;
INSERT INTO lead_stages (lead_id, stage, happened_at, received_at)
SELECT 'bench-' || session_id, 'qualified', created_at + INTERVAL 1 DAY, created_at + INTERVAL 1 DAY
FROM picked WHERE r >= 0.6;
CREATE OR REPLACE TEMP TABLE touched AS
SELECT 'bench-' || p.session_id AS lead_id, s.session_id, s.started_at, s.source, s.referrer_host, s.utm_source,
       s.utm_medium, s.utm_campaign, s.entry_path, s.country, s.device, p.created_at,
       row_number() OVER (PARTITION BY p.session_id ORDER BY s.started_at, s.session_id) AS position,
       s.session_id = p.session_id AS converting
FROM picked p JOIN sessions s ON s.visitor_id = p.visitor_id AND s.project IS NOT DISTINCT FROM p.project
 AND s.started_at BETWEEN p.created_at - INTERVAL 90 DAY AND p.created_at AND (NOT s.is_bot OR s.session_id = p.session_id);
INSERT INTO lead_attribution (lead_id, touches, first_touch, last_touch, touch_list, time_to_convert_ms,
                              converting_score, from_hosting)
SELECT counted.lead_id, counted.n, 1, counted.last, counted.list, counted.ttc, p.engagement_score, p.is_hosting
FROM (
    SELECT t.lead_id, count(*) AS n, coalesce(last.non_direct, last.converting) AS last,
           list({'touched_at': t.started_at, 'session_id': t.session_id, 'source': t.source,
                 'referrer_host': t.referrer_host, 'utm_source': t.utm_source, 'utm_medium': t.utm_medium,
                 'utm_campaign': t.utm_campaign, 'utm_term': NULL, 'utm_content': NULL, 'landing_page': t.entry_path,
                 'click_ids': NULL, 'country': t.country, 'device': t.device} ORDER BY t.position) AS list,
           max(epoch_ms(t.created_at)) - min(epoch_ms(t.started_at)) AS ttc
    FROM touched t JOIN (
        SELECT lead_id, max(position) FILTER (WHERE source <> 'Direct') AS non_direct,
               max(position) FILTER (WHERE converting) AS converting
        FROM touched GROUP BY lead_id
    ) AS last USING (lead_id)
    GROUP BY t.lead_id, last.non_direct, last.converting
) AS counted JOIN picked p ON counted.lead_id = 'bench-' || p.session_id
ORDER BY counted.lead_id;
"""

# The core of the report by hand: credited leads, qualified, won, revenue per currency, sessions.
BARE = """
WITH chosen AS (
    SELECT lead_id, is_spam, touches, touch_list, first_touch, last_touch, stage, stage_value, stage_currency,
           lead_id IN (SELECT lead_id FROM lead_stages WHERE stage IN ('qualified', 'won')) AS qualified
    FROM leads JOIN lead_attribution USING (lead_id) WHERE created_at >= ? AND created_at < ?
), credited AS (
    SELECT * EXCLUDE (touch), touch.{column} AS value FROM (SELECT *, {which} AS touch, {weight} AS w FROM chosen)
), sessions_by AS (
    SELECT {session_column} AS value, count(*) AS n FROM sessions
    WHERE started_at >= ? AND started_at < ? AND NOT is_bot GROUP BY 1
)
SELECT value, sum(w) FILTER (WHERE NOT is_spam), sum(w) FILTER (WHERE NOT is_spam AND qualified),
       sum(w) FILTER (WHERE NOT is_spam AND stage = 'won'),
       (SELECT n FROM sessions_by s WHERE s.value IS NOT DISTINCT FROM credited.value),
       sum(w * stage_value) FILTER (WHERE NOT is_spam AND stage = 'won' AND stage_currency = 'EUR')
FROM credited GROUP BY value
"""
WEIGHTS = {
    "first": ("touch_list[first_touch]", "1.0"),
    "last": ("touch_list[last_touch]", "1.0"),
    "linear": ("unnest(touch_list)", "1.0 / touches"),
}


def prepare(source: Path, folder: Path, end_ms: int, leads: int) -> tuple[Path, Path]:
    """Two copies of the bench file: one migrated with the 100k leads and their touches, one at its
    older schema with the same leads (no touches) for the code before attribution."""
    after, before = folder / "attribution-after.duckdb", folder / "attribution-before.duckdb"
    for target in (after, before):
        if not target.exists():
            shutil.copyfile(source, target)
            wal = source.with_name(source.name + ".wal")
            if wal.exists():
                shutil.copyfile(wal, target.with_name(target.name + ".wal"))
    db = Database.open(after, threads=2, memory_limit="2GB")
    if db.connection.execute("SELECT count(*) FROM lead_attribution").fetchall()[0][0] == 0:
        started = time.perf_counter()
        first, *rest = [part for part in ADD_LEADS.replace("{leads}", str(leads)).split(";") if part.strip()]
        db.connection.execute(first, [utc_datetime(end_ms - 600_000)])
        for statement in rest:
            db.connection.execute(statement)
        db.connection.execute("CHECKPOINT")
        print(f"Added {leads:,} leads and their touches in {time.perf_counter() - started:.0f} s")
    counts = db.connection.execute(
        "SELECT (SELECT count(*) FROM leads), (SELECT sum(touches) FROM lead_attribution), "
        "(SELECT count(*) FROM leads WHERE stage = 'won')"
    ).fetchall()[0]
    print(f"Leads {counts[0]:,}, touches {counts[1]:,}, won {counts[2]:,}")
    db.close()
    # The older copy: the same number of leads, so a capture's duplicate check costs the same.
    old = duckdb.connect(str(before))
    if old.execute("SELECT count(*) FROM leads").fetchall()[0][0] < leads:
        old.execute(
            "INSERT INTO leads (lead_id, submission_id, created_at, project, session_id, visitor_id, email) "
            f"SELECT 'bench-' || session_id, 'bench-' || session_id, started_at, project, session_id, "
            f"visitor_id, 'x@example.com' FROM sessions USING SAMPLE reservoir({leads} ROWS) REPEATABLE (7)"
        )
        old.execute("CHECKPOINT")
    old.close()
    return after, before


def returning_sessions(database: Path, count: int, end_ms: int) -> list[tuple[str, str]]:
    """(session id, the visitor's id as its browser keeps it) of returning visitors' sessions.

    The generator's session ids carry no time, so the server finds them among the last two days'
    sessions only (store/tracking.session_match): the sessions are picked there. Its visitor ids
    are plain text; a tracker's are the salted hash of the id the browser keeps, which form.js
    sends with the lead: the picked visitors' sessions get that hash (and its key). The older
    code reads neither, so its copy is left as it is.
    """
    connection = duckdb.connect(str(database))
    picked = connection.execute(
        "SELECT session_id, visitor_id FROM sessions WHERE NOT is_bot AND started_at >= ? AND visitor_id IN "
        "(SELECT visitor_id FROM sessions GROUP BY visitor_id HAVING count(*) >= 3) "
        "ORDER BY hash(session_id) LIMIT ?",
        [utc_datetime(end_ms - 40 * 3_600_000), count],
    ).fetchall()
    salt = connection.execute("SELECT value FROM meta WHERE key = 'secret:visitor_salt'").fetchall()[0][0]
    hashed = {raw: visitor_id(salt, visitor_header=raw, fingerprint_header=None, client_ip="", user_agent="")
              for _, raw in picked}  # fmt: skip
    connection.executemany(
        "UPDATE sessions SET visitor_id = ?, visitor_key = ? WHERE visitor_id = ?",
        [(new, visitor_key(new), raw) for raw, new in hashed.items()],
    )
    connection.execute("CHECKPOINT")
    connection.close()
    return picked


def paired_capture_latencies(
    sides: dict[str, tuple[Path, Path]], visitors: list[str], tag: str, form_start: bool = True
) -> dict[str, list[float]]:
    """Milliseconds per capture on each side ({name: (database, checkout)}), both servers running
    at once, each lead as a browser sends it: the returning visitor (its browser id) opens a page
    (a new session), starts the form (`form_start`), fills it in (FILL_MS) and sends it with its
    session id and visitor id (without `form_start`, as a site without form.js or pulse.js
    sends it, when `form_start` is false). Only the capture is timed, one at a time, the sides in
    turn.

    Pairs, not blocks: this VM's speed drifts by 10-20% over minutes, which blocks of one side and
    then the other measured as a difference between the codes (1.11 and 1.22 in two runs of the
    same code). Each pair asks the sides in the opposite order to the pair before.
    """
    servers = {}
    try:
        for name, (database, checkout) in sides.items():
            port = free_port()
            servers[name] = (start_pulsegate(database, port, checkout), port)
        clients = {name: httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30, headers=BROWSER)
                   for name, (_, port) in servers.items()}  # fmt: skip
        took: dict[str, list[float]] = {name: [] for name in sides}
        names = list(sides)
        for n, browser_id in enumerate(visitors):
            opened = {}
            for name, http in clients.items():
                started = http.post("/track/session/start", headers={"X-Visitor-ID": browser_id},
                                    json={"url": f"https://bench.example/contact?n={n}"})  # fmt: skip
                started.raise_for_status()
                opened[name] = started.json()["session_id"]
                if not form_start:
                    continue
                http.post("/track/event", json={"session_id": opened[name], "type": "form_start",
                                                "name": "contact", "url": "https://bench.example/contact"}
                          ).raise_for_status()  # fmt: skip
            time.sleep(FILL_MS / 1000)
            for name in names if n % 2 else reversed(names):
                body = {"submission_id": f"cap-{tag}-{name}-{n:06d}", "email": f"c{n}@example.com",
                        "session_id": opened[name], "visitor_id": browser_id, "elapsed_ms": 9000}  # fmt: skip
                started_at = time.perf_counter()
                response = clients[name].post("/lead.capture", json=body)
                took[name].append((time.perf_counter() - started_at) * 1000)
                response.raise_for_status()
        for client in clients.values():
            client.close()
    finally:
        for process, _ in servers.values():
            stop(process)
    return {name: samples[10:] for name, samples in took.items()}  # the first few warm the caches


def percentile(samples: list[float], q: float) -> float:
    return statistics.quantiles(samples, n=100)[int(q) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description="The attribution report and capture latency")
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--captures", type=int, default=600)
    parser.add_argument("--memory-limit", default="64MB", help="DuckDB memory_limit for both sides")
    parser.add_argument("--before", type=Path, help="a checkout of the code before attribution")
    parser.add_argument("--folder", type=Path, default=Path(os.environ.get("BENCH_TMP", "/tmp")))
    parser.add_argument("--leads", type=int, default=LEADS)
    parser.add_argument(
        "--database", type=Path, help="the bench file of bench/reports.py (made when missing)"
    )
    args = parser.parse_args()
    end_ms = now_ms()
    source = bench_file(args.events, args.database, end_ms)
    after, before = prepare(source, args.folder, end_ms, args.leads)
    window = resolve_window({"period": "30d"}, end_ms)
    bounds = [utc_datetime(window.start_ms), utc_datetime(window.end_ms)]

    db = Database.open(after, threads=2, memory_limit=args.memory_limit)
    cursor = db.connection.cursor()
    bare: dict[tuple[str, str], float | None] = {}
    expected: dict[tuple[str, str], Any] = {}
    for model in MODELS:
        for dimension, session_column in DIMENSIONS.items():
            which, weight = WEIGHTS[model]
            sql = BARE.format(column="landing_page" if dimension == "landing_page" else dimension,
                              session_column=session_column, which=which, weight=weight)  # fmt: skip
            params = [*bounds, *bounds]
            bare[model, dimension] = measured(lambda sql=sql, params=params: cursor.execute(sql, params).fetchall(),
                                              args.repeats, f"bare {model} {dimension}")  # fmt: skip
            expected[model, dimension] = {row[0]: row[1:] for row in cursor.execute(sql, params).fetchall()}
    db.close()

    served: dict[tuple[str, str], float | None] = {}
    period = {"from": str(window.start_ms), "to": str(window.end_ms), "limit": "1000"}
    with keyed_client(after, args.memory_limit) as http:
        for model in MODELS:
            for dimension in DIMENSIONS:
                params = {**period, "model": model, "dimension": dimension}
                answer: dict[str, Any] = {}

                def ask(params: dict[str, str] = params, answer: dict[str, Any] = answer) -> None:
                    response = http.get("/analytics/attribution", params=params)
                    response.raise_for_status()
                    answer.update(response.json())

                served[model, dimension] = measured(ask, args.repeats, f"{model} {dimension}")
                got = {row["value"]: row for row in answer["rows"]}
                for value, numbers in expected[model, dimension].items():
                    leads, qualified, won, sessions, eur = (float(n or 0) for n in numbers)
                    row = got[value]
                    assert abs(row["leads"] - leads) < 1e-3 and abs(row["won"] - won) < 1e-3, value
                    assert abs(row["qualified"] - qualified) < 1e-3, value
                    euros = {r["currency"]: r["amount"] for r in row["revenue"]}.get("EUR", 0)
                    assert abs(euros - eur) < 1e-2, (value, euros, eur)
                    rate = 100.0 * leads / sessions if sessions else None
                    shown = row["conversion_rate"]
                    assert (rate is None and shown is None) or abs(shown - rate) < 1e-3, (value, shown, rate)

    print(f"\n{args.events:,} events and {args.leads:,} leads over 30 days, DuckDB memory_limit {args.memory_limit}, "
          f"threads 2, median of {args.repeats} warm runs\n")  # fmt: skip
    print("| model | dimension | bare SQL ms | HTTP ms | HTTP / bare |")
    print("|---|---|---:|---:|---:|")
    for (model, dimension), took in served.items():
        base = bare[model, dimension]
        ratio = f"{took / base:.2f}" if took and base else "-"
        print(f"| {model} | {dimension} | {base or 0:.1f} | {took or 0:.1f} | {ratio} |")

    if args.before is None:
        return
    sessions = returning_sessions(after, args.captures + 10, end_ms)
    if not sessions:
        raise SystemExit(
            "No returning visitor's session in the last two days of the file to capture leads from"
        )
    visitors = [sessions[n % len(sessions)][1] for n in range(args.captures + 10)]
    sides = {"before": (before, args.before), "after": (after, ROOT)}
    for form_start in (True, False):
        runs = paired_capture_latencies(sides, visitors, f"{end_ms}-{form_start}", form_start)
        how = f"each sent {FILL_MS} ms after its form_start" if form_start else "without form_start"
        print(f"\nCapture latency, {args.captures} leads each, in pairs, one at a time, from returning "
              f"visitors' new sessions, {how}\n")  # fmt: skip
        print("| code | p50 ms | p95 ms | p99 ms | mean ms |")
        print("|---|---:|---:|---:|---:|")
        for name, took in runs.items():
            print(f"| {name} | {percentile(took, 50):.2f} | {percentile(took, 95):.2f} | "
                  f"{percentile(took, 99):.2f} | {statistics.mean(took):.2f} |")  # fmt: skip
        ratio = percentile(runs["after"], 50) / percentile(runs["before"], 50)
        pairs = statistics.median(a / b for a, b in zip(runs["after"], runs["before"], strict=True))
        print(f"\np50 after / before: {ratio:.2f}; median of the pairs' after / before: {pairs:.2f}")


if __name__ == "__main__":
    main()
