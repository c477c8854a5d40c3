"""GET /analytics/*: traffic analytics behind an API key (leads and anomalies live elsewhere)."""

from __future__ import annotations

from litestar import Controller, Request, get
from litestar.datastructures import CacheControlHeader, State
from litestar.di import NamedDependency, Provide

from pulsegate.domain import analytics as answers
from pulsegate.domain.api_keys import ApiKey
from pulsegate.domain.periods import resolve_paging, resolve_window
from pulsegate.domain.timestamps import now_ms
from pulsegate.http.auth import projects_for, provide_api_key
from pulsegate.services.analytics import AnalyticsService


def provide_analytics(state: State) -> AnalyticsService:
    """The app's analytics service, created in the lifespan."""
    return state.analytics


class AnalyticsController(Controller):
    """Every route needs an API key; a key scoped to projects only ever counts those."""

    path = "/analytics"
    tags = ["analytics"]
    cache_control = CacheControlHeader(no_store=True)
    dependencies = {
        "api_key": Provide(provide_api_key, sync_to_thread=False),
        "analytics": Provide(provide_analytics, sync_to_thread=False),
    }

    @get("/overview", operation_id="analyticsOverview")
    async def overview(
        self, request: Request, api_key: NamedDependency[ApiKey], analytics: NamedDependency[AnalyticsService]
    ) -> answers.Overview:
        """Headline numbers (sessions, visitors, events, leads, …) and the previous period's."""
        return await analytics.overview(
            resolve_window(request.query_params, now_ms()), projects_for(request, api_key)
        )

    @get("/sessions/daily", operation_id="analyticsDailySessions")
    async def daily_sessions(
        self, request: Request, api_key: NamedDependency[ApiKey], analytics: NamedDependency[AnalyticsService]
    ) -> answers.DailySessions:
        """Sessions and visitors per day in `tz`, zero-filled."""
        return await analytics.daily_sessions(
            resolve_window(request.query_params, now_ms()), projects_for(request, api_key)
        )

    @get("/pages/top", operation_id="analyticsTopPages")
    async def top_pages(
        self, request: Request, api_key: NamedDependency[ApiKey], analytics: NamedDependency[AnalyticsService]
    ) -> answers.TopPages:
        """Most viewed paths, with approximate unique visitors and average engaged time."""
        return await analytics.top_pages(
            resolve_window(request.query_params, now_ms()),
            projects_for(request, api_key),
            resolve_paging(request.query_params),
        )

    @get("/geo", operation_id="analyticsGeo")
    async def geo(
        self, request: Request, api_key: NamedDependency[ApiKey], analytics: NamedDependency[AnalyticsService]
    ) -> answers.Geo:
        """Sessions and visitors by country, with each country's share."""
        return await analytics.geo(
            resolve_window(request.query_params, now_ms()),
            projects_for(request, api_key),
            resolve_paging(request.query_params),
        )

    @get("/engagement", operation_id="analyticsEngagement")
    async def engagement(
        self, request: Request, api_key: NamedDependency[ApiKey], analytics: NamedDependency[AnalyticsService]
    ) -> answers.Engagement:
        """Engagement score buckets with mean and median."""
        return await analytics.engagement(
            resolve_window(request.query_params, now_ms()), projects_for(request, api_key)
        )

    @get("/sources", operation_id="analyticsSources")
    async def sources(
        self, request: Request, api_key: NamedDependency[ApiKey], analytics: NamedDependency[AnalyticsService]
    ) -> answers.Sources:
        """Traffic sources ranked by sessions, with leads and conversion rate."""
        return await analytics.sources(
            resolve_window(request.query_params, now_ms()),
            projects_for(request, api_key),
            resolve_paging(request.query_params),
        )

    @get("/realtime", operation_id="analyticsRealtime")
    async def realtime(
        self, request: Request, api_key: NamedDependency[ApiKey], analytics: NamedDependency[AnalyticsService]
    ) -> answers.Realtime:
        """Active sessions and visitors, events per minute for 30 minutes, top pages right now."""
        return await analytics.realtime(projects_for(request, api_key))

    @get("/storage", operation_id="analyticsStorage")
    async def storage(
        self, request: Request, api_key: NamedDependency[ApiKey], analytics: NamedDependency[AnalyticsService]
    ) -> answers.Storage:
        """Database file and WAL size, rows and bytes per table, oldest and newest event."""
        return await analytics.storage()
