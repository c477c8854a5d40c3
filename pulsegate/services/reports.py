"""The reports engine's answers: a ReportQuery in, answer Structs out, on one database cursor.

Functions, not a class: the analytics service runs them on reader threads, the `report`
operation on the CLI's own connection.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import duckdb

from pulsegate.domain import analytics as answers
from pulsegate.domain import imported
from pulsegate.domain.funnels import Funnel, step_goal, step_results
from pulsegate.domain.goals import Goal
from pulsegate.domain.intervals import bucket_starts, truncate
from pulsegate.domain.periods import Paging, Window
from pulsegate.domain.reports import GOAL, Dimension, Metric, Order, ReportQuery, check_goal_metrics, describe
from pulsegate.domain.timestamps import utc_datetime
from pulsegate.errors import UnknownId
from pulsegate.store import funnels as funnel_sql
from pulsegate.store import imported_reports as imported_sql
from pulsegate.store import reports as sql
from pulsegate.store import rollup
from pulsegate.store.goals import goal_rows
from pulsegate.store.queries import Scope
from pulsegate.store.report_sql import dialect_of

TOTALS_METRICS = ("sessions", "visitors", "events", "pageviews", "avg_engaged_ms", "bounce_rate", "leads")


def scope_of(window: Window, projects: tuple[str, ...] | None) -> Scope:
    return Scope(utc_datetime(window.start_ms), utc_datetime(window.end_ms), projects)


def totals(cursor: duckdb.DuckDBPyConnection, query: ReportQuery, window: Window) -> answers.Totals:
    """The overview's headline numbers for `window`, filtered as `query` says."""
    return _totals(cursor, query, window)[0]


def total_sessions(cursor: duckdb.DuckDBPyConnection, query: ReportQuery, window: Window) -> int:
    """`totals(...).sessions` alone (what /analytics/geo divides by): no visitors, leads or events
    to count (at 50M events 20 ms where the totals take 200)."""
    scope = scope_of(window, query.projects)
    rows, _ = sql.session_report(cursor, scope, query.filters, ["sessions"], coverage=rollup.coverage(cursor))
    row = rows[0]
    part = imported_part(cursor, query, window, None, ["sessions"])
    if part is not None and part.plan.kind is not None:
        sums = part.sums(cursor, query, None).get(None, imported.DailySums())
        row = imported.add_imported(row, sums, part.plan, ["sessions"])
    return int(row["sessions"])


def _totals(
    cursor: duckdb.DuckDBPyConnection, query: ReportQuery, window: Window
) -> tuple[answers.Totals, ImportedPart | None]:
    """Headline numbers for `window`, with the imported days it adds (or why it does not)."""
    scope = scope_of(window, query.projects)
    coverage = rollup.coverage(cursor)
    rows, _ = sql.session_report(cursor, scope, query.filters, TOTALS_METRICS, coverage=coverage)
    part = imported_part(cursor, query, window, None, TOTALS_METRICS)
    row = rows[0]
    if part is not None and part.plan.kind is not None:
        sums = part.sums(cursor, query, None).get(None, imported.DailySums())
        row = imported.add_imported(row, sums, part.plan, TOTALS_METRICS)
    bounce = row["bounce_rate"]
    return answers.Totals(
        sessions=row["sessions"],
        visitors=row["visitors"],
        events=row["events"],
        page_views=row["pageviews"],
        average_engaged_ms=row["avg_engaged_ms"],
        bounce_rate=bounce / 100 if bounce is not None else None,  # a share here, as it always was
        leads=row["leads"],
    ), part


@dataclass(frozen=True, slots=True)
class ImportedPart:
    """The imported days of one window of a report, and what the report does with them."""

    plan: imported.Plan
    days: tuple[date, date]  # inclusive, the days of the window that imports cover

    def sums(
        self,
        cursor: duckdb.DuckDBPyConnection,
        query: ReportQuery,
        value: str | None,
        *,
        skip_missing: bool = False,
    ) -> dict[Any, imported.DailySums]:
        """The plan's kind summed by `value` (a dimension, 'day', or None for one total)."""
        assert self.plan.kind is not None
        return imported_sql.imported_totals(
            cursor, self.plan.kind, self.days, query.projects, query.filters, value, skip_missing=skip_missing
        )


def imported_part(
    cursor: duckdb.DuckDBPyConnection,
    query: ReportQuery,
    window: Window,
    dimension: Dimension | None,
    metrics: Sequence[str],
    interval: str | None = None,
) -> ImportedPart | None:
    """What `window` of a report does with imported days; None when it holds none."""
    held = imported.held_range(
        imported.imported_days(window), imported_sql.import_spans(cursor, query.projects)
    )
    if held is None:
        return None
    decided = imported.plan(
        dimension, query.filters, metrics, interval=interval, include=query.include_imported
    )
    return ImportedPart(decided, (held.first_day, held.last_day))


