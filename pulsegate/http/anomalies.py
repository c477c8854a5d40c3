"""GET /analytics/anomalies: submission drops, traffic spikes and drops, hosting/VPN floods."""

from __future__ import annotations

from litestar import Request, get
from litestar.datastructures import CacheControlHeader

from pulsegate.domain.anomalies import AnomalyReport, sensitivity_of, window_hours
from pulsegate.http.auth import API_KEY_DEPENDENCIES, ApiKeyDependency, projects_for
from pulsegate.runtime import RuntimeDependency


@get(
    "/analytics/anomalies",
    operation_id="analyticsAnomalies",
    tags=["analytics"],
    cache_control=CacheControlHeader(no_store=True),
    dependencies=API_KEY_DEPENDENCIES,
)
async def anomalies(request: Request, api_key: ApiKeyDependency, runtime: RuntimeDependency) -> AnomalyReport:
    """Submission drops, traffic spikes and drops, and hosting/VPN floods in the recent window."""
    params = request.query_params
    hours, sensitivity = window_hours(params.get("window")), sensitivity_of(params.get("sensitivity"))
    return await runtime.anomalies.scan(hours, sensitivity, projects_for(request, api_key))
