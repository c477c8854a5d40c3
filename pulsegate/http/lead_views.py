"""GET /analytics/leads…: the leads API behind an API key (listing, one lead, filter values)."""

from __future__ import annotations

from litestar import Controller, Request, get
from litestar.datastructures import CacheControlHeader
from litestar.params import FromPath

from pulsegate.domain.lead_views import DistinctValues, LeadDetail, LeadFilter, LeadList
from pulsegate.domain.leads import LEAD_STATUSES
from pulsegate.domain.timestamps import utc_datetime
from pulsegate.errors import InvalidInput
from pulsegate.http.analytics_query import ANALYTICS_DEPENDENCIES, AnalyticsQuery, Query
from pulsegate.runtime import RuntimeDependency


class LeadViewsController(Controller):
    """Leads a key may see: a key scoped to projects reads only theirs."""

    path = "/analytics/leads"
    tags = ["analytics"]
    cache_control = CacheControlHeader(no_store=True)
    dependencies = ANALYTICS_DEPENDENCIES

    @get("/", operation_id="listLeads")
    async def leads(self, request: Request, asked: Query, runtime: RuntimeDependency) -> LeadList:
        """Leads, newest first, filtered by project, source, status, date range and free text `q`."""
        return await runtime.lead_views.list(lead_filter(request, asked), asked.paging)

    @get("/projects", operation_id="leadProjects")
    async def lead_projects(self, asked: Query, runtime: RuntimeDependency) -> DistinctValues:
        """Distinct projects of the leads this key may see (for filter dropdowns)."""
        return await runtime.lead_views.distinct("project", asked.projects)

    @get("/sources", operation_id="leadSources")
    async def lead_sources(self, asked: Query, runtime: RuntimeDependency) -> DistinctValues:
        """Distinct form sources of the leads this key may see (for filter dropdowns)."""
        return await runtime.lead_views.distinct("source", asked.projects)

    @get("/{lead_id:str}", operation_id="leadDetail")
    async def lead(self, lead_id: FromPath[str], asked: Query, runtime: RuntimeDependency) -> LeadDetail:
        """One lead with its CRM deliveries and the visitor's sessions and events before it."""
        return await runtime.lead_views.detail(lead_id, asked.projects)


def lead_filter(request: Request, asked: AnalyticsQuery) -> LeadFilter:
    """The listing's filters from the query string; the date range applies only when given."""
    params = request.query_params
    status = params.get("status")
    if status is not None and status not in LEAD_STATUSES:
        raise InvalidInput(f"status: must be one of {', '.join(LEAD_STATUSES)} (got {status!r})")
    source, text = params.get("source"), params.get("q")
    if source is not None and len(source) > 100:
        raise InvalidInput("source: at most 100 characters")
    if text is not None and len(text) > 200:
        raise InvalidInput("q: at most 200 characters")
    start = end = None
    if any(params.get(name) for name in ("from", "to", "period")):
        window = asked.window
        start, end = utc_datetime(window.start_ms), utc_datetime(window.end_ms)
    text = text.strip() if text else None
    return LeadFilter(asked.projects, start, end, source, status, text, asked.filters)
