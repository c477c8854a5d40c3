"""The sessions table at scale: with and without a key index, and how a session is found.

Run from the repository root:

    python bench/session_table.py --sessions 1000000

Part 1 writes sessions the way a long-running server does (groups of 2,000, DuckDB's automatic
checkpoints, memory_limit 64 MB) into two tables: one declared with the PRIMARY KEY PulseGate
had before migration 0004, one as it is now; it reports where the keyed one fails. Part 2
times, on the unkeyed table, ending 5 sessions per commit (the appender's update, as the
writer does it) and finding one session by id, each matched by id alone and by id plus the
start time the id carries; the ratio is between the two, measured in the same run. Part 3
writes `--leads` leads, each with its CRM delivery (the two tables keep their keys, and
submission ids are random as browsers make them), once with random lead and delivery ids as
before and once with time-ordered ones as now.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import duckdb

from pulsegate.domain.ids import new_id
from pulsegate.domain.timestamps import now_ms, utc_datetime
from pulsegate.store.database import Database
from pulsegate.store.leads import DELIVERY_COLUMNS, LEAD_COLUMNS
from pulsegate.store.migrations import available_migrations
from pulsegate.store.tracking import SESSION_COLUMNS
from pulsegate.store.writer import RowWrite, commit_writes

GROUP = 2_000


def session_row(session_id: str, started_ms: int) -> tuple[object, ...]:
    started = utc_datetime(started_ms)
    values = {"session_id": session_id, "visitor_id": "v", "project": "acme", "started_at": started,
              "last_seen_at": started, "entry_url": "https://example.com/", "source": "Direct",
              "is_hosting": False, "is_bot": False}  # fmt: skip
    return tuple(values.get(column) for column in SESSION_COLUMNS)


def fill(connection: duckdb.DuckDBPyConnection, sessions: int, ids: Callable[[int], str]) -> str:
    """Write `sessions` rows in groups; returns how far it got."""
    start = now_ms() - sessions
    written = 0
    began = time.perf_counter()
    try:
        while written < sessions:
            rows = [session_row(ids(start + written + n), start + written + n) for n in range(GROUP)]
            commit_writes(connection, [RowWrite("sessions", SESSION_COLUMNS, rows)])
            written += GROUP
        connection.execute("CHECKPOINT")
    except duckdb.Error as exc:
        return f"failed after {written:,} sessions: {type(exc).__name__}: {str(exc).splitlines()[0][:120]}"
    return f"{written:,} sessions written and checkpointed in {time.perf_counter() - began:.0f} s"


def median_ms(run: Callable[[int], None], repeats: int = 100) -> float:
    times = []
    for n in range(repeats):
        began = time.perf_counter()
        run(n)
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def fill_leads(connection: duckdb.DuckDBPyConnection, leads: int, ids: Callable[[int], str]) -> str:
    """Write `leads` leads and their deliveries in groups; returns how far it got."""
    start = now_ms() - leads
    written = 0
    began = time.perf_counter()
    try:
        while written < leads:
            lead_rows, delivery_rows = [], []
            for n in range(GROUP):
                created = utc_datetime(start + written + n)
                lead_id = ids(start + written + n)
                values = {"lead_id": lead_id, "submission_id": secrets.token_hex(16), "created_at": created,
                          "project": "acme", "email": "ann@example.com", "is_spam": False, "status": "new"}  # fmt: skip
                lead_rows.append(tuple(values.get(column) for column in LEAD_COLUMNS))
                delivery_rows.append(
                    (ids(start + written + n), lead_id, "crm", "{}", "pending", created, created)
                )
            commit_writes(connection, [RowWrite("leads", LEAD_COLUMNS, lead_rows),
                                       RowWrite("deliveries", DELIVERY_COLUMNS, delivery_rows)])  # fmt: skip
            written += GROUP
        connection.execute("CHECKPOINT")
    except duckdb.Error as exc:
        return f"failed after {written:,} leads: {type(exc).__name__}: {str(exc).splitlines()[0][:120]}"
    return f"{written:,} leads written and checkpointed in {time.perf_counter() - began:.0f} s"


def keyed_database(path: Path) -> duckdb.DuckDBPyConnection:
    """A file at schema version 3: sessions with their old PRIMARY KEY, PulseGate's settings."""
    connection = duckdb.connect(str(path), config={"threads": 2, "memory_limit": "64MB"})
    for migration in available_migrations()[:3]:
        connection.execute(migration.sql)
    return connection


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sessions", type=int, default=1_000_000)
    parser.add_argument("--leads", type=int, default=600_000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="pulsegate-sessions-"))

    print(f"## {args.sessions:,} sessions written in groups of {GROUP:,}, memory_limit 64 MB\n")
    print("| table | ids | result |\n|---|---|---|")
    with keyed_database(folder / "keyed.duckdb") as connection:
        outcome = fill(connection, args.sessions, lambda _ms: str(uuid.uuid4()))
    print(f"| with PRIMARY KEY (before 0004) | random (v4) | {outcome} |")
    with keyed_database(folder / "keyed-v7.duckdb") as connection:
        outcome = fill(connection, args.sessions, new_id)
    print(f"| with PRIMARY KEY (before 0004) | time-ordered (v7) | {outcome} |")
    database = Database.open(folder / "unkeyed.duckdb")
    connection = database.connection
    outcome = fill(connection, args.sessions, new_id)
    print(f"| without (now) | time-ordered (v7) | {outcome} |")

    recent = connection.execute(
        "SELECT session_id, started_at FROM sessions ORDER BY started_at DESC LIMIT 2000"
    ).fetchall()
    ended = utc_datetime(now_ms())

    def end_five(key: tuple[str, ...]) -> Callable[[int], None]:
        appender = connection.appender("sessions", columns=[*key, "ended_at", "engagement_score"],
                                       action="update", key=list(key))  # fmt: skip

        def run(n: int) -> None:
            picked = recent[n * 5 % len(recent) : n * 5 % len(recent) + 5]
            rows = [
                (sid, ended, 50) if len(key) == 1 else (sid, started, ended, 50) for sid, started in picked
            ]
            appender.append_rows(rows)
            appender.flush()

        return run

    def find(with_start: bool) -> Callable[[int], None]:
        def run(n: int) -> None:
            session_id, started = recent[n % len(recent)]
            if with_start:
                sql, params = (
                    "SELECT * FROM sessions WHERE started_at = ? AND session_id = ?",
                    [started, session_id],
                )
            else:
                sql, params = "SELECT * FROM sessions WHERE session_id = ?", [session_id]
            assert connection.execute(sql, params).fetchall()

        return run

    by_id = (median_ms(end_five(("session_id",))), median_ms(find(False)))
    by_id_and_start = (median_ms(end_five(("session_id", "started_at"))), median_ms(find(True)))
    print(f"\n## Finding sessions among {args.sessions:,} without an index (median of 100, ms)\n")
    print("| operation | by id | by id + start time | ratio |\n|---|---:|---:|---:|")
    for label, plain, timed in zip(("end 5 sessions (appender update + commit)", "find one session by id"),
                                   by_id, by_id_and_start, strict=True):  # fmt: skip
        print(f"| {label} | {plain:.2f} | {timed:.2f} | {plain / timed:.1f}x |")
    database.close()

    print(f"\n## {args.leads:,} leads with their deliveries, keys kept, memory_limit 64 MB\n")
    print("| lead and delivery ids | result |\n|---|---|")
    for label, ids in (
        ("random (v4), as before", lambda _ms: str(uuid.uuid4())),
        ("time-ordered (v7)", new_id),
    ):
        leads_database = Database.open(folder / f"leads-{label[:6]}.duckdb")
        print(f"| {label} | {fill_leads(leads_database.connection, args.leads, ids)} |")
        leads_database.close()


if __name__ == "__main__":
    main()
