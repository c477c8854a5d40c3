"""Baseline: a bare Litestar app with one POST handler per route taking a msgspec Struct."""

from __future__ import annotations

import time

from litestar import Litestar, post

from pulsegate.domain.tracking import Event, EventBatch, TrackingReceipt


@post("/track/event", status_code=200)
async def record_event(data: Event) -> TrackingReceipt:
    """Decode and answer."""
    return TrackingReceipt(
        session_id=data.session_id, visitor_id="v", timestamp=time.time_ns() // 10**6, accepted=1
    )


@post("/track/events/batch", status_code=200)
async def record_batch(data: EventBatch) -> TrackingReceipt:
    """Decode and answer."""
    return TrackingReceipt(
        session_id=data.session_id,
        visitor_id="v",
        timestamp=time.time_ns() // 10**6,
        accepted=len(data.events),
    )


app = Litestar(route_handlers=[record_event, record_batch])
