"""Baseline: a bare ASGI app that answers at once, or after one suspension of the kind asked
(`WAKEUP_MODE`): `sync` (none), `yield` (asyncio.sleep(0)), `thread` (a future another thread
resolves, as PulseGate's writer resolves a request's commit) or `sleep` (a 1 ms timer)."""

from __future__ import annotations

import asyncio
import os
import queue
import threading

MODE = os.environ.get("WAKEUP_MODE", "sync")
_BODY = b'{"accepted":1}'
_HEADERS = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(_BODY))]
_requests: queue.SimpleQueue[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = queue.SimpleQueue()


def _resolver() -> None:
    """Another thread, like the writer: resolves each future on its loop as soon as it arrives."""
    while True:
        loop, future = _requests.get()
        loop.call_soon_threadsafe(future.set_result, None)


threading.Thread(target=_resolver, daemon=True).start()


async def app(scope, receive, send):  # type: ignore[no-untyped-def]
    """Read the body, suspend as `MODE` says, answer."""
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    while (await receive()).get("more_body"):
        pass
    if MODE == "thread":
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        _requests.put((loop, future))
        await future
    elif MODE == "yield":
        await asyncio.sleep(0)
    elif MODE == "sleep":
        await asyncio.sleep(0.001)
    await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
    await send({"type": "http.response.body", "body": _BODY})
