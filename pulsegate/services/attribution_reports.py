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
from pulsegate.services.reports import compared_page, scope_of
from pulsegate.store import reports as sql
from pulsegate.store.attribution_reports import attribution_rows
from pulsegate.store.form_reports import form_rows

# A value's metrics where nothing was credited: no leads, no revenue, no rates (null).
_NOTHING: dict[str, Any] = {"leads": 0, "qualified": 0, "won": 0, "revenue": []}


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
    nothing: dict[str, Any] = {name: _NOTHING.get(name) for name in names}

    def fetch(window: Window, ranking: sql.Ranking) -> tuple[list[answers.ReportRow], int]:
        return _rows(cursor, query, window, model, dimension, names, ranking)

    found, total = compared_page(query, order, paging, fetch, nothing)
    earlier = query.comparison
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


def forms(
    cursor: duckdb.DuckDBPyConnection,
    query: ReportQuery,
    by: Dimension | None,
    form: str | None,
    order: Order,
    paging: Paging,
    tracked_only: bool = False,
) -> answers.FormsReport:
    """One page of forms (or of one form's values of `by`), each with its comparison's numbers
    (`tracked_only`: the forms the tracker saw, store/form_reports.form_rows)."""
    nothing: dict[str, Any] = {name: 0 if name in COUNTED else None for name in FORM_METRIC_NAMES}

    def fetch(window: Window, ranking: sql.Ranking) -> tuple[list[answers.ReportRow], int]:
        scope = scope_of(window, query.projects)
        return form_rows(cursor, scope, query.filters, by, form, ranking, tracked_only=tracked_only)

    found, total = compared_page(query, order, paging, fetch, nothing)
    earlier = query.comparison
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
