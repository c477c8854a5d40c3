"""POST /track/*: the four tracking routes, as raw ASGI handlers inside Litestar.

They are the hot path, so they skip Litestar's per-request dependency injection, signature
parsing and response objects (which cost about a third of the CPU of a request here) and
speak ASGI directly. They still sit inside the Litestar app, so the rate limits, CORS hook and
error handlers apply to them exactly as to every other route. Each handler answers OPTIONS
(preflight, 204) and refuses other methods than POST with 405.

`TRACKING_ROUTES` is the one table of them: the routes, their OpenAPI entries
(`http/openapi.py`) and their rate limits (`http/rate_limits.py`) are all made from it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import msgspec
from litestar.exceptions import MethodNotAllowedException
from litestar.handlers import asgi
from litestar.types import Receive, Scope, Send

from pulsegate.domain.tracking import Event, EventBatch, SessionEnd, SessionStart, TrackingReceipt
from pulsegate.http.body import decode_json_body, header
from pulsegate.http.client import caller_of
from pulsegate.runtime import Runtime, runtime_of

_ENCODER = msgspec.json.Encoder()
_JSON_HEADERS = [(b"content-type", b"application/json")]
_ALLOW = "OPTIONS, POST"
# (scope, payload, runtime) -> receipt
Call = Callable[[Scope, Any, Runtime], Awaitable[TrackingReceipt]]
TRACKING_PREFIX = "/track"


async def _start(scope: Scope, start: SessionStart, runtime: Runtime) -> TrackingReceipt:
    if not runtime.projects.is_open:  # registered projects take data from their own pages only
        start = runtime.projects.admitted(start, start.url, header(scope, b"origin"))
    return await runtime.tracking.start_session(start, caller_of(scope, runtime.trusted_proxies))


async def _event(scope: Scope, event: Event, runtime: Runtime) -> TrackingReceipt:
    return await runtime.tracking.record_events(event.session_id, [event])


async def _batch(scope: Scope, batch: EventBatch, runtime: Runtime) -> TrackingReceipt:
    return await runtime.tracking.record_events(batch.session_id, batch.events)


async def _end(scope: Scope, end: SessionEnd, runtime: Runtime) -> TrackingReceipt:
    return await runtime.tracking.end_session(end)


@dataclass(frozen=True, slots=True)
class TrackingRoute:
    """One tracking route, declared once."""

    path: str  # under /track (and under web.tracking_prefix when one is configured)
    operation_id: str
    payload: type[msgspec.Struct]
    summary: str  # for /schema
    call: Call
    rate_limit: str  # the [rate_limits] setting that caps it per client
    batch: bool = False  # may carry many events: the batch body cap applies, not the event one


TRACKING_ROUTES: tuple[TrackingRoute, ...] = (
    TrackingRoute("/session/start", "startSession", SessionStart, "Start a new tracking session",
                  _start, rate_limit="session_start"),
    TrackingRoute("/event", "recordEvent", Event, "Record a single event", _event, rate_limit="event"),
    TrackingRoute("/events/batch", "recordEventBatch", EventBatch, "Record up to 100 events of one session",
                  _batch, rate_limit="events_batch", batch=True),
    # The end may carry a page's last events.
    TrackingRoute("/session/end", "endSession", SessionEnd, "End a session and compute its engagement score",
                  _end, rate_limit="session_end", batch=True),
)  # fmt: skip


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
    runtime = runtime_of(scope["litestar_app"])
    limits = runtime.settings.tracking
    payload = await decode_json_body(
        scope,
        receive,
        decoder,
        max_bytes=limits.max_batch_bytes if batch else limits.max_event_bytes,
        deadlines=runtime.body_deadlines,
    )
    receipt = await call(scope, payload, runtime)
    body = _ENCODER.encode(receipt)
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [*_JSON_HEADERS, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _handler(path: str, route: TrackingRoute, operation_id: str) -> Any:
    decoder = msgspec.json.Decoder(route.payload)
    call, batch = route.call, route.batch

    async def handle(scope: Scope, receive: Receive, send: Send) -> None:
        await _serve(scope, receive, send, decoder, call, batch=batch)

    handle.__doc__ = operation_id
    return asgi(path, copy_scope=False, name=operation_id)(handle)


def tracking_prefixes(extra_prefix: str = "") -> list[tuple[str, str]]:
    """(prefix, operation id suffix): /track, and `extra_prefix` too when one is configured
    (block lists know /track/: web.tracking_prefix lets an operator pick a name they do not)."""
    return [
        (prefix, suffix) for prefix, suffix in ((TRACKING_PREFIX, ""), (extra_prefix, "AtPrefix")) if prefix
    ]


def tracking_routes(extra_prefix: str = "") -> list[Any]:
    """The tracking routes under every prefix."""
    return [
        _handler(prefix + route.path, route, route.operation_id + suffix)
        for prefix, suffix in tracking_prefixes(extra_prefix)
        for route in TRACKING_ROUTES
    ]
