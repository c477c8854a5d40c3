"""`pulsegate storage prune` on both engines: the events (and form views) before the cutoff go,
with `--sessions` the ended sessions that started before it, whole (on ClickHouse a session is
several rows), and the event rollup forgets those hours; an open session and newer rows stay."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from pulsegate.domain.timestamps import now_ms, utc_datetime
from pulsegate.store import rollup
from pulsegate.store.clickhouse.cursor import is_clickhouse
from tests.engines import CliStore, cli_store

__all__ = ["cli_store"]  # the fixture, imported so every test here runs on both engines
DAYS = range(12)  # an event, a form view and a session on each of the last 12 days
OPEN_DAY = 9  # one more session, started that many days ago, still open


def seed(cursor: Any, now: datetime) -> None:
    """The rows: each day's event 1 hour and its session 2 hours past the day mark."""
    events = [(now - timedelta(days=d, hours=1), f"s{d}", "v", "p", "pageview", "/x") for d in DAYS]
    cursor.executemany(
        "INSERT INTO events (received_at, session_id, visitor_id, project, type, path) VALUES (?, ?, ?, ?, ?, ?)",
        events,
    )
    cursor.executemany(
        "INSERT INTO form_views (received_at, session_id, visitor_id, form) VALUES (?, ?, ?, ?)",
        [(at, session, visitor, "contact") for at, session, visitor, *_ in events],
    )
    columns = "session_id, visitor_id, project, started_at, last_seen_at, ended_at, entry_url"
    started = {f"s{d}": now - timedelta(days=d, hours=2) for d in DAYS}
    started["open"] = now - timedelta(days=OPEN_DAY)
    ends = [(sid, "v", "p", at, at, None if sid == "open" else at + timedelta(minutes=5), "https://e.com/")
            for sid, at in started.items()]  # fmt: skip
    if is_clickhouse(cursor):
        # As the server writes them there: a start row, then a whole row per end (a later version).
        # Two inserts: ClickHouse folds the rows of one insert as a merge would (optimize_on_insert).
        insert = f"INSERT INTO session_rows ({columns}, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        cursor.executemany(insert, [(*row[:5], None, row[6], 0) for row in ends])
        cursor.executemany(insert, [(*row, 1) for row in ends if row[5] is not None])
    else:
        cursor.executemany(f"INSERT INTO sessions ({columns}) VALUES (?, ?, ?, ?, ?, ?, ?)", ends)
    rollup.catch_up(cursor, now)


def test_old_events_and_ended_sessions_go_and_the_rollup_forgets_their_hours(cli_store: CliStore) -> None:
    now = utc_datetime(now_ms())
    with cli_store.cursor() as cursor:
        seed(cursor, now)
    before_facts = cli_store.rows("SELECT count(*) FROM page_facts")[0][0]
    assert before_facts > 0  # the rollup held the old hours (so their forgetting below shows)

    done = cli_store.invoke("storage", "prune", "--older-than", "6d", "--sessions", "--json")
    assert done.exit_code == 0, done.output
    pruned = json.loads(done.stdout)
    cutoff = utc_datetime(pruned["cutoff_ms"])
    kept_days = [d for d in DAYS if now - timedelta(days=d, hours=1) >= cutoff]
    old_ended = [d for d in DAYS if now - timedelta(days=d, hours=2) < cutoff]
    assert (pruned["events"], pruned["sessions"]) == (len(DAYS) - len(kept_days), len(old_ended))
    assert cli_store.rows("SELECT count(*) FROM events") == [(len(kept_days),)]
    assert cli_store.rows("SELECT count(*) FROM form_views") == [(len(kept_days),)]
    remaining = {sid for (sid,) in cli_store.rows("SELECT session_id FROM sessions")}
    assert remaining == {f"s{d}" for d in DAYS if d not in old_ended} | {"open"}
    assert cli_store.rows("SELECT count(*) FROM sessions WHERE ended_at IS NULL") == [(1,)]
    assert cli_store.rows("SELECT count(*) FROM page_facts WHERE hour < ?", [cutoff]) == [(0,)]
    (since,) = cli_store.rows("SELECT since FROM rollup_state")[0]
    assert since >= cutoff

    again = cli_store.invoke("storage", "prune", "--older-than", "6d", "--sessions", "--json")
    assert (json.loads(again.stdout)["events"], json.loads(again.stdout)["sessions"]) == (0, 0)


def test_an_archive_is_the_duckdb_file_s_alone(cli_store: CliStore, tmp_path: Any) -> None:
    done = cli_store.invoke("storage", "prune", "--older-than", "6d", "--archive", str(tmp_path / "archive"))
    if cli_store.environ:  # ClickHouse
        assert done.exit_code == 2 and "TTL" in done.output and "Traceback" not in done.output, done.output
    else:
        assert done.exit_code == 0 and (tmp_path / "archive").is_dir(), done.output
