"""GET /analytics/*: traffic analytics behind an API key (the leads API is `http/lead_views.py`,
anomalies `http/anomalies.py`)."""

from __future__ import annotations

from litestar import Controller, get
from litestar.datastructures import CacheControlHeader

from pulsegate.domain import analytics as answers
from pulsegate.domain.attribution_reports import (
    attribution_dimension,
    attribution_metrics,
    attribution_order,
    parse_model,
)
from pulsegate.domain.form_reports import form_breakdown, form_order
from pulsegate.domain.funnels import funnel
from pulsegate.domain.intervals import resolve_interval
from pulsegate.domain.reports import DIMENSIONS, MAX_VALUE_LENGTH, dimension, parse_order, split_metric_names
from pulsegate.errors import Forbidden, InvalidInput
from pulsegate.http.analytics_query import ANALYTICS_DEPENDENCIES, Query
from pulsegate.http.auth import ApiKeyDependency
from pulsegate.runtime import RuntimeDependency


class AnalyticsController(Controller):
    """Every route needs an API key; a key scoped to projects only ever counts those."""

    path = "/analytics"
    tags = ["analytics"]
    cache_control = CacheControlHeader(no_store=True)
    dependencies = ANALYTICS_DEPENDENCIES
    tracked_forms_only = False  # share links: only the forms the tracker saw (http/shares.py)

    @get("/overview", operation_id="analyticsOverview")
    async def overview(self, asked: Query, runtime: RuntimeDependency) -> answers.Overview:
        """Headline numbers (sessions, visitors, events, leads, …) and the previous period's."""
        return await runtime.analytics.overview(asked.report)

    @get("/sessions/daily", operation_id="analyticsDailySessions")
    async def daily_sessions(self, asked: Query, runtime: RuntimeDependency) -> answers.DailySessions:
        """Sessions and visitors per day in `tz`, zero-filled."""
        return await runtime.analytics.daily_sessions(asked.report)

    @get("/timeseries", operation_id="analyticsTimeseries")
    async def timeseries(self, asked: Query, runtime: RuntimeDependency) -> answers.Timeseries:
        """`metrics` (by default sessions and visitors) per `interval` (hour, day, week or month) in
        `tz`, zero-filled; by default hours for windows of up to two days, else days."""
        query = asked.report
        interval = resolve_interval(asked.params, query.window)
        metrics = split_metric_names(asked.params.get("metrics"), None, default=("sessions", "visitors"))
        return await runtime.analytics.timeseries(query, interval, metrics)

    @get("/breakdown", operation_id="analyticsBreakdown")
    async def breakdown(self, asked: Query, runtime: RuntimeDependency) -> answers.Breakdown:
        """`metrics` per value of `dimension`, ranked by `order` (METRIC:desc|asc) and paged."""
        name = asked.params.get("dimension")
        if not name:
            raise InvalidInput(f"dimension: required; one of {', '.join(DIMENSIONS)}, prop:KEY")
        by = dimension(name)
        metrics = split_metric_names(asked.params.get("metrics"), by)
        order = parse_order(asked.params.get("order"), metrics)
        return await runtime.analytics.breakdown(asked.report, by, metrics, order, asked.paging)

    @get("/attribution", operation_id="analyticsAttribution")
    async def attribution(self, asked: Query, runtime: RuntimeDependency) -> answers.AttributionReport:
        """Leads created in the window credited to `dimension`'s values (default source) by `model`
        (first, last (default) or linear touch): leads, qualified, won, revenue per currency,
        conversion rate, median time to convert, average touches, and lead quality; with filters,
        `compare`, `order` and paging."""
        params = asked.params
        model = parse_model(params.get("model"))
        by = attribution_dimension(params.get("dimension"))
        metrics = attribution_metrics(params.get("metrics"))
        order = attribution_order(params.get("order"), metrics)
        return await runtime.analytics.attribution(asked.report, model, by, metrics, order, asked.paging)

    @get("/forms", operation_id="analyticsForms")
    async def forms(self, asked: Query, runtime: RuntimeDependency) -> answers.FormsReport:
        """For each form (its source label): the sessions that saw it, started it and sent it, its
        leads and spam, and the rates between them; `form` with `dimension` breaks one form down by
        a session dimension. Filters, `compare`, `order` and paging as every report."""
        params = asked.params
        form = params.get("form")
        by = form_breakdown(params.get("dimension"), form)
        order = form_order(params.get("order"))
        return await runtime.analytics.forms(
            asked.report, by, form, order, asked.paging, tracked_only=self.tracked_forms_only
        )

    @get("/goals", operation_id="analyticsGoals")
    async def goals(self, asked: Query, runtime: RuntimeDependency) -> answers.Goals:
        """For each goal: visitors who converted, conversions, and conversion rate (% of the
        window's visitors), with filters and `compare`."""
        return await runtime.analytics.goal_report(asked.report)

    @get("/funnel", operation_id="analyticsFunnel")
    async def funnel(self, asked: Query, runtime: RuntimeDependency) -> answers.FunnelReport:
        """Visitors who reached each `step` (2-8 of page:PATTERN, event:NAME, goal:NAME, lead) after
        the earlier ones, in order: in one session (`within=session`) or across a visitor's sessions
        within `window` of the first step (`within=visitor`, window 7d by default); or the saved
        funnel `name`. With conversion from the first and previous step, drop-off, median time."""
        name = asked.params.get("name")
        steps = asked.request_steps
        if name is not None:
            if steps or "within" in asked.params or "window" in asked.params:
                raise InvalidInput("name: a saved funnel brings its own steps, within and window")
            return await runtime.analytics.funnel(asked.report, name)
        chosen = funnel(steps, asked.params.get("within"), asked.params.get("window"))
        return await runtime.analytics.funnel(asked.report, chosen)

    @get("/funnels", operation_id="analyticsSavedFunnels")
    async def funnels(self, asked: Query, runtime: RuntimeDependency) -> answers.SavedFunnels:
        """The saved funnels (`pulsegate funnels add`) this key may run, by name."""
        return await runtime.analytics.saved_funnels(asked.projects)

    @get("/properties", operation_id="analyticsEventProperties")
    async def properties(self, asked: Query, runtime: RuntimeDependency) -> answers.EventProperties:
        """The property keys the custom event `event` carried, with counts; `dimension=prop:KEY` on
        /analytics/breakdown breaks one down."""
        event = asked.params.get("event")
        if not event:
            raise InvalidInput("event: required, the custom event's name")
        if len(event) > MAX_VALUE_LENGTH:
            raise InvalidInput(f"event: at most {MAX_VALUE_LENGTH} characters")
        return await runtime.analytics.event_properties(asked.report, event)

    @get("/pages/top", operation_id="analyticsTopPages")
    async def top_pages(self, asked: Query, runtime: RuntimeDependency) -> answers.TopPages:
        """Most viewed paths, with unique visitors (estimated above 2M stored events) and average
        engaged time."""
        return await runtime.analytics.top_pages(asked.report, asked.paging)

    @get("/geo", operation_id="analyticsGeo")
    async def geo(self, asked: Query, runtime: RuntimeDependency) -> answers.Geo:
        """Sessions and visitors by country, with each country's share."""
        return await runtime.analytics.geo(asked.report, asked.paging)

    @get("/engagement", operation_id="analyticsEngagement")
    async def engagement(self, asked: Query, runtime: RuntimeDependency) -> answers.Engagement:
        """Engagement score buckets with mean and median."""
        return await runtime.analytics.engagement(asked.report)

    @get("/sources", operation_id="analyticsSources")
    async def sources(self, asked: Query, runtime: RuntimeDependency) -> answers.Sources:
        """Traffic sources ranked by sessions, with leads and conversion rate."""
        return await runtime.analytics.sources(asked.report, asked.paging)

    @get("/realtime", operation_id="analyticsRealtime")
    async def realtime(self, asked: Query, runtime: RuntimeDependency) -> answers.Realtime:
        """Active sessions and visitors, events per minute for 30 minutes, top pages right now."""
        return await runtime.analytics.realtime(asked.projects, asked.filters)

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
