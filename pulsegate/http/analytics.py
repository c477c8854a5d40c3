"""GET /analytics/*: traffic analytics behind an API key (the leads API is `http/lead_views.py`,
anomalies `http/anomalies.py`)."""

from __future__ import annotations

from litestar import Controller, get
from litestar.datastructures import CacheControlHeader

from pulsegate.domain import analytics as answers
from pulsegate.domain.intervals import resolve_interval
from pulsegate.errors import Forbidden
from pulsegate.http.analytics_query import ANALYTICS_DEPENDENCIES, Query
from pulsegate.http.auth import ApiKeyDependency
from pulsegate.runtime import RuntimeDependency


class AnalyticsController(Controller):
    """Every route needs an API key; a key scoped to projects only ever counts those."""

    path = "/analytics"
    tags = ["analytics"]
    cache_control = CacheControlHeader(no_store=True)
    dependencies = ANALYTICS_DEPENDENCIES

    @get("/overview", operation_id="analyticsOverview")
    async def overview(self, asked: Query, runtime: RuntimeDependency) -> answers.Overview:
        """Headline numbers (sessions, visitors, events, leads, …) and the previous period's."""
        return await runtime.analytics.overview(asked.window, asked.projects)

    @get("/sessions/daily", operation_id="analyticsDailySessions")
    async def daily_sessions(self, asked: Query, runtime: RuntimeDependency) -> answers.DailySessions:
        """Sessions and visitors per day in `tz`, zero-filled."""
        return await runtime.analytics.daily_sessions(asked.window, asked.projects)

    @get("/timeseries", operation_id="analyticsTimeseries")
    async def timeseries(self, asked: Query, runtime: RuntimeDependency) -> answers.Timeseries:
        """Sessions and visitors per `interval` (hour, day, week or month) in `tz`, zero-filled;
        by default hours for windows of up to two days, else days."""
        window = asked.window
        interval = resolve_interval(asked.params, window)
        return await runtime.analytics.timeseries(window, asked.projects, interval)

    @get("/pages/top", operation_id="analyticsTopPages")
    async def top_pages(self, asked: Query, runtime: RuntimeDependency) -> answers.TopPages:
        """Most viewed paths, with approximate unique visitors and average engaged time."""
        return await runtime.analytics.top_pages(asked.window, asked.projects, asked.paging)

    @get("/geo", operation_id="analyticsGeo")
    async def geo(self, asked: Query, runtime: RuntimeDependency) -> answers.Geo:
        """Sessions and visitors by country, with each country's share."""
        return await runtime.analytics.geo(asked.window, asked.projects, asked.paging)

    @get("/engagement", operation_id="analyticsEngagement")
    async def engagement(self, asked: Query, runtime: RuntimeDependency) -> answers.Engagement:
        """Engagement score buckets with mean and median."""
        return await runtime.analytics.engagement(asked.window, asked.projects)

    @get("/sources", operation_id="analyticsSources")
    async def sources(self, asked: Query, runtime: RuntimeDependency) -> answers.Sources:
        """Traffic sources ranked by sessions, with leads and conversion rate."""
        return await runtime.analytics.sources(asked.window, asked.projects, asked.paging)

    @get("/realtime", operation_id="analyticsRealtime")
    async def realtime(self, asked: Query, runtime: RuntimeDependency) -> answers.Realtime:
        """Active sessions and visitors, events per minute for 30 minutes, top pages right now."""
        return await runtime.analytics.realtime(asked.projects)

    @get("/projects", operation_id="analyticsProjects")
    async def projects(self, api_key: ApiKeyDependency, runtime: RuntimeDependency) -> answers.Projects:
        """Projects with traffic or leads that this key may see, and whether it sees them all."""
        return await runtime.analytics.projects(tuple(api_key.projects) if api_key.projects else None)

    @get("/storage", operation_id="analyticsStorage")
    async def storage(self, api_key: ApiKeyDependency, runtime: RuntimeDependency) -> answers.Storage:
        """Database file and WAL size, rows and bytes per table, oldest and newest event."""
        if api_key.projects:
            # The figures are the whole database's: a key limited to projects may not see them.
            raise Forbidden("Storage stats cover every project: they need a key created without --project")
        return await runtime.analytics.storage(refused_requests=runtime.projects.refused_total)
