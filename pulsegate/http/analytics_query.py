"""What every /analytics/* route shares: the API key, the projects it may count, and the query."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from litestar import Request
from litestar.di import NamedDependency, Provide

from pulsegate.domain.goals import Goal
from pulsegate.domain.periods import Paging, Window, resolve_paging, resolve_window
from pulsegate.domain.reports import (
    Filter,
    ReportQuery,
    needs_goals,
    parse_compare,
    parse_filters,
    parse_include_imported,
    with_goals,
)
from pulsegate.domain.timestamps import now_ms
from pulsegate.http.auth import API_KEY_DEPENDENCIES, ApiKeyDependency, projects_for
from pulsegate.runtime import runtime_of


@dataclass(frozen=True, slots=True)
class AnalyticsQuery:
    """One request's query parameters, parsed only where a route uses them (bad values are 400)."""

    params: Mapping[str, str]
    projects: tuple[str, ...] | None
    filter_texts: tuple[str, ...] = ()  # every `filter=` parameter
    request_steps: tuple[str, ...] = ()  # every `step=` parameter (funnels)
    goals: tuple[Goal, ...] = ()  # read when a filter names a goal

    @property
    def window(self) -> Window:
        return resolve_window(self.params, now_ms())

    @property
    def filters(self) -> tuple[Filter, ...]:
        """Every filter, goal filters holding the goals they name."""
        return with_goals(parse_filters(self.filter_texts), self.goals)

    @property
    def report(self) -> ReportQuery:
        """The window, the key's projects, the filters and the comparison: what every report reads."""
        return ReportQuery(
            self.window,
            self.projects,
            self.filters,
            parse_compare(self.params.get("compare")),
            parse_include_imported(self.params.get("include_imported")),
        )

    @property
    def paging(self) -> Paging:
        return resolve_paging(self.params)


async def provide_query(request: Request, api_key: ApiKeyDependency) -> AnalyticsQuery:
    """The request's parameters, with the projects its key may count (and the goals, when a
    filter names one)."""
    return await query_for(request, projects_for(request, api_key))


async def query_for(request: Request, projects: tuple[str, ...] | None) -> AnalyticsQuery:
    """The request's parameters for counting `projects` (and the goals, when a filter names one)."""
    params = request.query_params
    texts = tuple(params.getall("filter", []))
    steps = tuple(params.getall("step", []))
    asked = AnalyticsQuery(params, projects, texts, steps)
    if texts and needs_goals(parse_filters(texts)):
        goals = await runtime_of(request.app).analytics.goals(asked.projects)
        asked = replace(asked, goals=tuple(goals))
    return asked


Query = NamedDependency[AnalyticsQuery]
# `api_key` and `asked` for every route under /analytics.
ANALYTICS_DEPENDENCIES = {**API_KEY_DEPENDENCIES, "asked": Provide(provide_query)}
