"""POST /track/*: the four tracking routes, as raw ASGI handlers inside Litestar.

They are the hot path, so they skip Litestar's per-request dependency injection, signature
parsing and response objects (which cost about a third of the CPU of a request here) and
speak ASGI directly. They still sit inside the Litestar app, so the rate limits, CORS hook and
error handlers apply to them exactly as to every other route. Each handler answers OPTIONS
(preflight, 204) and refuses other methods than POST with 405.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from litestar.exceptions import MethodNotAllowedException
from litestar.handlers import asgi
from litestar.types import Receive, Scope, Send

from pulsegate.domain.tracking import Event, EventBatch, SessionEnd, SessionStart, TrackingReceipt
from pulsegate.http.body import decode_json_body
from pulsegate.http.client import caller_of
from pulsegate.services.tracking import TrackingService

_ENCODER = msgspec.json.Encoder()
_JSON_HEADERS = [(b"content-type", b"application/json")]
_ALLOW = "OPTIONS, POST"
# (scope, payload, tracking service) -> receipt
Call = Callable[[Scope, Any, TrackingService], Awaitable[TrackingReceipt]]


async def _serve(
    scope: Scope, receive: Receive, send: Send, decoder: msgspec.json.Decoder[Any], call: Call, *, batch: bool
) -> None:
    method = scope["method"]
    if method == "OPTIONS":
        await send({"type": "http.response.start", "status": 204, "headers": [(b"allow", _ALLOW.encode())]})
        await send({"type": "http.response.body", "body": b""})
        return
    if method != "POST":
        raise MethodNotAllowedException(headers={"allow": _ALLOW})
    state = scope["litestar_app"].state
    limits = state.settings.tracking
    payload = await decode_json_body(
        scope,
        receive,
        decoder,
        max_bytes=limits.max_batch_bytes if batch else limits.max_event_bytes,
        deadlines=state.body_deadlines,
    )
    receipt = await call(scope, payload, state.tracking)
    body = _ENCODER.encode(receipt)
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [*_JSON_HEADERS, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _route(path: str, type_: type[Any], call: Call, *, operation: str, batch: bool = False) -> Any:
    decoder = msgspec.json.Decoder(type_)

    async def handle(scope: Scope, receive: Receive, send: Send) -> None:
        await _serve(scope, receive, send, decoder, call, batch=batch)

    handle.__doc__ = operation
    return asgi(path, copy_scope=False, name=operation)(handle)


async def _start(scope: Scope, start: SessionStart, tracking: TrackingService) -> TrackingReceipt:
    return await tracking.start_session(start, caller_of(scope, scope["litestar_app"].state.trusted_proxies))


async def _event(scope: Scope, event: Event, tracking: TrackingService) -> TrackingReceipt:
    return await tracking.record_events(event.session_id, [event])


async def _batch(scope: Scope, batch: EventBatch, tracking: TrackingService) -> TrackingReceipt:
    return await tracking.record_events(batch.session_id, batch.events)


async def _end(scope: Scope, end: SessionEnd, tracking: TrackingService) -> TrackingReceipt:
    return await tracking.end_session(end)


# (path under the prefix, payload type, call, operation name, is a batch)
_TRACKING_CALLS: tuple[tuple[str, type[Any], Call, str, bool], ...] = (
    ("/session/start", SessionStart, _start, "startSession", False),
    ("/event", Event, _event, "recordEvent", False),
    ("/events/batch", EventBatch, _batch, "recordEventBatch", True),
    ("/session/end", SessionEnd, _end, "endSession", True),  # it may carry a page's last events
)
TRACKING_PREFIX = "/track"


def tracking_routes(extra_prefix: str = "") -> list[Any]:
    """The tracking routes under /track, and under `extra_prefix` too when one is configured
    (block lists know /track/: web.tracking_prefix lets an operator pick a name they do not)."""
    routes = []
    for prefix, suffix in ((TRACKING_PREFIX, ""), (extra_prefix, "AtPrefix")):
        if prefix:
            routes += [
                _route(prefix + path, type_, call, operation=operation + suffix, batch=batch)
                for path, type_, call, operation, batch in _TRACKING_CALLS
            ]
    return routes
