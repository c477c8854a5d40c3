"""The engagement score of hand-built sessions, worked out by hand from the documented formula."""

from __future__ import annotations

import pytest

from pulsegate.domain.engagement import SessionActivity, engagement_score


def activity_from(events: list[tuple[str, str | None, dict | None]]) -> SessionActivity:
    activity = SessionActivity()
    for event_type, url, props in events:
        activity.record(event_type, url, props)
    return activity


def test_a_bounce_scores_zero() -> None:
    assert engagement_score(activity_from([("pageview", "https://e.com/", None)])) == 0


def test_a_middling_visit() -> None:
    activity = activity_from(
        [
            ("pageview", "https://e.com/", None),
            ("pageview", "https://e.com/pricing", None),
            ("pageview", "https://e.com/about", None),
            ("scroll", None, {"depth": 50}),
            ("click", None, None),
            ("outbound", None, None),
            ("engagement", None, {"engaged_ms": 45_000}),
            ("engagement", None, {"engaged_ms": 15_000}),
            ("form_start", None, None),
        ]
    )
    # engaged 60 s: 35 * 60/120 = 17.5; scroll 50%: 20 * 0.5 = 10; 3 pages: 20 * 2/4 = 10;
    # 2 interactions: 15 * 2/5 = 6; a form started: 5. Total 48.5, rounded half up: 49.
    assert engagement_score(activity) == 49
    assert activity.entry_url == "https://e.com/" and activity.exit_url == "https://e.com/about"
    assert (activity.page_views, activity.events, activity.interactions) == (3, 9, 2)


def test_every_part_caps() -> None:
    events: list[tuple[str, str | None, dict | None]] = [
        ("pageview", f"https://e.com/{i}", None) for i in range(9)
    ]
    events += [("click", None, None)] * 12
    events += [("scroll", None, {"depth": 180}), ("engagement", None, {"engaged_ms": 600_000})]
    events += [("form_start", None, None), ("form_submit", None, None)]
    activity = activity_from(events)
    assert activity.max_scroll == 100
    assert engagement_score(activity) == 100


def test_a_submitted_form_alone() -> None:
    activity = activity_from([("pageview", "https://e.com/contact", None), ("form_submit", None, None)])
    assert engagement_score(activity) == 10


@pytest.mark.parametrize("bad", [-5, "12", True, None, float("nan"), float("inf")])
def test_nonsense_measurements_are_ignored(bad: object) -> None:
    activity = SessionActivity()
    activity.add_engaged_ms(bad)
    activity.note_scroll(bad)
    assert activity.engaged_ms == 0
    assert activity.max_scroll == 0


def test_engaged_time_per_event_is_clipped() -> None:
    activity = SessionActivity()
    activity.add_engaged_ms(10**12)
    assert activity.engaged_ms == 30 * 60 * 1000
