"""One timer for every request body being read: a stalled client is cut off after the timeout.

Plumbing of the HTTP layer kept below it, since the runtime (which the handlers read) owns one.

`asyncio.timeout` around each read costs a timer handle per request, about 4 µs: 4% of the
worker's CPU at 8,000 events/s, on a route whose body has almost always arrived with its
headers. Here a read registers its task and deadline in a dict, and one timer, running only
while reads are registered, sweeps once a second and cancels the reads past their deadline.
So the cut comes between `timeout_seconds` and one sweep (a second) later.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

from pulsegate.errors import RequestTimeout

T = TypeVar("T")


class BodyDeadlines:
    """Cancels body reads that run past `timeout_seconds` (one loop's reads)."""

    def __init__(self, timeout_seconds: float, *, sweep_seconds: float = 1.0) -> None:
        self.timeout_seconds = timeout_seconds
        self._sweep_seconds = sweep_seconds
        self._deadlines: dict[asyncio.Task[object], float] = {}
        self._expired: set[asyncio.Task[object]] = set()
        self._sweep: asyncio.TimerHandle | None = None

    def __len__(self) -> int:
        return len(self._deadlines)

    async def within(self, read: Awaitable[T]) -> T:
        """Await `read` (in the current task); RequestTimeout if it outlasts the deadline."""
        task = asyncio.current_task()
        if task is None:  # not inside a task (never under an ASGI server): no deadline to keep
            return await read
        loop = asyncio.get_running_loop()
        self._deadlines[task] = loop.time() + self.timeout_seconds
        if self._sweep is None:
            self._sweep = loop.call_later(self._sweep_seconds, self._cancel_late)
        try:
            return await read
        except asyncio.CancelledError:
            if task not in self._expired:
                raise  # cancelled by someone else (the client went away, the server stops)
            self._expired.discard(task)
            task.uncancel()
            raise RequestTimeout(
                f"The request body did not arrive within {self.timeout_seconds:g} s"
            ) from None
        finally:
            self._deadlines.pop(task, None)

    def _cancel_late(self) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        late = [task for task, deadline in self._deadlines.items() if deadline <= now]
        for task in late:
            del self._deadlines[task]
            self._expired.add(task)
            task.cancel()
        self._sweep = loop.call_later(self._sweep_seconds, self._cancel_late) if self._deadlines else None
