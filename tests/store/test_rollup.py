"""The event rollup gives the rows, and the reports, that raw events give (store/rollup.py)."""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pulsegate.domain.reports import DIMENSIONS, default_metrics, dimension, parse_filters
from pulsegate.ops.context import OpContext
from pulsegate.ops.storage import PruneArgs, prune
from pulsegate.store import rollup
from pulsegate.store.migrations import migrate
from pulsegate.store.queries import Scope
from pulsegate.store.reports import event_report
from pulsegate.store.writer import RowWrite, commit_writes

START = datetime(2026, 5, 1)
DAYS = 4
PATHS = ["/", "/pricing", "/docs", "/blog/a", "/blog/b"]
EVENT_DIMENSIONS = [name for name, d in DIMENSIONS.items() if d.scope == "event"] + [
    "prop:plan",
    "prop:seats",
]


@pytest.fixture
def connection(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(tmp_path / "rollup.duckdb"))
    migrate(connection)
    yield connection
    connection.close()


def seed(connection: duckdb.DuckDBPyConnection, rng: random.Random, events: int = 1500) -> None:
    """Sessions and their events over DAYS days: page views, engagement, custom events with
    properties, links; a few bots; event times anywhere in a minute."""
    sessions, rows = [], []
    for i in range(events // 15):
        session_id, visitor_id = f"s{i}", f"v{rng.randrange(events // 25)}"
        project, is_bot = rng.choice(["acme", "globex", None]), rng.random() < 0.05
        country = rng.choice(["DE", "US", "FR"])
        at = START + timedelta(seconds=rng.randrange(DAYS * 86_400))
        sessions.append((session_id, visitor_id, project, at, at, country, is_bot, "https://example.com/"))
        for _ in range(rng.randrange(1, 30)):
            at += timedelta(seconds=rng.randrange(1, 900))  # sessions cross hour boundaries
            kind = rng.choice(
                ["pageview", "pageview", "engagement", "custom", "outbound", "download", "click"]
            )
            path = rng.choice(PATHS)
            name = props = engaged = None
            if kind == "engagement":
                engaged = rng.randrange(1, 60_000)
            elif kind == "custom":
                name = rng.choice(["Signup", "Play"])
                props = json.dumps(
                    {rng.choice(["plan", "seats", "bad key"]): rng.choice(["pro", "free", 3, True]), "x": 1}
                )
            elif kind in ("outbound", "download"):
                props = json.dumps({"href": rng.choice(["https://a.example/", "https://b.example/f.pdf"])})
            client_ms = int(at.replace(tzinfo=UTC).timestamp() * 1000) + rng.randrange(-5_000, 5_000)
            rows.append(
                (at, session_id, visitor_id, project, kind, name, path, props, engaged, is_bot, client_ms)
            )
    # Through the writer's appenders, as the server stores rows (and far faster than executemany).
    session_columns = ("session_id", "visitor_id", "project", "started_at", "last_seen_at", "country", "is_bot",
                       "entry_url")  # fmt: skip
    event_columns = ("received_at", "session_id", "visitor_id", "project", "type", "name", "path", "props",
                     "engaged_ms", "is_bot", "client_ms")  # fmt: skip
    commit_writes(
        connection,
        [RowWrite("sessions", session_columns, sessions), RowWrite("events", event_columns, sorted(rows))],
    )


def rows(
    connection: duckdb.DuckDBPyConnection, sql: rollup.Sql, facts: rollup.Facts
) -> Counter[tuple[Any, ...]]:
    """The rows' totals per (project, value, session, visitor), and every moment a funnel orders:
    hours cut differently, same sums."""
    if facts.table == "moment_facts":
        measure, visitor = "list_sort(list(moment)), NULL", "visitor_key"
    elif facts is rollup.ENGAGED:
        measure, visitor = "sum(engaged_ms), NULL", "NULL"
    elif facts.table == "event_facts":
        measure, visitor = "sum(hits), list_sort(list(event))", "visitor_key"
    else:
        measure, visitor = "sum(hits), NULL", "visitor_key"
    found = connection.execute(
        f"SELECT project, value, session_key, {visitor}, {measure} FROM ({sql.text}) GROUP BY ALL", sql.params
    ).fetchall()
    return Counter({tuple(row[:4]): (row[4], tuple(row[5] or ())) for row in found})


def every_facts() -> list[rollup.Facts]:
    moments = [rollup.moments_of("page"), rollup.moments_of("event")]
    return [rollup.ENGAGED, *(rollup.facts_of(dimension(name)) for name in EVENT_DIMENSIONS), *moments]


@pytest.mark.parametrize("seed_value", [1, 2, 3])
def test_rows_of_any_window_are_the_raw_rows(connection: duckdb.DuckDBPyConnection, seed_value: int) -> None:
    rng = random.Random(seed_value)
    seed(connection, rng)
    frontier_at = START + timedelta(minutes=rng.randrange(DAYS * 1440))
    # Turns of any size: each day added over several turns is stored again in value order.
    assert rollup.catch_up(connection, frontier_at + rollup.SETTLE, hours=rng.randint(1, 30)) > 0
    coverage = rollup.coverage(connection)
    assert coverage is not None and coverage.frontier == rollup.floor_hour(frontier_at)
    assert connection.execute("SELECT max(hour) FROM page_facts").fetchall()[0][0] < coverage.frontier
    for _ in range(12):
        # Windows starting and ending anywhere: inside hours, before and after the frontier.
        start = START + timedelta(minutes=rng.randrange(-120, DAYS * 1440))
        end = start + timedelta(minutes=rng.randrange(1, DAYS * 1440))
        for facts in every_facts():
            combined = rows(connection, rollup.fact_rows(facts, start, end, coverage), facts)
            raw = rows(connection, facts.raw(start, end), facts)
            assert combined == raw, (facts, start, end)
    # Nothing but the settled hours: the job's next turn at the same moment adds none.
    assert rollup.advance(connection, frontier_at + rollup.SETTLE) == 0


def test_stored_properties_are_every_valid_key_of_custom_events(
    connection: duckdb.DuckDBPyConnection,
) -> None:
    seed(connection, random.Random(4))
    rollup.catch_up(connection, START + timedelta(days=DAYS + 1))
    stored = dict(
        connection.execute(
            "SELECT key, sum(hits) FROM event_facts WHERE kind = 'prop' GROUP BY key"
        ).fetchall()
    )
    props = [json.loads(p) for (p,) in connection.execute(
        "SELECT props FROM events WHERE type = 'custom' AND NOT is_bot").fetchall()]  # fmt: skip
    expected = Counter(key for p in props for key in p if key != "bad key")
    assert stored == dict(expected)


@pytest.mark.parametrize("approximate", [False, True])
def test_event_reports_from_the_rollup_equal_those_from_raw_events(
    connection: duckdb.DuckDBPyConnection, approximate: bool
) -> None:
    rng = random.Random(5)
    seed(connection, rng, events=3000)
    rollup.catch_up(connection, START + timedelta(days=3, minutes=17) + rollup.SETTLE)
    coverage = rollup.coverage(connection)
    filter_sets = [[], ["country==DE"], ["page==/pricing"], ["country!=US", "event==Signup"], ["page!~blog"]]
    for name in EVENT_DIMENSIONS:
        by = dimension(name)
        metrics = list(default_metrics(by))
        for texts in filter_sets:
            filters = list(parse_filters(texts))
            scope = Scope(
                START + timedelta(hours=5, minutes=30),
                START + timedelta(days=3, hours=20),
                ("acme", "globex"),
            )
            from_rollup = event_report(
                connection, scope, filters, metrics, by, approximate=approximate, coverage=coverage
            )
            from_raw = event_report(
                connection, scope, filters, metrics, by, approximate=approximate, coverage=None
            )
            assert from_rollup == from_raw, (name, texts)
            assert from_raw[1] > 0 or texts, name  # the fixture has rows for every dimension


def test_pruning_and_rebuilding_keep_the_rollup_true(connection: duckdb.DuckDBPyConnection) -> None:
    seed(connection, random.Random(6))
    rollup.catch_up(connection, START + timedelta(days=DAYS + 1))
    cutoff = START + timedelta(days=1, minutes=23)
    connection.execute("BEGIN")
    connection.execute("DELETE FROM events WHERE received_at < ?", [cutoff])
    rollup.forget_before(connection, cutoff)
    connection.execute("COMMIT")
    # Events written later for an hour already rolled up (an import): rebuild those hours.
    late = START + timedelta(days=2, minutes=41)
    connection.execute(
        "INSERT INTO events (received_at, session_id, visitor_id, type, path) "
        "VALUES (?, 'late', 'lv', 'pageview', '/late')",
        [late],
    )
    rollup.rebuild(connection, late, late + timedelta(seconds=1))
    coverage = rollup.coverage(connection)
    assert coverage is not None and coverage.since == rollup.ceil_hour(cutoff)
    everything = (START - timedelta(days=1), START + timedelta(days=DAYS + 1))
    for facts in every_facts():
        assert rows(connection, rollup.fact_rows(facts, *everything, coverage), facts) == rows(
            connection, facts.raw(*everything), facts
        )
    assert connection.execute("SELECT min(hour) FROM page_facts").fetchall()[0][0] >= coverage.since


def test_retention_prunes_the_rollup_with_the_events(connection: duckdb.DuckDBPyConnection) -> None:
    now = datetime.utcnow()
    connection.execute(
        "INSERT INTO events (received_at, session_id, visitor_id, type, path) "
        "SELECT ?::TIMESTAMP - to_hours(i * 5), 's' || i, 'v', 'pageview', '/p' FROM range(100) t(i)",
        [now],
    )
    rollup.catch_up(connection, now)
    prune(OpContext(connection), PruneArgs(older_than_days=10))
    coverage = rollup.coverage(connection)
    assert coverage is not None and coverage.since is not None
    stored, oldest = connection.execute("SELECT sum(views), min(hour) FROM page_facts").fetchall()[0]
    expected = connection.execute(
        "SELECT count(*) FROM events WHERE received_at >= ? AND received_at < ?",
        [coverage.since, coverage.frontier],
    ).fetchall()[0][0]
    assert stored == expected > 0
    assert oldest >= coverage.since >= now - timedelta(days=10)


def test_a_duckdb_that_hashes_differently_starts_the_rollup_over(
    connection: duckdb.DuckDBPyConnection,
) -> None:
    seed(connection, random.Random(7))
    rollup.catch_up(connection, START + timedelta(days=DAYS + 1))
    assert rollup.coverage(connection) is not None
    connection.execute("UPDATE rollup_state SET hash_probe = hash_probe + 1")
    assert rollup.coverage(connection) is None  # reports read raw events meanwhile
    connection.execute("UPDATE page_facts SET session_key = session_key + 1")  # what another hash made
    rollup.catch_up(connection, START + timedelta(days=DAYS + 1))
    everything = (START, START + timedelta(days=DAYS + 1))
    coverage = rollup.coverage(connection)
    assert coverage is not None
    assert rows(connection, rollup.fact_rows(rollup.PAGES, *everything, coverage), rollup.PAGES) == rows(
        connection, rollup.PAGES.raw(*everything), rollup.PAGES
    )


def test_each_finished_day_is_stored_in_value_order(connection: duckdb.DuckDBPyConnection) -> None:
    seed(connection, random.Random(8))
    # An hour per turn, as a running server adds them: a day's rows arrive over 24 turns.
    rollup.catch_up(connection, START + timedelta(days=2, hours=5), hours=1)
    coverage = rollup.coverage(connection)
    assert coverage is not None and coverage.frontier == START + timedelta(days=2, hours=4)  # settled hours
    for day in range(2):
        start = START + timedelta(days=day)
        paths = [path for (path,) in connection.execute(
            "SELECT path FROM page_facts WHERE hour >= ? AND hour < ? ORDER BY rowid",
            [start, start + timedelta(days=1)]).fetchall()]  # fmt: skip
        assert len(paths) > 20 and paths == sorted(paths), day
    # The day still being added is in arrival order: hours first.
    today = connection.execute(
        "SELECT hour, path FROM page_facts WHERE hour >= ? ORDER BY rowid", [START + timedelta(days=2)]
    ).fetchall()
    assert [hour for hour, _ in today] == sorted(hour for hour, _ in today)
    assert [path for _, path in today] != sorted(path for _, path in today)


@pytest.mark.parametrize(
    ("earlier", "later"),
    [
        (("1960-01-01 00:00:00", None), ("2026-03-01 10:00:00", 5)),
        (("2026-03-01 10:00:00", 5), ("2026-03-01 10:00:00", 900)),  # one batch: the browser's clock
        (("2026-03-01 10:00:00", 900), ("2026-03-01 10:00:00.001", -5000)),  # the receive time first
        (("2026-03-01 10:00:00.001", None), ("2088-12-31 23:59:59", None)),  # no overflow before 2089
    ],
)
def test_order_keys_keep_their_order(
    connection: duckdb.DuckDBPyConnection, earlier: tuple[str, int | None], later: tuple[str, int | None]
) -> None:
    def key(at: str, offset: int | None) -> int:
        client = "NULL::BIGINT" if offset is None else f"epoch_ms(TIMESTAMP '{at}') + {offset}"
        sql = (
            f"SELECT {rollup.ORDER_KEY} FROM (SELECT TIMESTAMP '{at}' AS received_at, {client} AS client_ms)"
        )
        return connection.execute(sql).fetchall()[0][0]

    assert key(*earlier) < key(*later)
    received = connection.execute(f"SELECT epoch_ms(TIMESTAMP '{later[0]}')").fetchall()[0][0]
    assert (key(*later) >> rollup.ORDER_KEY_MS_SHIFT) + rollup.ORDER_KEY_EPOCH_MS == received