def imported_fields(parts: Sequence[ImportedPart | None]) -> dict[str, Any]:
    """An answer's `imported`, `imported_note` and `imported_range`, from its windows' parts (the
    report's own window first): nothing when no window holds an imported day."""
    used = [part for part in parts if part is not None]
    if not used:
        return {}
    shown = used[0]
    return {
        "imported": imported.INCLUDED if shown.plan.kind is not None else imported.EXCLUDED,
        "imported_note": imported.note(shown.plan),
        "imported_range": imported.ImportedRange(first_day=shown.days[0], last_day=shown.days[1]),
    }


def overview(cursor: duckdb.DuckDBPyConnection, query: ReportQuery) -> answers.Overview:
    """Headline numbers for the window and the one it is compared with (the previous by default)."""
    earlier = query.comparison or query.window.previous
    current, part = _totals(cursor, query, query.window)
    previous, earlier_part = _totals(cursor, query, earlier)
    return answers.Overview(
        period=answers.Period.of(query.window),
        current=current,
        previous=previous,
        compare=query.compare or "previous",
        previous_period=answers.Period.of(earlier),
        filters=[describe(f) for f in query.filters],
        **imported_fields([part, earlier_part]),
    )


def rows(
    cursor: duckdb.DuckDBPyConnection,
    query: ReportQuery,
    window: Window,
    dimension: Dimension,
    metrics: Sequence[str],
    ranking: sql.Ranking = sql.EVERY_ROW,
) -> tuple[list[answers.ReportRow], int]:
    """Breakdown rows by `dimension` over `window`, as `ranking` says, and how many there are."""
    scope = scope_of(window, query.projects)
    coverage = rollup.coverage(cursor)
    if dimension.scope == "event":
        estimate = sql.counts_approximately(cursor)
        return sql.event_report(
            cursor, scope, query.filters, metrics, dimension, ranking, approximate=estimate, coverage=coverage
        )
    return sql.session_report(
        cursor, scope, query.filters, metrics, sql.dimension_grouping(dimension), ranking, coverage=coverage
    )


def breakdown(
    cursor: duckdb.DuckDBPyConnection,
    query: ReportQuery,
    dimension: Dimension,
    metrics: Sequence[Metric],
    order: Order,
    paging: Paging,
) -> answers.Breakdown:
    """One page of rows by `dimension`, each with its earlier value when `query.compare` is set."""
    check_goal_metrics(metrics, query.filters)
    names = [metric.name for metric in metrics]
    parts: dict[Window, ImportedPart | None] = {}

    def fetch(window: Window, ranking: sql.Ranking) -> tuple[list[answers.ReportRow], int]:
        part = parts[window] = imported_part(cursor, query, window, dimension, names)
        if part is None or part.plan.kind is None:
            return rows(cursor, query, window, dimension, names, ranking)
        return _with_imported(cursor, query, window, dimension, names, ranking, part)

    found, total = compared_page(query, order, paging, fetch, _empty(names))
    earlier = query.comparison
    return answers.Breakdown(
        dimension=dimension.name,
        period=answers.Period.of(query.window),
        metrics=names,
        filters=[describe(f) for f in query.filters],
        page=paging.page,
        limit=paging.limit,
        total_rows=total,
        rows=found,
        comparison=answers.Period.of(earlier) if earlier else None,
        approximate=approximated(cursor, dimension, names),
        **imported_fields([parts.get(query.window), *([parts.get(earlier)] if earlier else [])]),
    )


def _with_imported(
    cursor: duckdb.DuckDBPyConnection,
    query: ReportQuery,
    window: Window,
    dimension: Dimension,
    names: Sequence[str],
    ranking: sql.Ranking,
    part: ImportedPart,
) -> tuple[list[answers.ReportRow], int]:
    """Breakdown rows with the imported sums of each value added, ranked and paged here: a value's
    rank depends on both (the rows of every value are read; imports are days, not events)."""
    assert part.plan.kind is not None
    own, _ = rows(cursor, query, window, dimension, names, sql.Ranking(only_values=ranking.only_values))
    sums = part.sums(cursor, query, dimension.name, skip_missing=dimension.scope == "event")
    if ranking.only_values is not None:
        wanted = set(ranking.only_values)
        sums = {value: found for value, found in sums.items() if value in wanted}
    merged = imported.merge_rows(own, sums, part.plan, names, _empty(names))
    order = ranking.order
    return imported.rank_rows(
        merged,
        order.metric if order else None,
        order is not None and order.direction == "desc",
        ranking.limit,
        ranking.offset,
    )


