"""The lead reports: attribution (leads, outcomes and lead quality by the value of their touches)
and forms (each form's views, starts, submits and leads)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb

from pulsegate.domain import analytics as answers
from pulsegate.domain.attribution_reports import AttributionDimension, AttributionMetric, Model
from pulsegate.domain.form_reports import COUNTED, FORM_METRIC_NAMES
from pulsegate.domain.periods import Paging, Window
from pulsegate.domain.reports import Dimension, Order, ReportQuery, describe
from pulsegate.services.reports import scope_of
from pulsegate.store import reports as sql
from pulsegate.store.attribution_reports import attribution_rows
from pulsegate.store.form_reports import form_rows

# Metrics that are a count of leads: 0 where nothing was credited (the rest are null there).
_COUNTS = frozenset({"leads", "qualified", "won"})


def attribution(
    cursor: duckdb.DuckDBPyConnection,
    query: ReportQuery,
    model: Model,
    dimension: AttributionDimension,
    metrics: Sequence[AttributionMetric],
    order: Order,
    paging: Paging,
) -> answers.AttributionReport:
    """One page of values, ranked, each with its comparison window's numbers when asked."""
    names = [metric.name for metric in metrics]
    ranking = sql.Ranking(order=order, limit=paging.limit, offset=paging.offset)
    found, total = _rows(cursor, query, query.window, model, dimension, names, ranking)
    earlier = query.comparison
    if earlier is not None and found:
        values = [row["value"] for row in found]
        before, _ = _rows(cursor, query, earlier, model, dimension, names, sql.Ranking(only_values=values))
        by_value = {row.pop("value"): row for row in before}
        for row in found:
            row["comparison"] = by_value.get(row["value"]) or _empty(names)
    return answers.AttributionReport(
        model=model,
        dimension=dimension.name,
        period=answers.Period.of(query.window),
        metrics=names,
        filters=[describe(f) for f in query.filters],
        page=paging.page,
        limit=paging.limit,
        total_rows=total,
        rows=found,
        comparison=answers.Period.of(earlier) if earlier else None,
    )


def _rows(
    cursor: duckdb.DuckDBPyConnection,
    query: ReportQuery,
    window: Window,
    model: Model,
    dimension: AttributionDimension,
    names: Sequence[str],
    ranking: sql.Ranking,
) -> tuple[list[dict[str, Any]], int]:
    """The rows with only the metrics asked for, revenue as a list of {currency, amount}."""
    scope = scope_of(window, query.projects)
    found, total = attribution_rows(cursor, scope, query.filters, model, dimension, ranking)
    return [{"value": row["value"], **{name: row[name] for name in names}} for row in found], total


def _empty(names: Sequence[str]) -> dict[str, Any]:
    return {name: 0 if name in _COUNTS else [] if name == "revenue" else None for name in names}


def forms(
    cursor: duckdb.DuckDBPyConnection,
    query: ReportQuery,
    by: Dimension | None,
    form: str | None,
    order: Order,
    paging: Paging,
) -> answers.FormsReport:
    """One page of forms (or of one form's values of `by`), each with its comparison's numbers."""
    ranking = sql.Ranking(order=order, limit=paging.limit, offset=paging.offset)
    scope = scope_of(query.window, query.projects)
    found, total = form_rows(cursor, scope, query.filters, by, form, ranking)
    earlier = query.comparison
    if earlier is not None and found:
        values = [row["value"] for row in found]
        before, _ = form_rows(
            cursor,
            scope_of(earlier, query.projects),
            query.filters,
            by,
            form,
            sql.Ranking(only_values=values),
        )
        by_value = {row.pop("value"): row for row in before}
        for row in found:
            row["comparison"] = by_value.get(row["value"]) or {
                name: 0 if name in COUNTED else None for name in FORM_METRIC_NAMES
            }
    return answers.FormsReport(
        dimension=by.name if by else None,
        form=form,
        period=answers.Period.of(query.window),
        metrics=list(FORM_METRIC_NAMES),
        filters=[describe(f) for f in query.filters],
        page=paging.page,
        limit=paging.limit,
        total_rows=total,
        rows=found,
        comparison=answers.Period.of(earlier) if earlier else None,
    )
