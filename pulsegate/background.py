"""Periodic background work in the server's lifespan (idle-session sweep, later outbox and retention)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

logger = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def run_every(
    interval_seconds: float, job: Callable[[], Awaitable[Any]], *, name: str, first_delay: float | None = None
) -> AsyncIterator[asyncio.Task[None]]:
    """Run `job` every `interval_seconds` (first after `first_delay`, default the same) while the
    context is open; cancel it on exit.

    A failing run is logged and the next one still happens: one bad sweep must not stop
    sessions from ever being ended again.
    """

    async def loop() -> None:
        delay = interval_seconds if first_delay is None else first_delay
        while True:
            await asyncio.sleep(delay)
            delay = interval_seconds
            try:
                await job()
            except Exception:  # logged, and retried on the next tick (see docstring)
                logger.exception(
                    "Background job %r failed; it will run again in %s s", name, interval_seconds
                )

    task = asyncio.get_running_loop().create_task(loop(), name=name)
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
