"""A lead's journey in the order things happened: events placed by the browser's clock.

The tracker sends events in batches (every few seconds, and the last ones when the page is left),
so the page view, form start and submit of the converting page often reach the server after the
lead itself. Ordering by arrival would put them after the lead, or leave them out. Each event
carries the browser's clock (`client_ms`); a browser's clock may be off by minutes, so it is
moved onto the server's clock by the smallest delay seen in that session (the event sent at once).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
# A browser's time, moved onto the server's clock, may land up to about one network delay late:
# an event with a browser time this close after the lead still happened before it.
CLOCK_SLACK_MS = 1_000


@dataclass(frozen=True, slots=True)
class Arrival(Generic[T]):
    """An event as stored: when the server received it, the browser's clock when sent, and it."""

    received_ms: int
    client_ms: int | None
    event: T


def journey_until(arrivals: Iterable[Arrival[T]], lead_ms: int) -> list[tuple[int, T]]:
    """(when it happened on the server's clock, event) for one session's events that happened up
    to the lead's arrival at `lead_ms`, in the order they happened.

    Events without a browser time (the landing page view the server records itself) keep their
    arrival time and count only when they arrived by the lead; ties keep arrival order.
    """
    arrivals = list(arrivals)
    delays = [a.received_ms - a.client_ms for a in arrivals if a.client_ms is not None]
    offset = min(delays) if delays else 0
    timed = []
    for order, arrival in enumerate(arrivals):
        if arrival.client_ms is None:
            at, before_lead = arrival.received_ms, arrival.received_ms <= lead_ms
        else:
            at = min(arrival.client_ms + offset, arrival.received_ms)
            before_lead = at <= lead_ms + CLOCK_SLACK_MS
            # Counted as before the lead: never placed after it (the offset is an estimate that
            # can run a few milliseconds late, by the network delay of the fastest event).
            at = min(at, lead_ms)
        if before_lead:
            timed.append((at, order, arrival.event))
    timed.sort(key=lambda item: (item[0], item[1]))
    return [(at, event) for at, _, event in timed]
