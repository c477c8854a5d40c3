"""Baseline: a bare ASGI app that only decodes the tracking body with msgspec and answers JSON."""

from __future__ import annotations

import time

import msgspec

from pulsegate.domain.tracking import Event, EventBatch, TrackingReceipt

_DECODERS = {
    "/track/event": msgspec.json.Decoder(Event),
    "/track/events/batch": msgspec.json.Decoder(EventBatch),
}
_ENCODER = msgspec.json.Encoder()


async def app(scope, receive, send):  # type: ignore[no-untyped-def]
    """Decode, answer; nothing else."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    decoded = _DECODERS[scope["path"]].decode(body)
    count = len(decoded.events) if isinstance(decoded, EventBatch) else 1
    answer = _ENCODER.encode(
        TrackingReceipt(
            session_id=decoded.session_id, visitor_id="v", timestamp=time.time_ns() // 10**6, accepted=count
        )
    )
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]}
    )
    await send({"type": "http.response.body", "body": answer})
