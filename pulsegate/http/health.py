"""GET /health: is the server up and the database writable?"""

from __future__ import annotations

from litestar import MediaType, Response, route

from pulsegate.errors import PulseGateError
from pulsegate.http.methods import GET_AND_HEAD, operation_id
from pulsegate.runtime import RuntimeDependency


@route(
    "/health",
    http_method=GET_AND_HEAD,
    operation_id=operation_id("health"),
    tags=["health"],
    media_type=MediaType.JSON,
    cache=False,
)
async def health(runtime: RuntimeDependency) -> Response[dict[str, object]]:
    """Health check: 200 `{status: "ok", timestamp}` once a real write commits, else 503."""
    try:
        checked_ms = await runtime.health.check()
    except PulseGateError as exc:
        return Response({"error": f"Database is not writable: {exc.message}"}, status_code=503)
    return Response({"status": "ok", "timestamp": checked_ms})
