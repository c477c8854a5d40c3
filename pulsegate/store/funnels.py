"""SQL for funnels: how many visitors reached each step in order, and the median time between steps.

Each step is read as a goal's moments (store/conversions.goal_moments): one row per page view,
custom event or lead with its order key (rollup.ORDER_KEY), from the rollup's `moment_facts`
where it holds the hours. A journey starts at a first-step moment and takes, for each next step,
its earliest moment after the previous one (a join on the session or visitor key, then `min`):
earliest-next is the deepest journey from a start. Within a session the first start is the best
one; across a visitor's sessions every start is tried, as the window runs from it. Each visitor
then counts through their deepest journey, the earliest of equally deep ones.

How it got here (bench/conversions.py, 10M events, the most viewed page as first step, 64 MB):
per-key lists of moments with `list_filter` lambdas took 420-450 ms over raw events and ran out
of memory across a visitor's sessions; the same lists kept on the aggregated rollup rows took
210 ms but a day of them could not be sorted into the rollup in 64 MB at 50M events; joins on
the unaggregated moments do both (BENCHMARKS.md, issue 17).

Also the saved funnels' table.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from pulsegate.domain.funnels import Funnel, parse_step
from pulsegate.domain.goals import Goal
from pulsegate.store import conversions, rollup
from pulsegate.store.clickhouse.cursor import is_clickhouse
from pulsegate.store.queries import Scope
from pulsegate.store.report_sql import Sql

if TYPE_CHECKING:
    import duckdb


def _ms(key: str) -> str:
    """An order key's receive time in ms."""
    return f"({key} >> {rollup.ORDER_KEY_MS_SHIFT})"


def funnel_counts(
    cursor: duckdb.DuckDBPyConnection,
    scope: Scope,
    goals: Sequence[Goal],
    passes: Sql,
    within: str,
    window_ms: int | None,
    *,
    coverage: rollup.Coverage | None,
) -> tuple[list[int], list[float | None]]:
    """Visitors who reached each step (each step's goal, in order) and the median ms from the
    previous step, counting the sessions for which `passes` (over `session_key`) holds.

    The first step's visitors are counted apart (every visitor with a first-step moment), and each
    visitor's best journey (deepest, then earliest start) is chosen among those that reached the
    second step only: a journey that stops at the first step counts in no later step nor median.
    At 50M events, with the most viewed page as first step (2.4M moments), choosing among every
    start had taken 2.0 s of the 4.4 s of a funnel across a visitor's sessions, sorting 2.4M rows
    (bench/analytics.py; 1.5 s now). An `arg_min` per visitor instead of the sort was slower.

    Within a session the first step's moments are joined to the second's before any grouping (the
    old way grouped all 2.3M first-step moments by session first), and a page or event first
    step's visitors are counted from the rollup's per-hour rows: 0.81-0.94x of the CPU at 50M events
    with 64 MB (0.7x with 256 MB: at 64 MB the hash tables spill)."""
    n = len(goals)
    if n < 2:
        raise ValueError("a funnel has two steps or more")
    key = "session_key" if within == "session" else "visitor_key"
    ctes: list[str] = []
    params: list[object] = []
    for index, goal in enumerate(goals, start=1):
        rows = conversions.goal_moments(goal, scope.start, scope.end, coverage)
        # Not materialized: the first step's rows are read twice, which costs less than keeping them.
        ctes.append(
            f"rows{index} AS NOT MATERIALIZED (SELECT session_key, visitor_key, moment FROM ({rows.text}) "
            f"WHERE session_key IS NOT NULL AND {passes.text})"
        )
        params.extend((*rows.params, *passes.params))
    in_window = ""
    if within == "visitor" and window_ms is not None:
        in_window = f" AND {_ms('m.moment')} <= {_ms('p.start')} + {int(window_ms)}"
    if within == "session":
        # A session's first start is its best: the earliest-next steps from it go deepest.
        # Joined before grouping: of a session's pairs (first-step moment, later second-step
        # moment), the least first-step moment is its first start (a second-step moment after
        # any first-step moment is after the first) and the least second-step moment its
        # earliest-next; only sessions that reach step 2 are grouped.
        ctes.append(
            "reached2 AS (SELECT p.session_key, any_value(p.visitor_key) AS visitor, "
            "min(p.moment) AS start, min(m.moment) AS o2 FROM rows1 p JOIN rows2 m "
            "ON m.session_key = p.session_key AND m.moment > p.moment GROUP BY p.session_key)"
        )
        journey, carried, visitor = ["session_key"], ["session_key", "visitor", "start"], "visitor"
    else:
        # Across sessions every start is tried (each first-step moment): the window runs from it.
        ctes.append(
            "reached2 AS (SELECT p.visitor_key, p.start, min(m.moment) AS o2 "
            "FROM (SELECT visitor_key, moment AS start FROM rows1) p JOIN rows2 m "
            f"ON m.visitor_key = p.visitor_key AND m.moment > p.start{in_window} "
            "GROUP BY p.visitor_key, p.start)"
        )
        journey, carried, visitor = ["visitor_key", "start"], ["visitor_key", "start"], "visitor_key"
    if is_clickhouse(cursor):
        steps, journeys = _chained_steps(n, key, [*carried, "o2"], in_window)
    else:
        steps, journeys = _steps_joined_at_the_end(n, key, journey, in_window)
    ctes.extend(steps)
    depth = " + ".join(f"(o{i} IS NOT NULL)::INTEGER" for i in range(3, n + 1)) or "0"
    moments = ", ".join(["start AS o1", *(f"o{i}" for i in range(2, n + 1))])
    ctes.append(
        f"best AS (SELECT {moments} FROM {journeys} "
        f"QUALIFY row_number() OVER (PARTITION BY {visitor} ORDER BY {depth} DESC, start) = 1)"
    )
    medians = ", ".join(f"median(({_ms(f'o{i}')} - {_ms(f'o{i - 1}')})::DOUBLE)" for i in range(2, n + 1))
    reached = ", ".join(f"count(o{i})" for i in range(2, n + 1))
    first = "(SELECT count(DISTINCT visitor_key) FROM rows1)"
    if goals[0].kind == "page" or (goals[0].kind == "event" and goals[0].prop_key is None):
        # The first step's visitors from the rollup's rows per hour and session (page_facts,
        # event_facts): the same events as its moments, a third as many rows at 50M events.
        rows = conversions.goal_rows(goals[0], scope.start, scope.end, coverage)
        first = (
            f"(SELECT count(DISTINCT visitor_key) FROM ({rows.text}) "
            f"WHERE session_key IS NOT NULL AND {passes.text})"
        )
        params.extend((*rows.params, *passes.params))
    sql = f"WITH {', '.join(ctes)} SELECT {first}, {reached}, {medians} FROM best"
    row = cursor.execute(sql, params).fetchall()[0]
    return [int(count) for count in row[:n]], [None, *row[n:]]


