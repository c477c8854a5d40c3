"""A lead's journey by the browser's clock: late arrivals placed where they happened."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pulsegate.domain.journeys import CLOCK_SLACK_MS, Arrival, journey_until

LEAD_MS = 1_790_000_100_000


def test_events_sent_after_the_lead_that_happened_before_it_are_in_the_journey() -> None:
    skew = -3_600_000  # the browser's clock is an hour behind the server's
    arrivals = [
        Arrival(LEAD_MS - 60_000, None, "landing pageview"),  # recorded by the server itself
        Arrival(LEAD_MS - 50_000, LEAD_MS - 50_020 + skew, "click sent at once"),
        # The converting page: batched, it reaches the server 900 ms after the lead.
        Arrival(LEAD_MS + 900, LEAD_MS - 8_000 + skew, "contact pageview"),
        Arrival(LEAD_MS + 900, LEAD_MS - 4_000 + skew, "form_start"),
        Arrival(LEAD_MS + 900, LEAD_MS - 30 + skew, "form_submit"),
        Arrival(LEAD_MS + 20_000, LEAD_MS + 15_000 + skew, "thank-you click"),  # after: not in it
        Arrival(LEAD_MS + 5, None, "server-side event after the lead"),  # not in it
    ]
    journey = journey_until(arrivals, LEAD_MS)
    assert [event for _, event in journey] == [
        "landing pageview", "click sent at once", "contact pageview", "form_start", "form_submit",
    ]  # fmt: skip
    # Placed on the server's clock by the smallest delay seen (20 ms).
    assert [at for at, _ in journey] == [
        LEAD_MS - 60_000,
        LEAD_MS - 50_000,
        LEAD_MS - 7_980,
        LEAD_MS - 3_980,
        LEAD_MS - 10,
    ]


def test_no_browser_times_keeps_arrival_order_and_cuts_at_the_lead() -> None:
    arrivals = [
        Arrival(LEAD_MS - 2, None, "a"),
        Arrival(LEAD_MS - 2, None, "b"),
        Arrival(LEAD_MS + 1, None, "c"),
    ]
    assert journey_until(arrivals, LEAD_MS) == [(LEAD_MS - 2, "a"), (LEAD_MS - 2, "b")]


@given(
    skew=st.integers(-86_400_000, 86_400_000),
    happened=st.lists(st.integers(-600_000, -CLOCK_SLACK_MS), min_size=1, max_size=30, unique=True),
    later=st.lists(st.integers(3 * CLOCK_SLACK_MS, 600_000), max_size=10),
    delays=st.lists(st.integers(20, 30_000), min_size=40, max_size=40),
)
def test_any_skew_and_batching_keep_what_happened_before_in_order(
    skew: int, happened: list[int], later: list[int], delays: list[int]
) -> None:
    """Reference: the true times. One event is sent at once (20 ms), as a tracker's first is."""
    delays = [20, *delays]
    truth = [LEAD_MS + offset for offset in happened] + [LEAD_MS + offset for offset in later]
    arrivals = [Arrival(true_ms + delays[n], true_ms + skew, true_ms) for n, true_ms in enumerate(truth)]
    journey = journey_until(sorted(arrivals, key=lambda a: a.received_ms), LEAD_MS)
    assert [event for _, event in journey] == sorted(LEAD_MS + offset for offset in happened)
