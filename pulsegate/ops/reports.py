"""`pulsegate report`: one breakdown of the reports engine, offline or inside the running server."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

from pulsegate.domain.analytics import Breakdown
from pulsegate.domain.periods import MAX_LIMIT, Paging, resolve_window
from pulsegate.domain.reports import (
    ReportQuery,
    dimension,
    parse_compare,
    parse_filters,
    parse_order,
    split_metric_names,
    with_goals,
)
from pulsegate.domain.timestamps import now_ms
from pulsegate.domain.tracking import Project
from pulsegate.ops.context import OpContext
from pulsegate.ops.operation import Operation
from pulsegate.services import reports


class BreakdownArgs(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Arguments of `report`, in the analytics API's words (each one as its query parameter)."""

    dimension: str
    metrics: list[str] = []
    filters: list[str] = []
    period: str | None = None
    start: str | None = None  # the API's `from`
    end: str | None = None  # the API's `to`
    tz: str = "UTC"
    project: Project | None = None
    compare: str | None = None
    order: str | None = None
    limit: Annotated[int, Meta(ge=1, le=MAX_LIMIT)] = 10
    page: Annotated[int, Meta(ge=1)] = 1
    include_imported: bool = True


def breakdown(context: OpContext, args: BreakdownArgs) -> Breakdown:
    """The rows of the breakdown the arguments describe, as GET /analytics/breakdown answers."""
    by = dimension(args.dimension)
    metrics = split_metric_names(",".join(args.metrics), by)
    window_params = {"tz": args.tz}
    for name, value in (("period", args.period), ("from", args.start), ("to", args.end)):
        if value is not None:
            window_params[name] = value
    projects = (args.project,) if args.project else None
    query = ReportQuery(
        resolve_window(window_params, now_ms()),
        projects,
        with_goals(parse_filters(args.filters), reports.defined_goals(context.connection, projects)),
        parse_compare(args.compare),
        args.include_imported,
    )
    paging = Paging(limit=args.limit, page=args.page)
    return reports.breakdown(context.connection, query, by, metrics, parse_order(args.order, metrics), paging)


BREAKDOWN = Operation("reports.breakdown", breakdown, BreakdownArgs, Breakdown, on_clickhouse=True)
