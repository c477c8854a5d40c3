"""The event rollup gives the rows, and the reports, that raw events give (store/rollup.py)."""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pulsegate.domain.goals import Goal
from pulsegate.domain.reports import DIMENSIONS, default_metrics, dimension, parse_filters, with_goals
from pulsegate.ops.context import OpContext
from pulsegate.ops.storage import PruneArgs, prune
from pulsegate.store import rollup
from pulsegate.store.goals import upsert_goal
from pulsegate.store.migrations import migrate
from pulsegate.store.queries import Scope
from pulsegate.store.reports import event_properties, event_report, goal_counts
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
                ["pageview", "pageview", "engagement", "custom", "outbound", "download", "click", "form_start",
                 "form_submit"]
            )  # fmt: skip
            path = rng.choice(PATHS)
            name = props = engaged = None
            if kind == "engagement":
                engaged = rng.randrange(1, 60_000)
            elif kind.startswith("form_"):
                name = rng.choice(["contact", "demo", None])
            elif kind == "custom":
                name = rng.choice(["Signup", "Play", None])
                props = rng.choice([None, "{}", json.dumps(
                    {rng.choice(["plan", "seats", "bad key"]): rng.choice(["pro", "free", 3, True, None]), "x": 1}
                )])  # fmt: skip
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
    if facts.table == rollup.GOAL_FACTS:
        found = connection.execute(
            f"SELECT project, NULL, session_key, visitor_key, sum(hits) FROM ({sql.text}) GROUP BY ALL",
            sql.params,
        ).fetchall()
        return Counter({tuple(row[:4]): (row[4], ()) for row in found})
    if facts.table == "form_facts":
        measure, visitor = "sum(hits), list_sort(list(kind))", "NULL"
    elif facts.table == "moment_facts":
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
    keys = [rollup.property_keys("Signup"), rollup.property_keys("Play")]
    return [rollup.ENGAGED, *(rollup.facts_of(dimension(name)) for name in EVENT_DIMENSIONS), *moments, *keys,
            rollup.FORMS]  # fmt: skip


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
    props = [(name, json.loads(p)) for (name, p) in connection.execute(
        "SELECT name, props FROM events WHERE type = 'custom' AND NOT is_bot AND props IS NOT NULL").fetchall()]  # fmt: skip
    expected = Counter(
        key for _, p in props for key, value in p.items() if key != "bad key" and value is not None
    )
    assert stored == dict(expected)
    # The keys /analytics/properties lists: every key, whatever its value, by the event's name.
    keys = dict(
        ((name, key), hits) for name, key, hits in connection.execute(
            "SELECT key, value, sum(hits) FROM event_facts WHERE kind = 'keys' GROUP BY ALL").fetchall()
    )  # fmt: skip
    assert keys == dict(Counter((name, key) for name, p in props if name is not None for key in p))
    assert ("Signup", "bad key") in keys


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
    for texts in filter_sets:
        filters = list(parse_filters(texts))
        for event in ("Signup", "Play", "None"):
            found = [
                event_properties(connection, scope, filters, event, coverage=held)
                for held in (coverage, None)
            ]
            assert found[0] == found[1], (event, texts)
            assert found[0] or texts or event == "None"


GOALS = (
    Goal(name="Blog", kind="page", page="/blog/*"),
    Goal(name="Pricing", kind="page", page="/pricing", project="acme"),
    Goal(name="Signup", kind="event", event="Signup"),
    Goal(name="Pro", kind="event", event="Signup", prop_key="plan", prop_value="pro"),
    Goal(name="Lead", kind="lead"),
)


def goal_rules(connection: duckdb.DuckDBPyConnection) -> set[str]:
    return {rule for (rule,) in connection.execute("SELECT rule FROM goal_rules").fetchall()}