def compared_page(
    query: ReportQuery,
    order: Order,
    paging: Paging,
    fetch: Callable[[Window, sql.Ranking], tuple[list[answers.ReportRow], int]],
    nothing: dict[str, Any],
) -> tuple[list[answers.ReportRow], int]:
    """One page of ranked rows (`fetch(window, ranking)`) and how many there are; with
    `query.compare`, each row gains its value's numbers in the earlier window as `comparison`
    (`nothing` where that value had none)."""
    found, total = fetch(query.window, sql.Ranking(order=order, limit=paging.limit, offset=paging.offset))
    earlier = query.comparison
    if earlier is not None and found:
        before, _ = fetch(earlier, sql.Ranking(only_values=[row["value"] for row in found]))
        by_value = {row.pop("value"): row for row in before}
        for row in found:
            row["comparison"] = by_value.get(row["value"]) or dict(nothing)
    return found, total


def approximated(cursor: duckdb.DuckDBPyConnection, dimension: Dimension, names: Sequence[str]) -> list[str]:
    """The metrics of a breakdown by `dimension` that are estimates on this database."""
    if dimension.scope != "event" or not sql.counts_approximately(cursor):
        return []
    return [name for name in names if name in ("visitors", "sessions")]


def timeseries(
    cursor: duckdb.DuckDBPyConnection, query: ReportQuery, interval: str, metrics: Sequence[Metric]
) -> answers.Timeseries:
    """Every bucket of the window, zero-filled, and the comparison window's buckets when asked."""
    check_goal_metrics(metrics, query.filters)
    names = [metric.name for metric in metrics]
    earlier = query.comparison
    comparison = None
    earlier_part = None
    if earlier is not None:
        earlier_buckets, earlier_part = _buckets(cursor, query, earlier, interval, names)
        comparison = answers.TimeseriesComparison(period=answers.Period.of(earlier), buckets=earlier_buckets)
    buckets, part = _buckets(cursor, query, query.window, interval, names)
    return answers.Timeseries(
        period=answers.Period.of(query.window),
        interval=interval,
        metrics=names,
        filters=[describe(f) for f in query.filters],
        buckets=buckets,
        comparison=comparison,
        **imported_fields([part, earlier_part]),
    )


def _buckets(
    cursor: duckdb.DuckDBPyConnection, query: ReportQuery, window: Window, interval: str, names: Sequence[str]
) -> tuple[list[answers.ReportRow], ImportedPart | None]:
    scope = scope_of(window, query.projects)
    grouping = sql.bucket_grouping(interval, scope, window.tz, dialect_of(cursor))
    found, _ = sql.session_report(
        cursor, scope, query.filters, names, grouping, coverage=rollup.coverage(cursor)
    )
    by_start: dict[datetime, answers.ReportRow] = {row.pop("value"): row for row in found}
    buckets: list[answers.ReportRow] = [
        {"start": start.isoformat(), **(by_start.get(start) or _empty(names))}
        for start in bucket_starts(window, interval)
    ]
    part = imported_part(cursor, query, window, None, names, interval)
    if part is not None and part.plan.kind is not None:
        # Each imported day falls whole into the bucket holding its date (domain/imported.py).
        by_bucket: dict[str, imported.DailySums] = {}
        for day, sums in part.sums(cursor, query, "day").items():
            start = truncate(datetime(day.year, day.month, day.day), interval).isoformat()
            by_bucket[start] = imported.add_sums(by_bucket.get(start, imported.DailySums()), sums)
        buckets = [
            imported.add_imported(bucket, by_bucket[bucket["start"]], part.plan, names)
            if bucket["start"] in by_bucket
            else bucket
            for bucket in buckets
        ]
    return buckets, part


def _empty(names: Sequence[str]) -> dict[str, Any]:
    """A row's metrics where nothing was counted: 0 for counts, null for averages and rates."""
    return {name: 0 if name in sql.COUNT_METRICS else None for name in names}


def event_properties(
    cursor: duckdb.DuckDBPyConnection, query: ReportQuery, event: str
) -> answers.EventProperties:
    """The property keys the custom event `event` carried in the window, most frequent first."""
    scope = scope_of(query.window, query.projects)
    found = sql.event_properties(cursor, scope, query.filters, event, coverage=rollup.coverage(cursor))
    return answers.EventProperties(
        event=event,
        period=answers.Period.of(query.window),
        filters=[describe(f) for f in query.filters],
        properties=[
            answers.PropertyCount(key=key, events=events, visitors=visitors)
            for key, events, visitors in found
        ],
    )


