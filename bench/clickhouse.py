"""ClickHouse (chDB, in the server's process) against the DuckDB default, in one run: every
analytics route on the same data, the copy from one to the other, and ingest over HTTP.

Run from the repository root:

    python bench/clickhouse.py --events 10000000 --database /tmp/a10m.duckdb

The DuckDB file is bench/analytics.py's (generated when missing, else reused: sessions, events,
goals, a saved funnel, leads with attribution, form events). `pulsegate storage copy` puts it in a
chDB folder beside it (`<file>.chdb`; timed, reused when the copy is complete). Then a server on
each engine, both running, is asked every route of bench/analytics.py in turn, the order reversed
every round (this VM's speed drifts over minutes): the median of the warm runs of each. Both read
their event rollup, brought up to date first (chDB's: whole days, timed). A route
ClickHouse does not serve yet shows its status. Last, ingest: wrk on /track/event and on
/track/events/batch (100 events) against each engine in turn, `--rounds` times, on the prefilled
stores (ingest.py says how), with the click events each stored counted afterwards (never fewer
than acknowledged).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.analytics import paired_ms, prepare, routes
from bench.ingest import ROOT, free_port, load_both_routes, start_pulsegate, stop, worker_pid
from pulsegate.domain.timestamps import now_ms
from pulsegate.store.database import Database


def clickhouse_env(folder: Path) -> dict[str, str]:
    return {"PULSEGATE_STORAGE__ENGINE": "clickhouse", "PULSEGATE_CLICKHOUSE__URL": f"chdb://{folder}"}


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", *args], capture_output=True, text=True, check=True, cwd=ROOT,
        env={**os.environ, **(env or {})},
    )  # fmt: skip


def copy_into_chdb(database: Path, folder: Path) -> dict[str, Any]:
    """`pulsegate storage copy` of the file into chDB at `folder`, timed (a complete copy copies
    nothing when run again, and is checked all the same)."""
    started = time.perf_counter()
    done = json.loads(
        cli("storage", "copy", "--to", f"chdb://{folder}", "--database", str(database), "--json").stdout
    )
    done["wall_seconds"] = time.perf_counter() - started
    return done


@contextmanager
def served(database: Path, secret: str, env: dict[str, str], memory_limit: str) -> Iterator[httpx.Client]:
    """`pulsegate serve` on the file (env: or on chDB), and a client holding the bench's key."""
    port = free_port()
    process = start_pulsegate(
        database,
        port,
        extra_env={**env, "PULSEGATE_STORAGE__DUCKDB_MEMORY_LIMIT": memory_limit},
        healthy_within=300,
    )
    try:
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers={"X-API-Key": secret}, timeout=300
        ) as http:
            yield http
    finally:
        stop(process)


def bench_key(database: Path) -> str:
    """An API key made in the file before the copy, so the copy carries it: both servers take it,
    and the chDB store gets no row the file lacks (a rerun's copy still matches the file)."""
    return cli("keys", "create", "bench-clickhouse", "-q", "--database", str(database)).stdout.strip()


def time_routes(
    database: Path, folder: Path, secret: str, args: argparse.Namespace
) -> list[tuple[str, str, dict[str, float] | str]]:
    db = Database.open(database, threads=2, memory_limit=args.memory_limit)
    lead_id = db.connection.execute(
        "SELECT lead_id FROM leads JOIN lead_attribution USING (lead_id) ORDER BY touches DESC, lead_id LIMIT 1"
    ).fetchall()[0][0]
    db.close()
    asked = routes(lead_id)
    if args.only:
        asked = [route for route in asked if any(w in route[0] for w in args.only.split(","))]
    timed: list[tuple[str, str, dict[str, float] | str]] = []
    with ExitStack() as servers:
        clients = {
            "duckdb": servers.enter_context(served(database, secret, {}, args.memory_limit)),
            "clickhouse": servers.enter_context(
                served(database, secret, clickhouse_env(folder), args.memory_limit)
            ),
        }
        for label, path, params in asked:
            shown = ", ".join(f"{k}={'&'.join(v) if isinstance(v, list) else v}" for k, v in params.items())
            route = f"/analytics/{path}{' ' if shown else ''}{shown}"
            status = clients["clickhouse"].get(f"/analytics/{path}", params=params).status_code
            if status != 200:
                timed.append((label, route, f"{status} on ClickHouse"))
                continue

            def asker(
                http: httpx.Client, path: str = path, params: dict[str, Any] = params
            ) -> Callable[[], None]:
                return lambda: http.get(f"/analytics/{path}", params=params).raise_for_status()

            timed.append(
                (label, route, paired_ms({name: asker(http) for name, http in clients.items()}, args.repeats))
            )
    return timed


def ingest(database: Path, folder: Path, args: argparse.Namespace) -> dict[str, list[dict[str, Any]]]:
    """wrk against a server on each prefilled store, in turn, `args.rounds` times: DuckDB on a fresh
    copy of the file, chDB on the folder itself (chDB's folders cannot be copied: their metadata names
    their place), its ingested rows deleted afterwards so that the copy still matches the file."""
    load = argparse.Namespace(duration=args.duration, connections=args.connections, clients="one")
    results: dict[str, list[dict[str, Any]]] = {"duckdb": [], "clickhouse": []}
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as scratch:
        twin_file = Path(scratch) / "ingest.duckdb"
        for _ in range(args.rounds):
            for engine in ("duckdb", "clickhouse"):
                env = clickhouse_env(folder) if engine == "clickhouse" else {}
                if engine == "duckdb":
                    # A fresh copy each round: a file holding the last round's million events in
                    # one open session does not start again at 64 MB (load_open_sessions runs out
                    # of memory; noted on issue 22).
                    shutil.copy(database, twin_file)
                port = free_port()
                print(f"ingest: {engine}, round {len(results[engine]) + 1}", file=sys.stderr)
                process = start_pulsegate(twin_file, port, extra_env=env, healthy_within=300)
                try:
                    session = httpx.post(
                        f"http://127.0.0.1:{port}/track/session/start",
                        json={"url": "https://www.example.com/"},
                    ).json()["session_id"]
                    measured = load_both_routes(port, worker_pid(process.pid), session, load)
                finally:
                    stop(process)
                stored = stored_clicks(engine, twin_file, folder, session)
                answered = sum(
                    (r.requests - r.non_2xx) * (100 if name == "batch" else 1) for name, r in measured.items()
                )
                results[engine].append({"measured": measured, "stored": stored, "answered": answered})
    return results


