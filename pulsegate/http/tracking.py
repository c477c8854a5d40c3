"""POST /track/*: the four tracking routes of the API reference."""

from __future__ import annotations

from litestar import Controller, Request, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from pulsegate.config import TrackingSettings
from pulsegate.domain.tracking import Caller, Event, EventBatch, SessionEnd, SessionStart, TrackingReceipt
from pulsegate.http.body import decode_json_body
from pulsegate.http.client import caller_of
from pulsegate.services.tracking import TrackingService


def provide_tracking(state: State) -> TrackingService:
    """The app's tracking service, created in the lifespan."""
    return state.tracking


def provide_caller(request: Request, state: State) -> Caller:
    """Who sent this request (client IP resolved through the trusted proxies)."""
    return caller_of(request, state.trusted_proxies)


def provide_limits(state: State) -> TrackingSettings:
    """Body size caps for the tracking routes."""
    return state.settings.tracking


class TrackingController(Controller):
    """Sessions and events from the browser; every answer means the rows are on disk."""

    path = "/track"
    tags = ["tracking"]
    dependencies = {
        "tracking": Provide(provide_tracking, sync_to_thread=False),
        "limits": Provide(provide_limits, sync_to_thread=False),
        "caller": Provide(provide_caller, sync_to_thread=False),
    }

    @post("/session/start", status_code=200, operation_id="startSession")
    async def start_session(
        self,
        request: Request,
        tracking: NamedDependency[TrackingService],
        limits: NamedDependency[TrackingSettings],
        caller: NamedDependency[Caller],
    ) -> TrackingReceipt:
        """Start a new tracking session."""
        start = await decode_json_body(request, SessionStart, max_bytes=limits.max_event_bytes)
        return await tracking.start_session(start, caller)

    @post("/event", status_code=200, operation_id="recordEvent")
    async def record_event(
        self,
        request: Request,
        tracking: NamedDependency[TrackingService],
        limits: NamedDependency[TrackingSettings],
    ) -> TrackingReceipt:
        """Record a single event."""
        event = await decode_json_body(request, Event, max_bytes=limits.max_event_bytes)
        return await tracking.record_events(event.session_id, [event])

    @post("/events/batch", status_code=200, operation_id="recordEventBatch")
    async def record_batch(
        self,
        request: Request,
        tracking: NamedDependency[TrackingService],
        limits: NamedDependency[TrackingSettings],
    ) -> TrackingReceipt:
        """Record up to 100 events of one session."""
        batch = await decode_json_body(request, EventBatch, max_bytes=limits.max_batch_bytes)
        return await tracking.record_events(batch.session_id, batch.events)

    @post("/session/end", status_code=200, operation_id="endSession")
    async def end_session(
        self,
        request: Request,
        tracking: NamedDependency[TrackingService],
        limits: NamedDependency[TrackingSettings],
    ) -> TrackingReceipt:
        """End a session."""
        end = await decode_json_body(request, SessionEnd, max_bytes=limits.max_event_bytes)
        return await tracking.end_session(end)