def defined_goals(cursor: duckdb.DuckDBPyConnection, projects: tuple[str, ...] | None = None) -> list[Goal]:
    """The goals (added with `goals add` or declared in the config file) that count in `projects`
    (None: every goal), by name: a key limited to projects never learns the others' names."""
    return [
        goal
        for goal, *_ in goal_rows(cursor)
        if goal.project is None or projects is None or goal.project in projects
    ]


def goal_base(cursor: duckdb.DuckDBPyConnection, query: ReportQuery, window: Window) -> int:
    """The visitors a goal's rate is a share of: the window's, of the sessions that pass the
    filters but goal ones (as goal_conversion_rate: filtered by a goal, each goal's rate is the
    share of all visitors who converted on both)."""
    others = [f for f in query.filters if f.dimension != GOAL]
    scope = scope_of(window, query.projects)
    totals, _ = sql.session_report(cursor, scope, others, ["visitors"], coverage=rollup.coverage(cursor))
    return int(totals[0]["visitors"])


def goal_numbers(
    cursor: duckdb.DuckDBPyConnection, query: ReportQuery, window: Window
) -> tuple[list[Goal], list[tuple[int, int]], bool]:
    """The goals the query's projects see, each one's (visitors who converted, conversions) in
    `window`, and whether visitors are estimates."""
    shown = defined_goals(cursor, query.projects)
    estimate = sql.counts_approximately(cursor)
    scope = scope_of(window, query.projects)
    counts = sql.goal_counts(
        cursor, scope, query.filters, shown, approximate=estimate, coverage=rollup.coverage(cursor)
    )
    return shown, counts, estimate


def goals_answer(
    query: ReportQuery,
    bases: Sequence[int],
    numbers: Sequence[tuple[list[Goal], list[tuple[int, int]], bool]],
) -> answers.Goals:
    """The answer from each window's base and goal numbers (the window first, then its comparison)."""
    shown, counts, estimate = numbers[0]
    rows = []
    for n, goal in enumerate(shown):
        converted, total = counts[n]
        comparison = None
        if len(numbers) > 1:
            was_converted, was_total = numbers[1][1][n]
            comparison = answers.GoalNumbers(
                visitors=was_converted,
                conversions=was_total,
                conversion_rate=answers.percent(was_converted, bases[1]),
            )
        rows.append(
            answers.GoalConversions(
                name=goal.name,
                kind=goal.kind,
                description=goal.describe(),
                project=goal.project,
                visitors=converted,
                conversions=total,
                conversion_rate=answers.percent(converted, bases[0]),
                comparison=comparison,
            )
        )
    earlier = query.comparison
    return answers.Goals(
        period=answers.Period.of(query.window),
        filters=[describe(f) for f in query.filters],
        visitors=bases[0],
        goals=rows,
        comparison=answers.Period.of(earlier) if earlier else None,
        approximate=estimate,
    )


def saved_funnels(cursor: duckdb.DuckDBPyConnection, projects: tuple[str, ...] | None) -> list[Funnel]:
    """The saved funnels a key limited to `projects` may run, by name."""
    return [
        funnel
        for funnel, _ in funnel_sql.funnel_rows(cursor)
        if funnel.project is None or projects is None or funnel.project in projects
    ]


def saved_funnel(cursor: duckdb.DuckDBPyConnection, name: str, projects: tuple[str, ...] | None) -> Funnel:
    """The saved funnel called `name`, or UnknownId."""
    for funnel in saved_funnels(cursor, projects):
        if funnel.name == name:
            return funnel
    raise UnknownId(f"name: no saved funnel called {name!r} (pulsegate funnels list)")


def funnel(cursor: duckdb.DuckDBPyConnection, query: ReportQuery, asked: Funnel) -> answers.FunnelReport:
    """How many of the window's visitors (of sessions that pass the filters) reached each step."""
    known = {goal.name: goal for goal in defined_goals(cursor, query.projects)}
    goals = [step_goal(step, known) for step in asked.steps]
    projects = query.projects
    if asked.project is not None:
        projects = (asked.project,)  # saved_funnel only gives a key the funnels of its projects
    scope = scope_of(query.window, projects)
    coverage = rollup.coverage(cursor)
    passes = sql.passing_rows(scope, query.filters, coverage)
    reached, medians = funnel_sql.funnel_counts(
        cursor, scope, goals, passes, asked.within, asked.window_ms, coverage=coverage
    )
    return answers.FunnelReport(
        name=asked.name,
        period=answers.Period.of(query.window),
        within=asked.within,
        window_ms=asked.window_ms,
        filters=[describe(f) for f in query.filters],
        steps=step_results(asked.steps, reached, medians),
        conversion_rate=answers.percent(reached[-1], reached[0]),
    )