def stored_clicks(engine: str, file: Path, folder: Path, session_id: str) -> int:
    """The click events stored for the bench's session (on chDB, then deleted with its rows)."""
    sql = f"SELECT count(*) FROM events WHERE session_id = '{session_id}' AND type = 'click'"
    if engine == "duckdb":
        import duckdb

        con = duckdb.connect(str(file), read_only=True)
        try:
            return int(con.execute(sql).fetchone()[0])  # type: ignore[index]
        finally:
            con.close()
    from pulsegate.domain.clickhouse_target import parse_target
    from pulsegate.store.clickhouse.connection import connect

    connection = connect(parse_target(f"chdb://{folder}"))
    try:
        stored = int(connection.query(sql)[0][0])
        for table in ("events", "session_rows", "session_activity", "session_ends"):
            connection.command(
                f"ALTER TABLE {table} DELETE WHERE session_id = ? SETTINGS mutations_sync = 2", [session_id]
            )
        return stored
    finally:
        connection.close()


def roll_up_chdb(folder: Path) -> tuple[int, float]:
    """The chDB store's event rollup brought up to date before it is served, as prepare() does the
    file's (a server's rollup job would do it in the background, while the routes are timed)."""
    from pulsegate.domain.clickhouse_target import parse_target
    from pulsegate.store import rollup
    from pulsegate.store.clickhouse.store import ClickHouseStore

    store = ClickHouseStore.open(parse_target(f"chdb://{folder}"))
    try:
        started = time.perf_counter()
        hours = rollup.catch_up(store.connection, datetime.now(UTC).replace(tzinfo=None))
        return hours, time.perf_counter() - started
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description="ClickHouse (chDB) against DuckDB: reports, copy, ingest")
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument(
        "--database", type=Path, required=True, help="the bench file (generated when missing)"
    )
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--memory-limit", default="64MB", help="DuckDB memory_limit (as bench/analytics.py)")
    parser.add_argument("--only", help="comma-separated substrings of the routes' labels to time")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=2, help="ingest rounds over the two engines")
    parser.add_argument("--no-ingest", action="store_true")
    parser.add_argument("--no-routes", action="store_true")
    args = parser.parse_args()
    database: Path = args.database
    prepare(database, args.events, now_ms())
    folder = database.with_suffix(".chdb")
    secret = bench_key(database)
    copied = copy_into_chdb(database, folder)
    rows = sum(table["copied_now"] for table in copied["tables"])
    speed = f" ({rows / copied['seconds']:,.0f} rows/s)" if rows else " (complete already)"
    events = next(table["rows"] for table in copied["tables"] if table["table"] == "events")
    print(f"\nstorage copy: {rows:,} rows in {copied['wall_seconds']:.1f} s{speed}; events {events:,}")

    rolled, took = roll_up_chdb(folder)
    print(f"chDB rollup brought up to date: {rolled} hours in {took:.1f} s")

    if not args.no_routes:
        timed = time_routes(database, folder, secret, args)
        print(f"\n{args.events:,} events, DuckDB memory_limit {args.memory_limit}, threads 2; chDB in the "
              f"server's process; median of {args.repeats} warm runs, asked in turn\n")  # fmt: skip
        print("| route | parameters | DuckDB ms | chDB ms | chDB / DuckDB |")
        print("|---|---|---:|---:|---:|")
        ratios = []
        for label, route, took in timed:
            if isinstance(took, str):
                print(f"| {label} | {route} | | {took} | |")
                continue
            ratio = took["clickhouse"] / took["duckdb"]
            ratios.append(ratio)
            print(f"| {label} | {route} | {took['duckdb']:.1f} | {took['clickhouse']:.1f} | {ratio:.2f} |")
        if ratios:
            print(f"\nchDB / DuckDB over {len(ratios)} routes: median {statistics.median(ratios):.2f}, "
                  f"geometric mean {statistics.geometric_mean(ratios):.2f}")  # fmt: skip

    if not args.no_ingest:
        results = ingest(database, folder, args)
        print(f"\nIngest, {args.connections} connections, {args.duration} s per route, one client address, "
              f"rate limits off, on the prefilled stores; {args.rounds} rounds in turn\n")  # fmt: skip
        print(
            "| engine | round | /track/event req/s | p99 ms | batch events/s | p99 ms | stored clicks | answered |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for engine, runs in results.items():
            for number, run in enumerate(runs, 1):
                event, batch = run["measured"]["event"], run["measured"]["batch"]
                print(f"| {engine} | {number} | {event.requests_per_second:,.0f} | {event.p99_ms:.1f} | "
                      f"{batch.requests_per_second * 100:,.0f} | {batch.p99_ms:.1f} | {run['stored']:,} | "
                      f"{run['answered']:,} |")  # fmt: skip


if __name__ == "__main__":
    main()
