"""SQL for what goals match: each goal's conversions as rows, for goal reports, goal filters and funnels.

`goal_rows` gives `project, session_key, visitor_key, hits`, one or more rows per session that
converted in the window (`hits` its conversions), the ids as 64-bit keys like the rollup's;
`goal_moments` gives `project, session_key, visitor_key, moment`, one row per conversion with its
order key (rollup.ORDER_KEY), for funnels. Page and event goals read the rollup (rollup.fact_rows:
stored where it holds the hours, raw events elsewhere): their goal facts where the rollup holds
their rule (rollup.hold_goals), else the page or event facts (a property goal the property's rows,
which keep the custom event they were on); a lead goal reads the leads that are not spam, of a session
that is not a bot's (a lead without a session has NULL keys).
"""

from __future__ import annotations

from datetime import datetime

from pulsegate.domain.goals import Goal
from pulsegate.store import rollup
from pulsegate.store.report_sql import Sql

COLUMNS = "project, session_key, visitor_key, hits"
MOMENT_COLUMNS = "project, session_key, visitor_key, moment"


def goal_rows(goal: Goal, start: datetime, end: datetime, coverage: rollup.Coverage | None) -> Sql:
    """The rows of `goal`'s conversions in [start, end), bots left out (of every project when the
    goal has none: the caller keeps the projects a key may see)."""
    if goal.kind == "lead":
        return _of_project(goal, _lead_rows(goal.form, start, end, "1 AS hits"))
    rule = rollup.goal_rule(goal.kind, goal.event, goal.prop_key, goal.prop_value, goal.page)
    if coverage is not None and rule in coverage.goal_rules:
        # The rule's own facts where they are held (per hour and session: same sums, same keys).
        return _of_project(goal, rollup.fact_rows(rollup.goal_facts(rule), start, end, coverage))
    if goal.kind == "page":
        facts = rollup.PAGES
    elif goal.prop_key is None:
        facts = rollup.EVENTS
    else:
        facts = rollup.Facts("event_facts", "prop", goal.prop_key)
    return _of_project(goal, _matching(goal, rollup.fact_rows(facts, start, end, coverage), COLUMNS))


def goal_moments(goal: Goal, start: datetime, end: datetime, coverage: rollup.Coverage | None) -> Sql:
    """One row per conversion on `goal` in [start, end) with its moment, bots left out."""
    if goal.kind == "lead":
        # A lead's moment: its creation, as an event of that millisecond whose browser clock agreed.
        shift, since = rollup.ORDER_KEY_MS_SHIFT, rollup.ORDER_KEY_EPOCH_MS
        moment = f"(epoch_ms(created_at) - {since}) * {1 << shift} + {1 << (shift - 1)} AS moment"
        return _of_project(goal, _lead_rows(goal.form, start, end, moment))
    if goal.kind == "page":
        facts = rollup.fact_rows(rollup.moments_of("page"), start, end, coverage)
    elif goal.prop_key is None:
        facts = rollup.fact_rows(rollup.moments_of("event"), start, end, coverage)
    else:
        # Property values have no moments in the rollup: the custom events of that name, raw.
        facts = Sql(
            "SELECT project, json_extract_string(props, ?) AS value, name AS event, hash(session_id) AS "
            f"session_key, hash(visitor_id) AS visitor_key, {rollup.ORDER_KEY} AS moment FROM events "
            "WHERE received_at >= ? AND received_at < ? AND NOT is_bot AND type = 'custom' AND name = ?",
            (f'$."{goal.prop_key}"', start, end, goal.event),
        )
    return _of_project(goal, _matching(goal, facts, MOMENT_COLUMNS))


def _matching(goal: Goal, facts: Sql, columns: str) -> Sql:
    """`columns` of the facts' rows whose value is the goal's (a page pattern, an event name, a
    property value on that event)."""
    if goal.kind == "page":
        matched = rollup.page_condition(goal.page or "")
    elif goal.prop_key is None:
        matched = Sql("value = ?", (goal.event,))
    else:
        matched = Sql("value = ? AND event = ?", (goal.prop_value, goal.event))
    return Sql(f"SELECT {columns} FROM ({facts.text}) WHERE {matched.text}", facts.params + matched.params)


def _of_project(goal: Goal, rows: Sql) -> Sql:
    if goal.project is None:
        return rows
    return Sql(f"SELECT * FROM ({rows.text}) WHERE project = ?", (*rows.params, goal.project))


def _lead_rows(form: str | None, start: datetime, end: datetime, measure: str) -> Sql:
    where = Sql(
        "created_at >= ? AND created_at < ? AND NOT is_spam "
        # NOT IN is NULL for a lead without a session: coalesce keeps it.
        "AND coalesce(session_id NOT IN (SELECT session_id FROM sessions WHERE is_bot), TRUE)",
        (start, end),
    )
    if form is not None:
        where = where & Sql("source = ?", (form,))
    return Sql(
        "SELECT project, CASE WHEN session_id IS NULL THEN NULL ELSE hash(session_id) END AS session_key, "
        "CASE WHEN visitor_id IS NULL THEN NULL ELSE hash(visitor_id) END AS visitor_key, "
        f"{measure} FROM leads WHERE {where.text}",
        where.params,
    )


def goals_rows(
    goals: tuple[Goal, ...], start: datetime, end: datetime, coverage: rollup.Coverage | None
) -> Sql:
    """The rows of any of `goals` (none: no rows), each with `goal`, the goal's position."""
    if not goals:
        return Sql("SELECT NULL::VARCHAR AS project, NULL::UBIGINT AS session_key, NULL::UBIGINT AS "
                   "visitor_key, 0 AS hits, 0 AS goal WHERE FALSE")  # fmt: skip
    parts = [goal_rows(goal, start, end, coverage) for goal in goals]
    union = " UNION ALL ".join(
        f"SELECT {COLUMNS}, {n} AS goal FROM ({part.text})" for n, part in enumerate(parts)
    )
    return Sql(union, tuple(p for part in parts for p in part.params))
