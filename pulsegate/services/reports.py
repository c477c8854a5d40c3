"""The reports engine's answers: a ReportQuery in, answer Structs out, on one database cursor.

Functions, not a class: the analytics service runs them on reader threads, the `report`
operation on the CLI's own connection.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import duckdb

from pulsegate.domain import analytics as answers
from pulsegate.domain.intervals import bucket_starts
from pulsegate.domain.periods import Paging, Window
from pulsegate.domain.reports import Dimension, Metric, Order, ReportQuery, describe
from pulsegate.domain.timestamps import utc_datetime
from pulsegate.store import reports as sql
from pulsegate.store import rollup
from pulsegate.store.queries import Scope

TOTALS_METRICS = ("sessions", "visitors", "events", "pageviews", "avg_engaged_ms", "bounce_rate", "leads")


def scope_of(window: Window, projects: tuple[str, ...] | None) -> Scope:
    return Scope(utc_datetime(window.start_ms), utc_datetime(window.end_ms), projects)


def totals(cursor: duckdb.DuckDBPyConnection, query: ReportQuery, window: Window) -> answers.Totals:
    """The overview's headline numbers for `window`, filtered as `query` says."""
    scope = scope_of(window, query.projects)
    coverage = rollup.coverage(cursor)
    rows, _ = sql.session_report(cursor, scope, query.filters, TOTALS_METRICS, coverage=coverage)
    row = rows[0]
    bounce = row["bounce_rate"]
    return answers.Totals(
        sessions=row["sessions"],
        visitors=row["visitors"],
        events=row["events"],
        page_views=row["pageviews"],
        average_engaged_ms=row["avg_engaged_ms"],
        bounce_rate=bounce / 100 if bounce is not None else None,  # a share here, as it always was
        leads=row["leads"],
    )


def overview(cursor: duckdb.DuckDBPyConnection, query: ReportQuery) -> answers.Overview:
    """Headline numbers for the window and the one it is compared with (the previous by default)."""
    earlier = query.comparison or query.window.previous
    return answers.Overview(
        period=answers.Period.of(query.window),
        current=totals(cursor, query, query.window),
        previous=totals(cursor, query, earlier),
        compare=query.compare or "previous",
        previous_period=answers.Period.of(earlier),
        filters=[describe(f) for f in query.filters],
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
    names = [metric.name for metric in metrics]
    ranking = sql.Ranking(order=order, limit=paging.limit, offset=paging.offset)
    found, total = rows(cursor, query, query.window, dimension, names, ranking)
    earlier = query.comparison
    if earlier is not None and found:
        values = [row["value"] for row in found]
        before, _ = rows(cursor, query, earlier, dimension, names, sql.Ranking(only_values=values))
        by_value = {row.pop("value"): row for row in before}
        for row in found:
            row["comparison"] = by_value.get(row["value"]) or _empty(names)
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
    )


def approximated(cursor: duckdb.DuckDBPyConnection, dimension: Dimension, names: Sequence[str]) -> list[str]:
    """The metrics of a breakdown by `dimension` that are estimates on this database."""
    if dimension.scope != "event" or not sql.counts_approximately(cursor):
        return []
    return [name for name in names if name in ("visitors", "sessions")]


def timeseries(
    cursor: duckdb.DuckDBPyConnection, query: ReportQuery, interval: str, metrics: Sequence[Metric]
) -> answers.Timeseries:
    """Every bucket of the window, zero-filled, and the comparison window's buckets when asked."""
    names = [metric.name for metric in metrics]
    earlier = query.comparison
    comparison = None
    if earlier is not None:
        comparison = answers.TimeseriesComparison(
            period=answers.Period.of(earlier), buckets=_buckets(cursor, query, earlier, interval, names)
        )
    return answers.Timeseries(
        period=answers.Period.of(query.window),
        interval=interval,
        metrics=names,
        filters=[describe(f) for f in query.filters],
        buckets=_buckets(cursor, query, query.window, interval, names),
        comparison=comparison,
    )


def _buckets(
    cursor: duckdb.DuckDBPyConnection, query: ReportQuery, window: Window, interval: str, names: Sequence[str]
) -> list[answers.ReportRow]:
    grouping = sql.bucket_grouping(interval, window.tz)
    scope = scope_of(window, query.projects)
    found, _ = sql.session_report(
        cursor, scope, query.filters, names, grouping, coverage=rollup.coverage(cursor)
    )
    by_start: dict[datetime, answers.ReportRow] = {row.pop("value"): row for row in found}
    return [
        {"start": start.isoformat(), **(by_start.get(start) or _empty(names))}
        for start in bucket_starts(window, interval)
    ]


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
