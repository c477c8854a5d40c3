"""The event rollup on ClickHouse (chDB): the same facts as DuckDB's from the same events, kept
once when a turn is taken twice (two processes at once, or again after a crash before the frontier
moved), and made afresh for a goal removed and added again."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from pulsegate.domain.clickhouse_target import parse_target
from pulsegate.domain.goals import Goal
from pulsegate.store import rollup
from pulsegate.store.clickhouse.store import ClickHouseStore
from pulsegate.store.database import Database
from pulsegate.store.goals import delete_goal, upsert_goal
from tests.api import analytics_fixture as fx
from tests.helpers import chdb_url

NOW = datetime(2026, 3, 10)
GOAL = Goal(name="Pricing", kind="page", page="/pricing*")


def fact_counts(cursor: Any, before: datetime = NOW) -> dict[str, tuple[int, int]]:
    """Rows and summed hits (or views; moments modulo a prime, which ClickHouse would overflow) per
    fact table: a fact kept twice shows in both."""
    measures = {"page_facts": "views", "engaged_facts": "engaged_ms", "event_facts": "hits",
                "moment_facts": "moment % 1000003", "form_facts": "hits", "goal_facts": "hits"}  # fmt: skip
    found = {}
    for table, measure in measures.items():
        count, total = cursor.execute(
            f"SELECT count(*), sum({measure}) FROM {table} WHERE hour < ?", [before]
        ).fetchall()[0]
        found[table] = (int(count), int(total or 0))
    return found


@contextmanager
def statements_of(cursor: Any, before: Callable[[str], object] = lambda sql: None) -> Iterator[list[str]]:
    """Every statement `cursor` runs inside, in order; `before(sql)` runs just ahead of each (another
    process's work at that very moment)."""
    run, statements = cursor.execute, []

    def recorded(sql: str, params: Any = None) -> Any:
        statements.append(sql)
        before(sql)
        return run(sql, params)

    cursor.execute = recorded
    try:
        yield statements
    finally:
        cursor.execute = run


@pytest.fixture
def stores(tmp_path: Path, unique_database: str) -> Iterator[tuple[Any, Any]]:
    """The fixture's traffic, with a page goal, in a DuckDB file and in a chDB database."""
    data = fx.build()
    duck = Database.open(tmp_path / "p.duckdb")
    clickhouse = ClickHouseStore.open(parse_target(chdb_url(unique_database)))
    for cursor in (duck.connection, clickhouse.connection):
        fx.insert(cursor, data)
        upsert_goal(cursor, GOAL, datetime(2026, 1, 1))
    yield duck.connection, clickhouse.connection
    duck.close()
    clickhouse.close()


@pytest.mark.parametrize(
    ("now", "reached"),
    [
        # Whole days up to the day under way, then its hours one by one.
        (datetime(2026, 3, 9, 14, 20), datetime(2026, 3, 9, 14)),
        # A day not begun that ends within two hours is waited for, to be taken whole.
        (NOW, datetime(2026, 3, 9)),
    ],
)
def test_the_facts_are_duckdb_s_and_a_turn_taken_twice_keeps_them_once(
    stores: tuple[Any, Any], now: datetime, reached: datetime
) -> None:
    duck, clickhouse = stores
    rollup.catch_up(duck, now)
    rollup.catch_up(clickhouse, now)
    on_clickhouse, on_duckdb = rollup.coverage(clickhouse), rollup.coverage(duck)
    assert on_clickhouse is not None and on_duckdb is not None
    frontier = on_clickhouse.frontier
    assert frontier == reached and on_duckdb.frontier == rollup.floor_hour(now - rollup.SETTLE)
    expected = fact_counts(duck, frontier)
    # The fixture's traffic is page views and their engagement (no custom events nor forms).
    assert all(
        expected[table][0] > 0 for table in ("page_facts", "engaged_facts", "moment_facts", "goal_facts")
    )
    assert fact_counts(clickhouse) == expected

    # As after a crash between a turn's inserts and its frontier's update, or with a second
    # process taking the same turns: every turn again, from the start.
    clickhouse.execute("UPDATE rollup_state SET frontier = NULL WHERE true")
    assert rollup.catch_up(clickhouse, now) > 0
    assert fact_counts(clickhouse, now) == expected


@pytest.mark.parametrize(
    ("frontiers", "reached"),
    [
        # Hours of the day under way: the second goes an hour further.
        ((datetime(2026, 3, 8, 13), datetime(2026, 3, 8, 14)), datetime(2026, 3, 8, 14)),
        # Its last two hours are waited for: the second stops at its start.
        ((datetime(2026, 3, 8, 21), datetime(2026, 3, 8, 22)), datetime(2026, 3, 8, 21)),
        # The day ended is taken whole, the first having waited for it.
        ((datetime(2026, 3, 8, 23), datetime(2026, 3, 9)), datetime(2026, 3, 9)),
    ],
)
def test_two_processes_holding_a_goal_at_once_make_its_facts_once(
    stores: tuple[Any, Any], frontiers: tuple[datetime, datetime], reached: datetime
) -> None:
    """Two processes hold a new goal at once, having read frontiers a turn apart: the ranges each
    inserts are cut alike, so their insert tokens match and each fact is kept once."""
    duck, clickhouse = stores
    rollup.catch_up(duck, NOW)
    while rollup.advance(clickhouse, NOW):  # the page facts, without holding the goal
        pass
    rule = rollup.goal_rule("page", None, None, None, GOAL.page)
    for frontier in frontiers:
        assert rollup._carry_on(clickhouse, rule, None, None, frontier)  # each sees it not held yet
    held_to = rollup.held_rules(clickhouse)[rule]
    assert held_to == reached
    made = clickhouse.execute("SELECT count(*), sum(hits) FROM goal_facts WHERE rule = ?", [rule])
    expected = duck.execute(
        "SELECT count(*), sum(hits) FROM goal_facts WHERE rule = ? AND hour < ?", [rule, held_to]
    )
    assert made.fetchall() == expected.fetchall()


def test_a_goal_removed_and_added_again_gets_its_facts_again(stores: tuple[Any, Any]) -> None:
    _, clickhouse = stores
    rollup.catch_up(clickhouse, NOW)
    held = fact_counts(clickhouse)["goal_facts"]
    assert held[0] > 0
    delete_goal(clickhouse, GOAL.name)
    while rollup.hold_goals(clickhouse):
        pass
    assert fact_counts(clickhouse)["goal_facts"] == (0, 0)
    upsert_goal(clickhouse, GOAL, datetime(2026, 2, 1))  # added again: a later first time
    while rollup.hold_goals(clickhouse):
        pass
    assert fact_counts(clickhouse)["goal_facts"] == held


def test_a_goal_on_a_store_without_events_is_held_without_a_turn_per_day(unique_database: str) -> None:
    """ClickHouse's min of no rows is 1970, not NULL: taken for the first fact's hour, holding a
    goal would insert a day at a time from 1970 to now (20,000 inserts) on a new store."""
    store = ClickHouseStore.open(parse_target(chdb_url(unique_database)))
    cursor = store.connection
    try:
        with statements_of(cursor) as statements:
            upsert_goal(cursor, GOAL, datetime(2026, 1, 1))
            rollup.catch_up(cursor, NOW)
        held = cursor.execute("SELECT rule FROM goal_rules").fetchall()
    finally:
        store.close()
    assert held == [(rollup.goal_rule("page", None, None, None, "/pricing*"),)]
    assert not [sql for sql in statements if sql.startswith("INSERT INTO goal_facts")]


def test_a_turn_taken_while_another_process_holds_a_new_goal_leaves_it_whole(
    stores: tuple[Any, Any], unique_database: str
) -> None:
    """A goal added while another process takes a day's turn: that turn read the goal rules before
    the goal was held, so it made no goal facts for its day, and the process holding the goal had
    read the frontier before the turn moved it. The goal's facts must cover the turn's day all the
    same (else its counts miss that day, for good)."""
    duck, clickhouse = stores
    rollup.catch_up(duck, NOW)
    rollup.catch_up(clickhouse, NOW - 3 * rollup.DAY)  # three days left for the other process
    other = ClickHouseStore.open(parse_target(chdb_url(unique_database)))
    added = Goal(name="Docs", kind="page", page="/docs*")
    for cursor in (duck, clickhouse):
        upsert_goal(cursor, added, datetime(2026, 2, 1))
    rollup.catch_up(duck, NOW)

    def the_other_turns_first(sql: str) -> None:
        if sql.startswith("INSERT INTO goal_rules"):  # the goal's facts made, not yet marked held
            rollup.advance(other.connection, NOW)

    with statements_of(clickhouse, before=the_other_turns_first):
        while rollup.hold_goals(clickhouse):
            pass
    # The server's job goes on: the next turns, then the goals.
    rollup.catch_up(other.connection, NOW)
    other.close()
    frontier = rollup.floor_day(NOW - rollup.SETTLE)
    coverage = rollup.coverage(clickhouse)
    assert coverage is not None and coverage.frontier == frontier
    assert rollup.goal_rule("page", None, None, None, "/docs*") in coverage.goal_rules
    assert fact_counts(clickhouse)["goal_facts"] == fact_counts(duck, frontier)["goal_facts"]


def test_a_turn_with_nothing_to_add_writes_nothing(stores: tuple[Any, Any]) -> None:
    """The rollup job asks every minute in every process; on ClickHouse each UPDATE of the frontier
    is a part of its own, so a turn that adds no hour leaves the state alone."""
    _, clickhouse = stores
    now = datetime(2026, 3, 9, 14, 20)
    rollup.catch_up(clickhouse, now)
    with statements_of(clickhouse) as statements:
        assert rollup.advance(clickhouse, now) == 0
        assert rollup.advance(clickhouse, now + rollup.HOUR) == 1  # the next hour, once settled
    # The second turn's alone (with the facts of its hour).
    assert len([sql for sql in statements if sql.startswith("UPDATE rollup_state")]) == 1
