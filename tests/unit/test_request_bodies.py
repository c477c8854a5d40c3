"""Reading request bodies: reads past their deadline are cut with RequestTimeout, the rest are left
alone, and a declared length is only trusted when it is a number."""

from __future__ import annotations

import asyncio
import time

import pytest

from pulsegate.deadlines import BodyDeadlines
from pulsegate.errors import RequestTimeout


async def arrives_after(seconds: float, body: bytes = b"{}") -> bytes:
    await asyncio.sleep(seconds)
    return body


def test_a_body_in_time_is_returned_and_nothing_stays_registered() -> None:
    async def scenario() -> None:
        deadlines = BodyDeadlines(1.0, sweep_seconds=0.05)
        assert await deadlines.within(arrives_after(0)) == b"{}"
        assert len(deadlines) == 0
        await asyncio.sleep(0.1)  # the sweep finds nothing and stops rescheduling itself
        assert deadlines._sweep is None

    asyncio.run(scenario())


def test_only_the_stalled_reads_are_cut_within_one_sweep() -> None:
    async def scenario() -> list[object]:
        deadlines = BodyDeadlines(0.3, sweep_seconds=0.05)
        reads = [
            arrives_after(0.05, b"fast"),
            arrives_after(30),
            arrives_after(0.1, b"also fast"),
            arrives_after(30),
        ]
        began = time.monotonic()
        results = await asyncio.gather(*(deadlines.within(read) for read in reads), return_exceptions=True)
        elapsed = time.monotonic() - began
        assert 0.3 <= elapsed < 0.3 + 0.05 + 0.5  # the timeout, one sweep, and slack for a busy machine
        assert len(deadlines) == 0
        return results

    fast, stalled, also_fast, stalled_too = asyncio.run(scenario())
    assert fast == b"fast" and also_fast == b"also fast"
    for result in (stalled, stalled_too):
        assert isinstance(result, RequestTimeout) and "0.3 s" in result.message


def test_a_cancellation_from_elsewhere_stays_a_cancellation() -> None:
    async def scenario() -> None:
        deadlines = BodyDeadlines(10.0, sweep_seconds=0.05)
        reader = asyncio.ensure_future(deadlines.within(arrives_after(30)))
        await asyncio.sleep(0.1)
        reader.cancel()  # the client went away, or the server is stopping
        with pytest.raises(asyncio.CancelledError):
            await reader
        assert len(deadlines) == 0

    asyncio.run(scenario())


def test_a_content_length_of_other_digits_is_not_trusted() -> None:
    """Header bytes are decoded as latin-1: b"\\xb2" is "²", a digit to str.isdigit but not to int."""
    from pulsegate.http.body import read_capped_body

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def scenario() -> bytes:
        scope = {"type": "http", "headers": [(b"content-length", b"\xb2")]}
        return await read_capped_body(scope, receive, 100, BodyDeadlines(5.0))  # type: ignore[arg-type]

    assert asyncio.run(scenario()) == b"{}"  # read and capped as it arrives, not a crash
