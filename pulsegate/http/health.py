"""GET /health: is the server up and the database writable?"""

from __future__ import annotations

from litestar import MediaType, Response, get
from litestar.datastructures import State

from pulsegate.domain.timestamps import now_ms
from pulsegate.errors import PulseGateError
from pulsegate.store.writer import RowWrite


@get("/health", operation_id="health", tags=["health"], media_type=MediaType.JSON, cache=False)
async def health(state: State) -> Response[dict[str, object]]:
    """Health check: 200 `{status: "ok", timestamp}` once a real write commits, else 503."""
    checked_ms = now_ms()
    try:
        # A real write through the group commit, so "ok" means the disk takes writes now.
        await state.writer.write(
            RowWrite("meta", ("key", "value"), [("last_health_check", str(checked_ms))], action="upsert")
        )
    except PulseGateError as exc:
        return Response({"error": f"Database is not writable: {exc.message}"}, status_code=503)
    return Response({"status": "ok", "timestamp": checked_ms})