def test_goal_facts_are_the_goals_rows_for_the_rules_of_the_goals_declared(
    connection: duckdb.DuckDBPyConnection,
) -> None:
    rng = random.Random(9)
    seed(connection, rng, events=3000)
    for goal in GOALS[:2]:  # held before the rollup is made: the job's turns add their facts
        upsert_goal(connection, goal, START)
    assert rollup.hold_goals(connection) and rollup.hold_goals(connection)
    assert not rollup.hold_goals(connection)
    rollup.catch_up(connection, START + timedelta(days=2, hours=7) + rollup.SETTLE, hours=5)
    for goal in GOALS[2:]:  # added later: made from the facts already stored
        upsert_goal(connection, goal, START)
    assert rollup.hold_goals(connection) and rollup.hold_goals(connection)
    assert not rollup.hold_goals(connection)  # a lead goal has no rule
    rules = [rollup.goal_rule(g.kind, g.event, g.prop_key, g.prop_value, g.page) for g in GOALS[:4]]
    assert goal_rules(connection) == set(rules)
    rollup.catch_up(connection, START + timedelta(days=3, hours=2) + rollup.SETTLE, hours=7)
    coverage = rollup.coverage(connection)
    assert coverage is not None and coverage.goal_rules == set(rules)
    for _ in range(10):
        start = START + timedelta(minutes=rng.randrange(-120, DAYS * 1440))
        end = start + timedelta(minutes=rng.randrange(1, DAYS * 1440))
        for rule in rules:
            facts = rollup.goal_facts(rule)
            combined = rows(connection, rollup.fact_rows(facts, start, end, coverage), facts)
            assert combined == rows(connection, facts.raw(start, end), facts), (rule, start, end)
    # Each goal's conversions and visitors, from its goal facts and from raw events alike.
    scope = Scope(
        START + timedelta(hours=3, minutes=30), START + timedelta(days=3, hours=20), ("acme", "globex")
    )
    for texts in ([], ["country==DE"], ["page==/pricing"], ["goal==Signup"], ["goal!=Blog", "event==Play"]):
        filters = list(with_goals(parse_filters(texts), GOALS))
        for approximate in (False, True):
            counted = [
                goal_counts(connection, scope, filters, GOALS, approximate=approximate, coverage=held)
                for held in (coverage, None)
            ]
            assert counted[0] == counted[1], texts
            assert any(visitors for visitors, _ in counted[0]) or texts
    # A goal removed takes its rule's facts along (unless another goal has the rule).
    connection.execute("DELETE FROM goals WHERE name IN ('Blog', 'Pro')")
    upsert_goal(
        connection,
        Goal(name="Pro again", kind="event", event="Signup", prop_key="plan", prop_value="pro"),
        START,
    )
    assert not rollup.hold_goals(connection)
    assert goal_rules(connection) == set(rules[1:])
    stored = connection.execute(f"SELECT DISTINCT rule FROM {rollup.GOAL_FACTS}").fetchall()
    assert {rule for (rule,) in stored} == set(rules[1:])


def test_a_rule_left_behind_is_read_from_the_page_facts_until_it_is_carried_on(
    connection: duckdb.DuckDBPyConnection,
) -> None:
    """A rule whose facts stop before the frontier (on ClickHouse, a turn another process took
    while the goal was held): not trusted past them, its facts made again where an import's rebuild
    deleted them inside that gap, then carried on to the frontier by hold_goals."""
    seed(connection, random.Random(11))
    upsert_goal(connection, GOALS[0], START)
    rule = rollup.goal_rule("page", None, None, None, GOALS[0].page)
    rollup.catch_up(connection, START + timedelta(days=DAYS + 1))
    stopped = START + timedelta(days=2)
    connection.execute(f"DELETE FROM {rollup.GOAL_FACTS} WHERE hour >= ?", [stopped])
    connection.execute("UPDATE goal_rules SET held_to = ?", [stopped])
    coverage = rollup.coverage(connection)
    assert coverage is not None and coverage.frontier > stopped and rule not in coverage.goal_rules
    late = stopped - timedelta(minutes=30)  # an import's event, in an hour the rebuild spans the gap
    connection.execute(
        "INSERT INTO events (received_at, session_id, visitor_id, type, path) "
        "VALUES (?, 'late', 'lv', 'pageview', '/pricing')",
        [late],
    )
    rollup.rebuild(connection, late, stopped + timedelta(hours=2))
    assert rollup.held_rules(connection) == {rule: late.replace(minute=0)}
    assert rollup.hold_goals(connection) and not rollup.hold_goals(connection)
    coverage = rollup.coverage(connection)
    assert coverage is not None and rule in coverage.goal_rules
    everything = (START - timedelta(days=1), START + timedelta(days=DAYS + 1))
    facts = rollup.goal_facts(rule)
    stored = connection.execute(f"SELECT count(*) FROM {rollup.GOAL_FACTS} WHERE hour >= ?", [stopped])
    assert stored.fetchall()[0][0] > 0
    assert rows(connection, facts.stored(everything[0], coverage.frontier), facts) == rows(
        connection, facts.raw(everything[0], coverage.frontier), facts
    )


def test_the_migration_makes_the_form_and_key_facts_the_rollup_makes(
    connection: duckdb.DuckDBPyConnection,
) -> None:
    """Migration 0017 made form_facts and the 'keys' event facts for files rolled up before it."""
    seed(connection, random.Random(10))
    rollup.catch_up(connection, START + timedelta(days=2, hours=9) + rollup.SETTLE)
    made = {
        "form_facts": "SELECT * FROM form_facts",
        "event_facts": "SELECT * FROM event_facts WHERE kind = 'keys'",
    }
    expected = {table: Counter(connection.execute(sql).fetchall()) for table, sql in made.items()}
    assert all(expected.values())
    connection.execute("DELETE FROM form_facts")
    connection.execute("DELETE FROM event_facts WHERE kind = 'keys'")
    sql = (files("pulsegate.store") / "migrations" / "0017_goal_form_key_facts.sql").read_text("utf-8")
    for statement in sql.split(";"):
        if "INSERT INTO" in statement:
            connection.execute(statement)
    assert {table: Counter(connection.execute(sql).fetchall()) for table, sql in made.items()} == expected


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
