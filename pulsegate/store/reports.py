"""The reports engine's queries: totals, breakdowns and time series over filtered sessions or events.

Two populations answer every report (docs/architecture.md, "Reports"):
- session reports count the sessions that started in the window and pass every filter, from
  their summary rows (a session's events are read only while it is still open);
- event-dimension breakdowns count the matching events received in the window whose session
  passes every filter.
A filter on an event dimension keeps the sessions with (for `!=`/`!~`: without) such an event in
the window. Leads are counted by creation time and belong to their session's row.

All SQL text comes from a `Dialect` (store/report_sql.py); request values are bound parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import duckdb

from pulsegate.domain.reports import GOAL, Dimension, Filter, Order
from pulsegate.store import conversions, rollup
from pulsegate.store.clickhouse.cursor import is_clickhouse
from pulsegate.store.queries import Scope
from pulsegate.store.report_sql import DUCKDB, Dialect, Sql, all_of, projects_in

Row = dict[str, Any]
# Counts are 0, never null.
COUNT_METRICS = frozenset({"visitors", "sessions", "pageviews", "events", "leads", "conversions"})


@dataclass(frozen=True, slots=True)
class Ranking:
    """Which rows a report returns: ranked by `order` (ties by value), `limit` of them from
    `offset`, or only those whose value is in `only_values` (a comparison's rows)."""

    order: Order | None = None
    limit: int | None = None
    offset: int = 0
    only_values: Sequence[Any] | None = None


EVERY_ROW = Ranking()


@dataclass(frozen=True, slots=True)
class Grouping:
    """What rows a report has: a value per session (a dimension, or a start bucket) and the
    matching value of a lead (None: the value of the lead's session)."""

    sessions: Sql
    leads: Sql | None = None


def dimension_grouping(dimension: Dimension, dialect: Dialect = DUCKDB) -> Grouping:
    return Grouping(dialect.session_value(dimension))


def bucket_grouping(interval: str, scope: Scope, tz: str, dialect: Dialect = DUCKDB) -> Grouping:
    """Sessions by the bucket of their start, leads by their creation's, in the zone `tz`."""
    started = dialect.local_bucket("started_at", interval, tz, scope.start, scope.end)
    created = dialect.local_bucket("created_at", interval, tz, scope.start, scope.end)
    return Grouping(started, created)


# ---- conditions --------------------------------------------------------------------------------


def _window(column: str, scope: Scope) -> Sql:
    return Sql(f"{column} >= ? AND {column} < ?", (scope.start, scope.end))


def _event_filter(
    filter_: Filter, scope: Scope, coverage: rollup.Coverage | None, key: str, dialect: Dialect
) -> Sql:
    """The session whose key is `key` had (for negations: had no) such an event in the window,
    found in the rollup (store/rollup.py)."""
    facts = rollup.fact_rows(rollup.facts_of(filter_.dimension), scope.start, scope.end, coverage)
    positive = dialect.condition(Sql("value"), Filter(filter_.dimension, _positive(filter_), filter_.values))
    verb = "NOT IN" if filter_.negated else "IN"
    return Sql(
        f"{key} {verb} (SELECT session_key FROM ({facts.text}) WHERE {positive.text})",
        facts.params + positive.params,
    )


def _goal_filter(filter_: Filter, scope: Scope, coverage: rollup.Coverage | None, key: str) -> Sql:
    """The session whose key is `key` converted (for negations: did not) on one of the filter's
    goals in the window."""
    rows = conversions.goals_rows(filter_.goals, scope.start, scope.end, coverage)
    verb = "NOT IN" if filter_.negated else "IN"
    converted = f"SELECT session_key FROM ({rows.text}) WHERE session_key IS NOT NULL"
    return Sql(f"{key} {verb} ({converted})", rows.params)


def _positive(filter_: Filter) -> Any:
    return {"!=": "==", "!~": "~"}.get(filter_.operator, filter_.operator)


def session_conditions(
    filters: Sequence[Filter],
    scope: Scope,
    dialect: Dialect = DUCKDB,
    *,
    coverage: rollup.Coverage | None = None,
) -> Sql:
    """Over `sessions` columns: every filter holds for the session (event filters read the rollup
    where `coverage` holds them, raw events elsewhere)."""
    return all_of(
        [
            _goal_filter(f, scope, coverage, "hash(session_id)")
            if f.dimension == GOAL
            else dialect.condition(dialect.session_value(f.dimension), f)
            if f.dimension.scope == "session"
            else _event_filter(f, scope, coverage, "hash(session_id)", dialect)
            for f in filters
        ]
    )


def event_conditions(
    filters: Sequence[Filter],
    scope: Scope,
    dialect: Dialect = DUCKDB,
    *,
    own: Dimension | None = None,
    coverage: rollup.Coverage | None = None,
    over_facts: bool = False,
    rows_are_own_events: bool = True,
) -> Sql:
    """Over `events` columns (or, `over_facts`, the rollup's rows): the event's session passes
    every filter. Filters on `own` (the dimension being broken down) also apply to the event's
    own value, so a breakdown by page filtered to /pricing shows /pricing, as Plausible's does.
    `rows_are_own_events`: each row is an event of `own` (a page view for `page`), not engaged
    time reported on the page by another event."""
    key = "session_key" if over_facts else "hash(session_id)"
    on_own = [f for f in filters if own is not None and f.dimension.name == own.name]
    # A row that passes a positive filter on its own dimension is itself the event that filter
    # asks the session for: a join would only repeat it. Not an engagement ping on /pricing: its
    # session may have no view of /pricing in the window (a view just before it began).
    asked = [f for f in filters if f.negated or f not in on_own or not rows_are_own_events]
    parts: list[Sql] = []
    if any(f.dimension.scope == "session" for f in asked):
        # Event filters go inside: the sessions they keep are few, so the outer join stays small
        # (a filtered page breakdown at 50M events: 590 ms against 705 with two joins).
        inner = session_conditions(asked, scope, dialect, coverage=coverage)
        kept = f"SELECT hash(session_id) FROM sessions WHERE {inner.text}"
        parts.append(Sql(f"{key} IN ({kept})", inner.params))
    else:
        parts.extend(_event_filter(f, scope, coverage, key, dialect) for f in asked)
    parts.extend(dialect.condition(Sql("value"), f) for f in on_own)
    return all_of(parts)


def _session_scope(scope: Scope) -> Sql:
    return _window("started_at", scope) & Sql("NOT is_bot") & projects_in(scope.projects)


def counted_sessions(
    scope: Scope,
    filters: Sequence[Filter],
    dialect: Dialect = DUCKDB,
    *,
    coverage: rollup.Coverage | None = None,
) -> Sql:
    """Over `sessions` columns: the sessions every session report counts (started in the window,
    not bots, of the projects, passing the filters)."""
    return _session_scope(scope) & session_conditions(filters, scope, dialect, coverage=coverage)


# ---- session reports ---------------------------------------------------------------------------


def session_report(
    cursor: duckdb.DuckDBPyConnection,
    scope: Scope,
    filters: Sequence[Filter],
    metrics: Sequence[str],
    grouping: Grouping | None = None,
    ranking: Ranking = EVERY_ROW,
    *,
    coverage: rollup.Coverage | None = None,
    dialect: Dialect = DUCKDB,
) -> tuple[list[Row], int]:
    """Rows of `{"value", metric: number…}` (one row without `value` when `grouping` is None) and
    how many rows there are in all."""
    wanted = set(metrics)
    session_metrics = [m for m in metrics if m not in ("leads", "goal_conversion_rate", "conversion_rate")]
    conditions = _session_scope(scope) & session_conditions(filters, scope, dialect, coverage=coverage)
    group = grouping.sessions if grouping else Sql("NULL")

    ctes: list[Sql] = []
    views, event_total, joined = "coalesce(page_views, 0)", "coalesce(event_count, 0)", ""
    if wanted & {"pageviews", "events", "views_per_session"}:
        open_since = _oldest_open_session(cursor, scope)
        if open_since is not None:
            # Sessions still open have no summary yet: count their events so far.
            open_scope = _session_scope(scope) & Sql("ended_at IS NULL")
            counts = "count(*) FILTER (WHERE type = 'pageview') AS open_views, count(*) AS open_events"
            open_ids = f"SELECT session_id FROM sessions WHERE {open_scope.text}"
            ctes.append(
                Sql(
                    f"open_counts AS (SELECT session_id, {counts} FROM events "
                    f"WHERE received_at >= ? AND session_id IN ({open_ids}) GROUP BY session_id)",
                    (open_since, *open_scope.params),
                )
            )
            views = "coalesce(page_views, open_views, 0)"
            event_total = "coalesce(event_count, open_events, 0)"
            joined = " LEFT JOIN open_counts USING (session_id)"
    goal_hits = "0"
    if "conversions" in wanted:
        ctes.append(_goal_hits(filters, scope, coverage))
        joined += " LEFT JOIN goal_hits ON goal_hits.session_key = hash(sessions.session_id)"
        goal_hits = "coalesce(goal_hits.hits, 0)"
    ctes.append(
        Sql(
            f"population AS (SELECT {group.text} AS grp, visitor_key, page_views, ended_at, engaged_ms, "
            f"engagement_score, {views} AS views, {event_total} AS event_total, "
            f"{goal_hits} AS goal_hits FROM sessions{joined} WHERE {conditions.text})",
            group.params + conditions.params,
        )
    )
    hidden = []
    if "goal_conversion_rate" in wanted:
        hidden.append("count(DISTINCT visitor_key) AS _converted_visitors")
    if "conversion_rate" in wanted:
        hidden.append("count(*) AS _sessions")
    aggregates = (
        ", ".join([*(f"{dialect.session_metrics[m]} AS {m}" for m in session_metrics), *hidden])
        or "count(*) AS _n"
    )
    # Totals have no GROUP BY, so an empty window still gives one row (of zeros).
    grouped_by = " GROUP BY grp" if grouping else ""
    ctes.append(
        Sql(
            f"by_session AS (SELECT {'grp' if grouping else 'NULL AS grp'}, {aggregates} "
            f"FROM population{grouped_by})"
        )
    )
    source, value = "by_session", "by_session.grp"
    if wanted & {"leads", "conversion_rate"}:
        ctes.extend(_lead_ctes(scope, filters, grouping, conditions, dialect, coverage, wanted))
    if "leads" in wanted:
        source = "by_session FULL JOIN by_lead ON by_session.grp IS NOT DISTINCT FROM by_lead.grp"
        value = "coalesce(by_session.grp, by_lead.grp)"
    if "conversion_rate" in wanted:
        # A value with sessions is in by_session: a lead-only row's rate is null, as it has no sessions.
        source += " LEFT JOIN by_converted ON by_session.grp IS NOT DISTINCT FROM by_converted.grp"
    if "goal_conversion_rate" in wanted:
        ctes.append(_visitors_without_goals(scope, filters, grouping, dialect, coverage))
        source += f" LEFT JOIN everyone ON {value} IS NOT DISTINCT FROM everyone.grp"
    columns = [
        "100.0 * coalesce(_converted_visitors, 0) / nullif(all_visitors, 0) AS goal_conversion_rate"
        if m == "goal_conversion_rate"
        else f"100.0 * coalesce(_converted_sessions, 0) / nullif(_sessions, 0) AS {m}"
        if m == "conversion_rate"
        else f"coalesce({m}, 0) AS {m}"
        if m in COUNT_METRICS
        else f"{m}"
        for m in metrics
    ]  # count metrics of lead-only rows are 0
    return ranked(cursor, ctes, source, value, columns, grouping is not None, ranking)


def _goal_hits(filters: Sequence[Filter], scope: Scope, coverage: rollup.Coverage | None) -> Sql:
    """goal_hits(session_key, hits): conversions in the window of the goals the report's positive
    goal filters name, per session."""
    # A goal named by two filters counts once.
    goals = {goal.name: goal for f in filters if f.dimension == GOAL and not f.negated for goal in f.goals}
    rows = conversions.goals_rows(tuple(goals.values()), scope.start, scope.end, coverage)
    return Sql(
        f"goal_hits AS (SELECT session_key, sum(hits) AS hits FROM ({rows.text}) "
        "WHERE session_key IS NOT NULL GROUP BY session_key)",
        rows.params,
    )


def _visitors_without_goals(
    scope: Scope,
    filters: Sequence[Filter],
    grouping: Grouping | None,
    dialect: Dialect,
    coverage: rollup.Coverage | None,
) -> Sql:
    """everyone(grp, all_visitors): each row's visitors with the goal filters left out, what a goal
    conversion rate divides by."""
    others = [f for f in filters if f.dimension != GOAL]
    where = _session_scope(scope) & session_conditions(others, scope, dialect, coverage=coverage)
    group = grouping.sessions if grouping else Sql("NULL")
    grouped = " GROUP BY grp" if grouping else ""
    return Sql(
        f"everyone AS (SELECT {group.text} AS grp, count(DISTINCT visitor_key) AS all_visitors "
        f"FROM sessions WHERE {where.text}{grouped})",
        group.params + where.params,
    )


def _oldest_open_session(cursor: duckdb.DuckDBPyConnection, scope: Scope) -> Any:
    where = _session_scope(scope) & Sql("ended_at IS NULL")
    # Not min() alone: ClickHouse's min of no rows is 1970, and every event since would be read.
    return cursor.execute(
        f"SELECT CASE WHEN count(*) > 0 THEN min(started_at) END FROM sessions WHERE {where.text}",
        where.params,
    ).fetchall()[0][0]


def _lead_ctes(
    scope: Scope,
    filters: Sequence[Filter],
    grouping: Grouping | None,
    conditions: Sql,
    dialect: Dialect,
    coverage: rollup.Coverage | None,
    wanted: set[str],
) -> list[Sql]:
    """by_lead(grp, leads): leads that are not spam, created in the window, whose session passes the
    filters (a lead without a session passes exactly when every filter is a negation); and
    by_converted(grp, _converted_sessions): the sessions of the report (`conditions`, over
    `sessions`) with a lead that is not spam, which the conversion rate divides by the row's sessions.

    Both from one join of the leads to their sessions (the leads are few: the join builds its table
    from them and streams the sessions past it). The rate had been a semi-join of every session of
    the window on the leads' ids, a second pass over the sessions: at 50M events the dashboard's
    breakdowns (sessions, visitors, leads, conversion rate) read them three times, now twice."""
    in_window = _window("created_at", scope) & projects_in(scope.projects)
    converting = "conversion_rate" in wanted
    if grouping is None:
        lead_group, session_group = Sql("NULL"), Sql("NULL")
    elif grouping.leads is not None:
        lead_group, session_group = grouping.leads, grouping.sessions if converting else Sql("NULL")
    else:
        lead_group, session_group = Sql("s.grp"), grouping.sessions
    grouped = " GROUP BY 1" if grouping else ""
    if not filters and session_group.text == "NULL" and not converting:
        # Without filters every lead of the window counts, in its own row: its session is not read
        # (the join read the session ids of every session: 70 ms of the overview at 50M events).
        return [
            Sql(
                f"by_lead AS (SELECT {lead_group.text} AS grp, count(*) AS leads FROM leads "
                f"WHERE NOT is_spam AND {in_window.text}{grouped})",
                lead_group.params + in_window.params,
            )
        ]
    passes = session_conditions(filters, scope, dialect, coverage=coverage)
    sessionless = "TRUE" if all(f.negated for f in filters) else "FALSE"
    chosen, counted = Sql(in_window.text, in_window.params), Sql("FALSE")
    if converting:
        # Any lead of a counted session converts it, whenever and wherever it was made.
        chosen = Sql(f"({in_window.text} OR session_id IS NOT NULL)", in_window.params)
        counted = conditions
    ctes = [
        Sql(
            # Read once when both the leads and the rate read it (DuckDB would join twice).
            f"lead_rows AS {'MATERIALIZED ' if converting and 'leads' in wanted else ''}"
            f"(SELECT l.session_id, l.in_window, {lead_group.text} AS lead_grp, "
            "s.grp AS session_grp, s.passes, s.counted FROM (SELECT session_id, created_at, "
            f"({in_window.text}) AS in_window FROM leads WHERE NOT is_spam AND {chosen.text}) AS l "
            f"LEFT JOIN (SELECT session_id, {session_group.text} AS grp, ({passes.text}) AS passes, "
            f"({counted.text}) AS counted FROM sessions) AS s USING (session_id))",
            lead_group.params + in_window.params + chosen.params + session_group.params + passes.params
            + counted.params,
        )
    ]  # fmt: skip
    if "leads" in wanted:
        ctes.append(
            Sql(
                f"by_lead AS (SELECT {'lead_grp' if grouping else 'NULL'} AS grp, count(*) AS leads "
                f"FROM lead_rows WHERE in_window AND coalesce(passes, {sessionless}){grouped})"
            )
        )
    if converting:
        ctes.append(
            Sql(
                f"by_converted AS (SELECT {'session_grp' if grouping else 'NULL'} AS grp, "
                f"count(DISTINCT session_id) AS _converted_sessions FROM lead_rows WHERE counted{grouped})"
            )
        )
    return ctes


# ---- event reports -----------------------------------------------------------------------------

# Exact distinct visitors per value cost eight times an approximate count at 10M events (516 vs
# 62 ms for pages, bench/reports.py), and at 50M need more than the default 64 MB of DuckDB memory.
# Up to this many stored events, event breakdowns count visitors and sessions exactly; beyond it
# with HyperLogLog (typically within 2%), and the answer says which metrics are approximate.
EXACT_DISTINCT_UP_TO = 2_000_000


def counts_approximately(cursor: duckdb.DuckDBPyConnection) -> bool:
    """Whether event breakdowns on this database count distinct values approximately (a catalog
    estimate of the events table's rows: no scan)."""
    if is_clickhouse(cursor):  # the active parts' row counts, kept by ClickHouse
        rows = cursor.execute(
            "SELECT sum(rows) FROM system.parts "
            "WHERE database = currentDatabase() AND table = 'events' AND active"
        ).fetchall()
    else:
        rows = cursor.execute(
            "SELECT estimated_size FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = 'events' "
            "AND database_name = current_database()"
        ).fetchall()
    return bool(rows) and (rows[0][0] or 0) > EXACT_DISTINCT_UP_TO


def event_report(
    cursor: duckdb.DuckDBPyConnection,
    scope: Scope,
    filters: Sequence[Filter],
    metrics: Sequence[str],
    dimension: Dimension,
    ranking: Ranking = EVERY_ROW,
    *,
    approximate: bool = False,
    coverage: rollup.Coverage | None = None,
    dialect: Dialect = DUCKDB,
) -> tuple[list[Row], int]:
    """A breakdown by an event dimension: its matching events in the window, by value, read from
    the rollup where `coverage` holds them and raw events elsewhere; distinct visitors and sessions with
    HyperLogLog when `approximate` (see `counts_approximately`)."""
    facts = rollup.fact_rows(rollup.facts_of(dimension), scope.start, scope.end, coverage)
    passes = projects_in(scope.projects) & event_conditions(
        filters, scope, dialect, own=dimension, coverage=coverage, over_facts=True
    )
    chosen = {**dialect.event_metrics, **(dialect.approximate_event_metrics if approximate else {})}
    counted = [m for m in metrics if m in chosen]
    aggregates = ", ".join(f"{chosen[m]} AS {m}" for m in counted) or "count(*) AS _n"
    ctes = [
        Sql(
            f"by_value AS (SELECT value AS grp, {aggregates}, sum(hits) AS _rows "
            f"FROM ({facts.text}) WHERE {passes.text} GROUP BY grp)",
            facts.params + passes.params,
        )
    ]
    source = "by_value"
    if "avg_engaged_ms" in metrics:
        # Engaged time is reported on other events of the page (engagement pings): summed apart,
        # per value, and divided by the page's views (what /analytics/pages/top always reported).
        engaged = rollup.fact_rows(rollup.ENGAGED, scope.start, scope.end, coverage)
        engaged_passes = projects_in(scope.projects) & event_conditions(
            filters, scope, dialect, own=dimension, coverage=coverage, over_facts=True,
            rows_are_own_events=False,
        )  # fmt: skip
        ctes.append(
            Sql(
                f"engaged AS (SELECT value AS grp, sum(engaged_ms) AS engaged FROM ({engaged.text}) "
                f"WHERE {engaged_passes.text} GROUP BY grp)",
                engaged.params + engaged_passes.params,
            )
        )
        source = "by_value LEFT JOIN engaged USING (grp)"
    columns = [
        "coalesce(engaged, 0) / _rows AS avg_engaged_ms" if m == "avg_engaged_ms" else m for m in metrics
    ]
    return ranked(cursor, ctes, source, "grp", columns, True, ranking)


# ---- ranking and paging ------------------------------------------------------------------------


def ranked(
    cursor: duckdb.DuckDBPyConnection,
    ctes: Sequence[Sql],
    source: str,
    value: str,
    columns: Sequence[str],
    grouped: bool,
    ranking: Ranking,
) -> tuple[list[Row], int]:
    """Rows of `{"value", column…}` from `source` after the CTEs, ranked and paged as `ranking`
    says, and how many rows there are in all (`value` is dropped when not `grouped`)."""
    params: list[Any] = [p for cte in ctes for p in cte.params]
    where = ""
    only_values = ranking.only_values
    if only_values is not None:
        known = [v for v in only_values if v is not None]
        checks = [f"{value} IN ({', '.join('?' for _ in known)})"] if known else []
        if len(known) < len(only_values):
            checks.append(f"{value} IS NULL")
        where = f"WHERE {' OR '.join(checks) or 'FALSE'}"
        params.extend(known)
    order = ranking.order
    ranked_by = f"{order.metric} {order.direction.upper()} NULLS LAST, " if order else ""
    paging = ""
    if ranking.limit is not None:
        paging = "LIMIT ? OFFSET ?"
        params.extend((ranking.limit, ranking.offset))
    sql = (
        f"WITH {', '.join(cte.text for cte in ctes)} "
        f"SELECT {value} AS value, {', '.join(columns)}, count(*) OVER () AS total_rows "
        f"FROM {source} {where} "
        f"ORDER BY {ranked_by}value ASC NULLS LAST {paging}"
    )
    result = cursor.execute(sql, params)
    names = [column[0] for column in result.description]
    rows = [dict(zip(names, row, strict=True)) for row in result.fetchall()]
    total = rows[0].pop("total_rows") if rows else 0
    for row in rows[1:]:
        row.pop("total_rows")
    if not grouped:
        for row in rows:
            row.pop("value")
    return rows, total


def engagement_scores(
    cursor: duckdb.DuckDBPyConnection, scope: Scope, filters: Sequence[Filter], dialect: Dialect = DUCKDB
) -> tuple[list[int], float | None, float | None]:
    """Counts of scored sessions in 0-20, 21-40, 41-60, 61-80, 81-100, and the mean and median score."""
    coverage = rollup.coverage(cursor)
    where = (
        _session_scope(scope)
        & Sql("engagement_score IS NOT NULL")
        & session_conditions(filters, scope, dialect, coverage=coverage)
    )
    row = cursor.execute(
        f"""
        SELECT count(*) FILTER (WHERE engagement_score <= 20),
               count(*) FILTER (WHERE engagement_score BETWEEN 21 AND 40),
               count(*) FILTER (WHERE engagement_score BETWEEN 41 AND 60),
               count(*) FILTER (WHERE engagement_score BETWEEN 61 AND 80),
               count(*) FILTER (WHERE engagement_score >= 81),
               avg(engagement_score), median(engagement_score)
        FROM sessions WHERE {where.text}
        """,
        where.params,
    ).fetchall()[0]
    return list(row[:5]), row[5], row[6]


def event_properties(
    cursor: duckdb.DuckDBPyConnection,
    scope: Scope,
    filters: Sequence[Filter],
    event_name: str,
    *,
    coverage: rollup.Coverage | None = None,
) -> list[tuple[str, int, int]]:
    """(property key, events, visitors) for the custom events called `event_name` in the window
    whose session passes the filters, most frequent first. From the rollup's property keys where
    it holds the hours (at 50M events 762,000 Signup events' JSON read raw took 0.26-0.8 s)."""
    facts = rollup.fact_rows(rollup.property_keys(event_name), scope.start, scope.end, coverage)
    passes = projects_in(scope.projects) & event_conditions(
        filters, scope, coverage=coverage, over_facts=True
    )
    return cursor.execute(
        f"""
        SELECT value AS key, sum(hits)::BIGINT AS events, count(DISTINCT visitor_key)
        FROM ({facts.text}) WHERE {passes.text}
        GROUP BY key ORDER BY events DESC, key
        """,
        facts.params + passes.params,
    ).fetchall()


def goal_counts(
    cursor: duckdb.DuckDBPyConnection,
    scope: Scope,
    filters: Sequence[Filter],
    goals: Sequence[Any],
    *,
    approximate: bool = False,
    coverage: rollup.Coverage | None = None,
    dialect: Dialect = DUCKDB,
) -> list[tuple[int, int]]:
    """(visitors who converted, conversions) of each goal in the window, in the sessions that
    started in it and pass the filters, as every session report counts them (so a rate over the
    window's visitors never passes 100%); a lead without a session counts as a conversion when
    every filter is a negation, as in the leads metric. Visitors with HyperLogLog when
    `approximate` (as event breakdowns: 4 goals took 101 ms exact, 56 estimated, at 10M events)."""
    metrics = dialect.approximate_event_metrics if approximate else dialect.event_metrics
    visitors = metrics["visitors"]
    if not goals:
        return []
    rows = conversions.goals_rows(tuple(goals), scope.start, scope.end, coverage)
    passes = event_conditions(filters, scope, coverage=coverage, over_facts=True)
    # A conversion in the window is of a session that started in it unless that session began
    # before the window and was still going at its start: those few are left out (a semi-join on
    # every session of the window cost 40 ms at 10M events, this anti-join almost nothing).
    crossing = Sql(
        "SELECT hash(session_id) FROM sessions WHERE started_at < ? AND (ended_at IS NULL OR ended_at >= ?)",
        (scope.start, scope.start),
    )
    sessionless = "TRUE" if all(f.negated for f in filters) else "FALSE"
    where = projects_in(scope.projects) & Sql(
        f"CASE WHEN session_key IS NULL THEN {sessionless} "
        f"ELSE ({passes.text}) AND session_key NOT IN ({crossing.text}) END",
        passes.params + crossing.params,
    )
    found = cursor.execute(
        f"SELECT goal, {visitors}, sum(hits) FROM ({rows.text}) WHERE {where.text} GROUP BY goal",
        rows.params + where.params,
    ).fetchall()
    by_goal = {goal: (visitors, int(hits)) for goal, visitors, hits in found}
    return [by_goal.get(n, (0, 0)) for n in range(len(goals))]


def passing_rows(scope: Scope, filters: Sequence[Filter], coverage: rollup.Coverage | None) -> Sql:
    """Over rows with `project` and `session_key` (the rollup's, a goal's): in the scope's projects,
    of a session that passes every filter."""
    return projects_in(scope.projects) & event_conditions(filters, scope, coverage=coverage, over_facts=True)
