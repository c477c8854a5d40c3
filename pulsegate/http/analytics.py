"""GET /analytics/*: traffic analytics behind an API key (leads and anomalies live elsewhere)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from litestar import Controller, Request, get
from litestar.datastructures import CacheControlHeader, State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath

from pulsegate.domain import analytics as answers
from pulsegate.domain.api_keys import ApiKey
from pulsegate.domain.lead_views import DistinctValues, LeadDetail, LeadList
from pulsegate.domain.leads import LEAD_STATUSES
from pulsegate.domain.periods import Paging, Window, resolve_paging, resolve_window
from pulsegate.domain.timestamps import now_ms, utc_datetime
from pulsegate.errors import Forbidden, InvalidInput
from pulsegate.http.auth import projects_for, provide_api_key
from pulsegate.services.analytics import AnalyticsService
from pulsegate.services.anomalies import AnomalyReport, scan, sensitivity_of, window_hours
from pulsegate.services.lead_views import LeadViews
from pulsegate.store.database import Database
from pulsegate.store.lead_queries import LeadFilter


def provide_lead_views(state: State) -> LeadViews:
    """The app's leads API reads."""
    return state.lead_views


def provide_analytics(state: State) -> AnalyticsService:
    """The app's analytics service, created in the lifespan."""
    return state.analytics


@dataclass(frozen=True, slots=True)
class AnalyticsQuery:
    """One request's query parameters, parsed only where a route uses them (bad values are 400)."""

    params: Mapping[str, str]
    projects: tuple[str, ...] | None

    @property
    def window(self) -> Window:
        return resolve_window(self.params, now_ms())

    @property
    def paging(self) -> Paging:
        return resolve_paging(self.params)


def provide_query(request: Request, api_key: NamedDependency[ApiKey]) -> AnalyticsQuery:
    """The request's parameters, with the projects its key may count."""
    return AnalyticsQuery(request.query_params, projects_for(request, api_key))


Query = NamedDependency[AnalyticsQuery]
Service = NamedDependency[AnalyticsService]
LeadViewsDep = NamedDependency[LeadViews]


class AnalyticsController(Controller):
    """Every route needs an API key; a key scoped to projects only ever counts those."""

    path = "/analytics"
    tags = ["analytics"]
    cache_control = CacheControlHeader(no_store=True)
    dependencies = {
        "api_key": Provide(provide_api_key, sync_to_thread=False),
        "asked": Provide(provide_query, sync_to_thread=False),
        "analytics": Provide(provide_analytics, sync_to_thread=False),
        "lead_views": Provide(provide_lead_views, sync_to_thread=False),
    }

    @get("/overview", operation_id="analyticsOverview")
    async def overview(self, asked: Query, analytics: Service) -> answers.Overview:
        """Headline numbers (sessions, visitors, events, leads, …) and the previous period's."""
        return await analytics.overview(asked.window, asked.projects)

    @get("/sessions/daily", operation_id="analyticsDailySessions")
    async def daily_sessions(self, asked: Query, analytics: Service) -> answers.DailySessions:
        """Sessions and visitors per day in `tz`, zero-filled."""
        return await analytics.daily_sessions(asked.window, asked.projects)

    @get("/pages/top", operation_id="analyticsTopPages")
    async def top_pages(self, asked: Query, analytics: Service) -> answers.TopPages:
        """Most viewed paths, with approximate unique visitors and average engaged time."""
        return await analytics.top_pages(asked.window, asked.projects, asked.paging)

    @get("/geo", operation_id="analyticsGeo")
    async def geo(self, asked: Query, analytics: Service) -> answers.Geo:
        """Sessions and visitors by country, with each country's share."""
        return await analytics.geo(asked.window, asked.projects, asked.paging)

    @get("/engagement", operation_id="analyticsEngagement")
    async def engagement(self, asked: Query, analytics: Service) -> answers.Engagement:
        """Engagement score buckets with mean and median."""
        return await analytics.engagement(asked.window, asked.projects)

    @get("/sources", operation_id="analyticsSources")
    async def sources(self, asked: Query, analytics: Service) -> answers.Sources:
        """Traffic sources ranked by sessions, with leads and conversion rate."""
        return await analytics.sources(asked.window, asked.projects, asked.paging)

    @get("/realtime", operation_id="analyticsRealtime")
    async def realtime(self, asked: Query, analytics: Service) -> answers.Realtime:
        """Active sessions and visitors, events per minute for 30 minutes, top pages right now."""
        return await analytics.realtime(asked.projects)

    @get("/projects", operation_id="analyticsProjects")
    async def projects(self, api_key: NamedDependency[ApiKey], analytics: Service) -> answers.Projects:
        """Projects with traffic or leads that this key may see, and whether it sees them all."""
        return await analytics.projects(tuple(api_key.projects) if api_key.projects else None)

    @get("/storage", operation_id="analyticsStorage")
    async def storage(self, api_key: NamedDependency[ApiKey], analytics: Service) -> answers.Storage:
        """Database file and WAL size, rows and bytes per table, oldest and newest event."""
        if api_key.projects:
            # The figures are the whole database's: a key limited to projects may not see them.
            raise Forbidden("Storage stats cover every project: they need a key created without --project")
        return await analytics.storage()

    @get("/leads", operation_id="listLeads")
    async def leads(self, request: Request, asked: Query, lead_views: LeadViewsDep) -> LeadList:
        """Leads, newest first, filtered by project, source, status, date range and free text `q`."""
        return await lead_views.list(lead_filter(request, asked), asked.paging)

    @get("/leads/projects", operation_id="leadProjects")
    async def lead_projects(self, asked: Query, lead_views: LeadViewsDep) -> DistinctValues:
        """Distinct projects of the leads this key may see (for filter dropdowns)."""
        return await lead_views.distinct("project", asked.projects)

    @get("/leads/sources", operation_id="leadSources")
    async def lead_sources(self, asked: Query, lead_views: LeadViewsDep) -> DistinctValues:
        """Distinct form sources of the leads this key may see (for filter dropdowns)."""
        return await lead_views.distinct("source", asked.projects)

    @get("/leads/{lead_id:str}", operation_id="leadDetail")
    async def lead(self, lead_id: FromPath[str], asked: Query, lead_views: LeadViewsDep) -> LeadDetail:
        """One lead with its CRM deliveries and the visitor's sessions and events before it."""
        return await lead_views.detail(lead_id, asked.projects)


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
    return LeadFilter(asked.projects, start, end, source, status, text.strip() if text else None)


@get(
    "/analytics/anomalies",
    operation_id="analyticsAnomalies",
    tags=["analytics"],
    cache_control=CacheControlHeader(no_store=True),
    dependencies={"api_key": Provide(provide_api_key, sync_to_thread=False)},
)
async def anomalies(request: Request, api_key: NamedDependency[ApiKey], state: State) -> AnomalyReport:
    """Submission drops, traffic spikes and drops, and hosting/VPN floods in the recent window."""
    params = request.query_params
    hours, sensitivity = window_hours(params.get("window")), sensitivity_of(params.get("sensitivity"))
    database: Database = state.database
    return await database.read(scan, now_ms(), hours, sensitivity, projects_for(request, api_key))
