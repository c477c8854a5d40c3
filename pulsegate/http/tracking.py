"""POST /track/*: the four tracking routes, served before Litestar's router.

They are the hot path. A POST to one of them is answered by `serve_tracking` straight from the
app's `__call__` (`app.PulseGateApp`), before Litestar's router, middleware stack, exception
middleware and send wrappers: those cost a third of the worker's CPU per event with a new
client address on every request (issue 21, measured in BENCHMARKS.md). So `serve_tracking`
does itself, for these routes only, what they did: the rate limit and its headers, the CORS
headers, and errors as `{"error": ...}` with their status, logged as `http/errors.py` logs them.

They are still Litestar routes too (raw ASGI handlers): for the OpenAPI document, for OPTIONS
(preflight, 204) and 405 on other methods, and for a POST whose path Litestar normalises
(`/track/event/`), which its handler answers with the same `serve_tracking`.

`TRACKING_ROUTES` is the one table of them: the routes, their OpenAPI entries
(`http/openapi.py`) and their rate limits (`http/rate_limits.py`) are all made from it.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import msgspec
from litestar.exceptions import MethodNotAllowedException
from litestar.handlers import asgi
from litestar.types import Receive, Scope, Send

from pulsegate.domain.rate_limit import FixedWindowLimiter
from pulsegate.domain.tracking import (
    CLEAN_PAYLOADS,
    Event,
    EventBatch,
    SessionEnd,
    SessionStart,
    TrackingReceipt,
)
from pulsegate.errors import PulseGateError
from pulsegate.http.answers import limit_request, send_json
from pulsegate.http.body import decode_json_body, header
from pulsegate.http.client import caller_of
from pulsegate.http.cors import CORS_HEADERS
from pulsegate.http.errors import UNEXPECTED_ERROR, log_pulsegate_error, log_unexpected_error
from pulsegate.runtime import Runtime, runtime_of

_ENCODER = msgspec.json.Encoder()
_ALLOW = "OPTIONS, POST"
_PREFLIGHT = [(b"allow", _ALLOW.encode())]
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


@dataclass(frozen=True, slots=True)
class TrackingEndpoint:
    """One tracking route under one prefix, ready to serve: its decoder and its rate limit."""

    path: str
    route: TrackingRoute
    decoder: msgspec.json.Decoder[Any]  # of the payload whose properties need no cleaning, if any
    fallback: msgspec.json.Decoder[Any] | None  # of the payload as sent, when `decoder` refuses it
    limiter: FixedWindowLimiter | None  # None with rate limits off


def tracking_endpoints(
    extra_prefix: str, limiters: Mapping[str, FixedWindowLimiter]
) -> dict[str, TrackingEndpoint]:
    """Every tracking route under every prefix, by path, with its limiter from `limiters`."""
    endpoints = {}
    for prefix, _ in tracking_prefixes(extra_prefix):
        for route in TRACKING_ROUTES:
            path = prefix + route.path
            clean = CLEAN_PAYLOADS.get(route.payload)
            decoder, fallback = msgspec.json.Decoder(clean or route.payload), None
            if clean is not None:
                fallback = msgspec.json.Decoder(route.payload)
            endpoints[path] = TrackingEndpoint(path, route, decoder, fallback, limiters.get(path))
    return endpoints


async def serve_tracking(
    scope: Scope, receive: Receive, send: Send, endpoint: TrackingEndpoint, runtime: Runtime
) -> None:
    """Answer a POST to a tracking route completely: limit, decode, record, respond or refuse."""
    headers = list(CORS_HEADERS)
    limiter = endpoint.limiter
    try:
        if limiter is not None:
            refused, limits_said = limit_request(limiter, scope, runtime.trusted_proxies, time.time())
            if refused is not None:
                await send_json(send, 429, refused, [*limits_said, *headers])
                return
            headers += limits_said
        limits = runtime.settings.tracking
        payload = await decode_json_body(
            scope,
            receive,
            endpoint.decoder,
            max_bytes=limits.max_batch_bytes if endpoint.route.batch else limits.max_event_bytes,
            deadlines=runtime.body_deadlines,
            fallback=endpoint.fallback,
        )
        receipt = await endpoint.route.call(scope, payload, runtime)
    except PulseGateError as exc:
        log_pulsegate_error("POST", scope["path"], exc)
        extra = [(name.lower().encode(), value.encode()) for name, value in (exc.headers or {}).items()]
        await send_json(send, exc.status_code, _ENCODER.encode({"error": exc.message}), [*extra, *headers])
        return
    except Exception:
        log_unexpected_error("POST", scope["path"])
        await send_json(send, 500, _ENCODER.encode({"error": UNEXPECTED_ERROR}), headers)
        return
    await send_json(send, 200, _ENCODER.encode(receipt), headers)


def _handler(endpoint: TrackingEndpoint, operation_id: str) -> Any:
    """The route inside Litestar: preflights, 405, and POSTs to a path it normalised."""

    async def handle(scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"]
        if method == "OPTIONS":
            await send({"type": "http.response.start", "status": 204, "headers": list(_PREFLIGHT)})
            await send({"type": "http.response.body", "body": b""})
            return
        if method != "POST":
            raise MethodNotAllowedException(headers={"allow": _ALLOW})
        await serve_tracking(scope, receive, send, endpoint, runtime_of(scope["litestar_app"]))

    handle.__doc__ = operation_id
    return asgi(endpoint.path, copy_scope=False, name=operation_id)(handle)


def tracking_prefixes(extra_prefix: str = "") -> list[tuple[str, str]]:
    """(prefix, operation id suffix): /track, and `extra_prefix` too when one is configured
    (block lists know /track/: web.tracking_prefix lets an operator pick a name they do not)."""
    return [
        (prefix, suffix) for prefix, suffix in ((TRACKING_PREFIX, ""), (extra_prefix, "AtPrefix")) if prefix
    ]


def tracking_routes(endpoints: Mapping[str, TrackingEndpoint], extra_prefix: str = "") -> list[Any]:
    """The tracking routes under every prefix, as Litestar routes."""
    return [
        _handler(endpoints[prefix + route.path], route.operation_id + suffix)
        for prefix, suffix in tracking_prefixes(extra_prefix)
        for route in TRACKING_ROUTES
    ]