def _steps_joined_at_the_end(n: int, key: str, journey: list[str], in_window: str) -> tuple[list[str], str]:
    """The CTEs reached3 … reachedN, each the journeys still going and the earliest moment of its
    step after their last one, and the FROM that joins them all to reached2 (DuckDB's shape: it
    computes each CTE once; the chain below ran out of its 64 MB at 50M events)."""
    carried = ", ".join(f"p.{column}" for column in journey)
    ctes, previous = [], "o2"
    for index in range(3, n + 1):
        ctes.append(
            f"reached{index} AS (SELECT {carried}, "
            f"min(m.moment) AS o{index} FROM reached{index - 1} p JOIN rows{index} m "
            f"ON m.{key} = p.{key} AND m.moment > p.{previous}{in_window} GROUP BY {carried})"
        )
        previous = f"o{index}"
    joined = " ".join(f"LEFT JOIN reached{i} USING ({', '.join(journey)})" for i in range(3, n + 1))
    return ctes, f"reached2 {joined}"


def _chained_steps(n: int, key: str, carried: list[str], in_window: str) -> tuple[list[str], str]:
    """The CTEs reached3 … reachedN as a chain: each every journey with all its moments so far, the
    next step's earliest moment after the last (NULL once it stopped) added by a LEFT JOIN; the
    FROM is reachedN alone. ClickHouse's shape: it inlines a CTE at every use, so the joins at the
    end computed reached2 N - 1 times, reached3 N - 2 times, and so on."""
    ctes, carried = [], list(carried)
    for index in range(3, n + 1):
        named = ", ".join(f"p.{column} AS {column}" for column in carried)
        ctes.append(
            f"reached{index} AS (SELECT {named}, min(m.moment) AS o{index} "
            f"FROM reached{index - 1} p LEFT JOIN rows{index} m "
            f"ON m.{key} = p.{key} AND m.moment > p.o{index - 1}{in_window} "
            f"GROUP BY {', '.join(f'p.{column}' for column in carried)})"
        )
        carried.append(f"o{index}")
    return ctes, f"reached{n}"


# ---- saved funnels -----------------------------------------------------------------------------

_COLUMNS = ("name", "steps", "within", "window_ms", "project")


def funnel_rows(connection: duckdb.DuckDBPyConnection) -> list[tuple[Funnel, datetime]]:
    """Every saved funnel and when it was saved, by name."""
    columns = ", ".join(_COLUMNS)
    rows = connection.execute(f"SELECT {columns}, created_at FROM funnels ORDER BY name").fetchall()
    return [
        (
            Funnel(
                name=name,
                steps=tuple(parse_step(text) for text in json.loads(steps)),
                within=within,
                window_ms=window_ms,
                project=project,
            ),
            created_at,
        )
        for name, steps, within, window_ms, project, created_at in rows
    ]


def upsert_funnel(connection: duckdb.DuckDBPyConnection, funnel: Funnel, created_at: datetime) -> None:
    """Save a funnel, or replace the one of that name (keeping when it was first saved)."""
    values = [
        funnel.name,
        json.dumps([step.text for step in funnel.steps]),
        funnel.within,
        funnel.window_ms,
        funnel.project,
    ]
    updates = ", ".join(f"{column} = excluded.{column}" for column in _COLUMNS[1:])
    connection.execute(
        f"INSERT INTO funnels ({', '.join(_COLUMNS)}, created_at) VALUES (?, ?, ?, ?, ?, ?) "
        f"ON CONFLICT (name) DO UPDATE SET {updates}",
        [*values, created_at],
    )


def delete_funnel(connection: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Remove a saved funnel; False when there was none of that name."""
    existed = connection.execute("SELECT count(*) FROM funnels WHERE name = ?", [name]).fetchall()[0][0]
    connection.execute("DELETE FROM funnels WHERE name = ?", [name])
    return bool(existed)
