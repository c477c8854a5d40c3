"""SQL for funnels: how many visitors reached each step in order, and the median time between steps.

Each step is read as a goal's rows (store/conversions.py), so page and custom-event steps come
from the rollup and carry their moments as order keys (rollup.ORDER_KEY). Per session (or per
visitor) the moments of each step are gathered into lists; a journey starts at a first-step
moment and takes, for each next step, its earliest moment after the previous one (`list_filter`
in a lambda): earliest-next is the deepest journey from a start. Within a session the first
start is the best one; across a visitor's sessions every start is tried, as the window runs from
it. Each visitor then counts through their deepest journey, the earliest of equally deep ones.

Why lists and not joins or ASOF joins: at 10M events a 4-step funnel whose first step is the
most viewed page took 420-450 ms on raw events with lists, 570-690 ms with ASOF joins, and
160-200 ms with lists over the rollup (prototyped by hand on the bench file; bench/funnels.py
measures the shipped query).

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
    previous step, counting the sessions for which `passes` (over `session_key`) holds."""
    n = len(goals)
    sources = []
    params: list[object] = []
    for index, goal in enumerate(goals, start=1):
        rows = conversions.goal_rows(goal, scope.start, scope.end, coverage)
        first = index == 1 and within == "session"
        moment = "list_min(times)" if first else "unnest(times)"  # a session's first start is its best
        sources.append(
            f"SELECT session_key, visitor_key, {moment} AS o, {index} AS step FROM ({rows.text}) "
            f"WHERE session_key IS NOT NULL AND {passes.text}"
        )
        params.extend((*rows.params, *passes.params))
    key = "session_key" if within == "session" else "visitor_key"
    firsts = "min(o) FILTER (WHERE step = 1) AS start"
    if within == "visitor":
        firsts = "list(o) FILTER (WHERE step = 1) AS l1"
    gathered = ", ".join([firsts, *(f"list(o) FILTER (WHERE step = {i}) AS l{i}" for i in range(2, n + 1))])
    starts = "per" if within == "session" else "(SELECT *, unnest(l1) AS start FROM per)"
    in_window = ""
    if within == "visitor" and window_ms is not None:
        in_window = f" AND {_ms('x')} <= {_ms('start')} + {int(window_ms)}"
    steps = ["start AS o1"] + [
        f"list_min(list_filter(l{i}, lambda x: x > o{i - 1}{in_window})) AS o{i}" for i in range(2, n + 1)
    ]
    depth = " + ".join(f"(o{i} IS NOT NULL)::INTEGER" for i in range(1, n + 1))
    medians = ", ".join(f"median(({_ms(f'o{i}')} - {_ms(f'o{i - 1}')})::DOUBLE)" for i in range(2, n + 1))
    reached = ", ".join(f"count(o{i})" for i in range(1, n + 1))
    sql = (
        f"WITH moments AS ({' UNION ALL '.join(sources)}), "
        f"per AS (SELECT {key}, any_value(visitor_key) AS visitor, {gathered} FROM moments GROUP BY {key}), "
        f"journeys AS (SELECT visitor, start, {', '.join(steps)} FROM {starts} WHERE start IS NOT NULL), "
        f"best AS (SELECT * FROM journeys QUALIFY row_number() OVER "
        f"(PARTITION BY visitor ORDER BY {depth} DESC, start) = 1) "
        f"SELECT {reached}, {medians} FROM best"
    )
    row = cursor.execute(sql, params).fetchall()[0]
    return [int(count) for count in row[:n]], [None, *row[n:]]


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
