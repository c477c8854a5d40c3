"""Goals and funnels benchmark: GET /analytics/goals and /analytics/funnel over HTTP, against hand-written SQL.

Run from the repository root:

    python bench/conversions.py --events 10000000

It reuses the traffic of bench/reports.py (the same file, generated when missing, its rollup
brought up to date), declares four goals (a custom event, the same event with a property value,
a page pattern, a lead) and asks, over the last 30 days, warm, the median of `--repeats`:

- the goals report, against one bare SQL per goal over raw events (visitors and conversions);
- a 4-step funnel whose first step is the most viewed page, within a session and across a
  visitor's sessions (window 30 days), against the same funnel written by hand over raw events
  (per session or visitor, each step's moments in lists, the earliest of each step after the
  previous one: the shortest correct SQL we found, see store/funnels.py).

Both sides run in DuckDB with the same memory limit and 2 threads; the ratio is what the
targets are read against (this machine is shared: absolute times move between sessions).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.analytics import keyed_client
from bench.reports import bench_file, measured, roll_up
from pulsegate.domain.goals import Goal
from pulsegate.domain.periods import resolve_window
from pulsegate.domain.timestamps import now_ms, utc_datetime
from pulsegate.store.database import Database
from pulsegate.store.goals import upsert_goal

GOALS = (
    Goal(name="Signup", kind="event", event="Signup"),
    Goal(name="Pro signup", kind="event", event="Signup", prop_key="plan", prop_value="pro"),
    Goal(name="Pricing pages", kind="page", page="/p/1*"),
    Goal(name="Lead", kind="lead"),
)
# Each goal as a person would count it: (visitors, conversions) in the window, in the sessions that
# started in it (as every session report counts; `{started}`, below), over raw events.
BARE_GOALS = (
    "SELECT count(DISTINCT visitor_id), count(*) FROM events WHERE {w} AND {started} AND type = 'custom' "
    "AND name = 'Signup'",
    "SELECT count(DISTINCT visitor_id), count(*) FROM events WHERE {w} AND {started} AND type = 'custom' "
    "AND name = 'Signup' AND json_extract_string(props, '$.plan') = 'pro'",
    "SELECT count(DISTINCT visitor_id), count(*) FROM events WHERE {w} AND {started} AND type = 'pageview' "
    "AND path LIKE '/p/1%'",
    "SELECT count(DISTINCT visitor_id), count(*) FROM leads WHERE created_at >= ? AND created_at < ? AND NOT is_spam "
    "AND coalesce({started}, TRUE) AND coalesce(session_id NOT IN (SELECT session_id FROM sessions WHERE is_bot), TRUE)",
)
STEPS = ("page:/p/0", "page:/p/1", "event:Signup", "page:/p/2")
BARE_STEPS = (
    "type = 'pageview' AND path = '/p/0'",
    "type = 'pageview' AND path = '/p/1'",
    "type = 'custom' AND name = 'Signup'",
    "type = 'pageview' AND path = '/p/2'",
)
WINDOW_DAYS = 30
ROOMY = "2GB"


def bare_funnel(within: str) -> str:
    """The 4-step funnel by hand over raw events: per session (or visitor) each step's moments."""
    key = "session_id" if within == "session" else "visitor_id"
    where = (
        "received_at >= ? AND received_at < ? AND NOT is_bot AND ("
        + " OR ".join(f"({s})" for s in BARE_STEPS)
        + ")"
    )
    lists = ", ".join(f"list(received_at) FILTER ({s}) AS l{i + 1}" for i, s in enumerate(BARE_STEPS))
    if within == "session":
        starts, window = "per", ""
        first = "list_min(l1) AS o1"
    else:
        starts, window = "(SELECT *, unnest(l1) AS s FROM per)", f" AND x <= s + INTERVAL {WINDOW_DAYS} DAY"
        first = "s AS o1"
    chain = [first] + [
        f"list_min(list_filter(l{i}, lambda x: x > o{i - 1}{window})) AS o{i}"
        for i in range(2, len(BARE_STEPS) + 1)
    ]
    depth = " + ".join(f"(o{i} IS NOT NULL)::INTEGER" for i in range(1, len(BARE_STEPS) + 1))
    return (
        f"WITH per AS (SELECT {key}, any_value(visitor_id) AS v, {lists} FROM events WHERE {where} GROUP BY {key}), "
        f"j AS (SELECT v, {', '.join(chain)} FROM {starts}), "
        f"best AS (SELECT v, max({depth}) AS d FROM j GROUP BY v) "
        f"SELECT {', '.join(f'count(*) FILTER (WHERE d >= {i})' for i in range(1, len(BARE_STEPS) + 1))} FROM best"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="Goals and funnels over HTTP vs bare SQL")
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--memory-limit", default="64MB", help="DuckDB memory_limit for both sides")
    parser.add_argument("--database", type=Path, help="the bench file (reused when it exists)")
    args = parser.parse_args()
    end_ms = now_ms()
    database = bench_file(args.events, args.database, end_ms)
    window = resolve_window({"period": "30d"}, end_ms)
    bounds = [utc_datetime(window.start_ms), utc_datetime(window.end_ms)]

    db = Database.open(database, threads=2, memory_limit=args.memory_limit)
    roll_up(db.connection)
    for goal in GOALS:
        upsert_goal(db.connection, goal, utc_datetime(end_ms))
    db.connection.execute("CHECKPOINT")
    cursor = db.connection.cursor()
    w = "received_at >= ? AND received_at < ? AND NOT is_bot"

    # Conversions of the sessions that started in the window. The generator's events and leads
    # are not tied to their sessions' times (an event may come after its session ended), so this
    # is written as the engine decides it on real traffic, where the two agree: leave out the
    # sessions that began before the window and were still going at its start.
    started = (
        "session_id NOT IN (SELECT session_id FROM sessions WHERE started_at < ? "
        "AND (ended_at IS NULL OR ended_at >= ?))"
    )
    params = [*bounds, bounds[0], bounds[0]]

    def bare_goals() -> list[Any]:
        return [cursor.execute(sql.format(w=w, started=started), params).fetchall() for sql in BARE_GOALS]

    bare: dict[str, float | None] = {"goals": measured(bare_goals, args.repeats, "bare goals")}
    expected: dict[str, Any] = {"goals": bare_goals()}
    bare_memory: dict[str, str] = {"goals": args.memory_limit}
    for within in ("session", "visitor"):
        sql = bare_funnel(within)
        bare[within] = measured(lambda sql=sql: cursor.execute(sql, bounds).fetchall(), args.repeats, within)
        bare_memory[within] = args.memory_limit
        if bare[within] is None:
            # Over raw events the funnel does not fit the server's memory limit: time it with room
            # enough, so there is still a baseline to compare with.
            cursor.execute(f"SET memory_limit = '{ROOMY}'")
            bare[within] = measured(
                lambda sql=sql: cursor.execute(sql, bounds).fetchall(), args.repeats, within
            )
            bare_memory[within] = ROOMY
        expected[within] = cursor.execute(sql, bounds).fetchall()[0]
        cursor.execute(f"SET memory_limit = '{args.memory_limit}'")
    db.close()

    served: dict[str, float | None] = {}
    period = [("from", str(window.start_ms)), ("to", str(window.end_ms))]
    with keyed_client(database, args.memory_limit) as http:
        answers: dict[str, Any] = {}

        def ask(name: str, route: str, params: list[tuple[str, str]]) -> None:
            response = http.get(route, params=[*period, *params])
            response.raise_for_status()
            answers[name] = response.json()

        served["goals"] = measured(lambda: ask("goals", "/analytics/goals", []), args.repeats, "goals")
        steps = [("step", step) for step in STEPS]
        served["session"] = measured(
            lambda: ask("session", "/analytics/funnel", steps), args.repeats, "session"
        )
        visitor = [*steps, ("within", "visitor"), ("window", f"{WINDOW_DAYS}d")]
        served["visitor"] = measured(
            lambda: ask("visitor", "/analytics/funnel", visitor), args.repeats, "visitor"
        )

    # The same numbers on both sides, or the timing compares different work.
    got_goals = [
        (g["visitors"], g["conversions"])
        for g in sorted(answers["goals"]["goals"], key=lambda g: [x.name for x in GOALS].index(g["name"]))
    ]
    for (visitors, conversions), rows in zip(got_goals, expected["goals"], strict=True):
        # Beyond 2M events the goals' visitors are HyperLogLog estimates (the answer says so).
        assert conversions == rows[0][1] and abs(visitors - rows[0][0]) <= 0.05 * rows[0][0] + 1, (
            got_goals,
            rows,
        )
    for within in ("session", "visitor"):
        got = [step["visitors"] for step in answers[within]["steps"]]
        assert tuple(got) == tuple(expected[within]), (within, got, expected[within])

    print(f"\n{args.events:,} events over 30 days, DuckDB memory_limit {args.memory_limit}, threads 2, "
          f"median of {args.repeats} warm runs; funnel {' → '.join(STEPS)}\n")  # fmt: skip
    print("| question | bare SQL ms (its memory_limit) | HTTP ms | HTTP / bare |")
    print("|---|---:|---:|---:|")
    labels = {"goals": "goals (4: event, event+property, page pattern, lead)",
              "session": "4-step funnel within a session",
              "visitor": f"4-step funnel across a visitor's sessions (window {WINDOW_DAYS}d)"}  # fmt: skip
    for name, label in labels.items():
        before, took = bare[name], served[name]
        ratio = f"{took / before:.2f}" if took and before else "-"
        print(f"| {label} | {before or 0:.1f} ({bare_memory[name]}) | {took or 0:.1f} | {ratio} |")


if __name__ == "__main__":
    main()
