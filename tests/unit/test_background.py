"""Periodic background jobs keep running through failures and stop with their context."""

from __future__ import annotations

import asyncio

from pulsegate.background import run_every


def test_job_repeats_survives_failures_and_stops() -> None:
    calls: list[int] = []

    async def flaky() -> None:
        calls.append(len(calls))
        if len(calls) == 2:
            raise RuntimeError("one bad sweep")

    async def scenario() -> tuple[int, bool]:
        async with run_every(0.01, flaky, name="test job") as task:
            await asyncio.sleep(0.1)
        count = len(calls)
        await asyncio.sleep(0.05)
        return count, task.done() and len(calls) == count

    count, stopped = asyncio.run(scenario())
    assert count >= 4  # it ran again after the second call raised
    assert stopped
