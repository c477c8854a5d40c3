"""The attribution rules on hand-made journeys (random ones: tests/api/test_attribution.py)."""

from __future__ import annotations

from pulsegate.domain.attribution import (
    DAY_MS,
    SessionTouch,
    attribute,
    click_ids,
    submitted_touch,
)
from pulsegate.domain.leads import CrmCallback, StageEntry, latest, repeats

LEAD_MS = 1_800_000_000_000


def visit(n: int, days_before: float, source: str = "Direct", **more: object) -> SessionTouch:
    return SessionTouch(
        session_id=f"s{n}", started_ms=LEAD_MS - int(days_before * DAY_MS), source=source, **more
    )  # type: ignore[arg-type]


def test_click_ids_come_from_the_landing_url() -> None:
    url = "https://acme.example/?utm_source=google&gclid=TEST1&fbclid=F&other=1&msclkid="
    assert click_ids(url) == {"gclid": "TEST1", "fbclid": "F"}
    assert click_ids("https://acme.example/") == {}
    assert click_ids(None) == {}
    assert click_ids("https://acme.example/?gclid=" + "x" * 300) == {"gclid": "x" * 256}


def test_first_is_the_earliest_and_last_the_latest_that_was_not_direct() -> None:
    sessions = [
        visit(3, 1, "Newsletter", utm_source="newsletter"),
        visit(1, 10, "Google", utm_source="google", entry_url="https://a.example/p?gclid=G"),
        visit(2, 5),
        visit(4, 0.001),  # the converting session, Direct
    ]
    found = attribute(sessions, lead_ms=LEAD_MS, converting_session_id="s4", lookback_days=90)
    assert found is not None
    assert [touch.session_id for touch in found.touches] == ["s1", "s2", "s3", "s4"]
    assert found.first_touch.session_id == "s1" and found.first_touch.click_ids == {"gclid": "G"}
    assert found.first_touch.landing_page == "/p"
    assert found.last_touch.session_id == "s3"
    assert found.time_to_convert_ms == 10 * DAY_MS
    rule_last = attribute(
        sessions, lead_ms=LEAD_MS, converting_session_id="s4", lookback_days=90, last_touch="last"
    )
    assert rule_last is not None and rule_last.last_touch.session_id == "s4"


def test_an_all_direct_journey_ends_on_the_converting_session() -> None:
    sessions = [visit(1, 3), visit(2, 2), visit(3, 1)]
    found = attribute(sessions, lead_ms=LEAD_MS, converting_session_id="s2", lookback_days=90)
    assert found is not None and found.last_touch.session_id == "s2" and found.first_touch.session_id == "s1"


def test_the_lookback_edge_counts_and_a_day_more_does_not() -> None:
    sessions = [visit(1, 30.0001, "Google"), visit(2, 30, "Bing"), visit(3, 0)]
    found = attribute(sessions, lead_ms=LEAD_MS, converting_session_id="s3", lookback_days=30)
    assert found is not None
    assert [touch.session_id for touch in found.touches] == ["s2", "s3"]
    assert found.time_to_convert_ms == 30 * DAY_MS


def test_bots_do_not_count_unless_the_lead_came_from_one() -> None:
    sessions = [visit(1, 2, "Google", is_bot=True), visit(2, 1, "Bing"), visit(3, 0, is_bot=True)]
    found = attribute(sessions, lead_ms=LEAD_MS, converting_session_id="s3", lookback_days=90)
    assert found is not None
    assert [touch.session_id for touch in found.touches] == ["s2", "s3"]


def test_without_cross_visit_the_converting_session_is_every_touch() -> None:
    sessions = [visit(1, 2, "Google"), visit(2, 0)]
    found = attribute(
        sessions, lead_ms=LEAD_MS, converting_session_id="s2", lookback_days=90, cross_visit=False
    )
    assert found is not None and [touch.session_id for touch in found.touches] == ["s2"]
    assert found.first == found.last == 0 and found.time_to_convert_ms == 0 * DAY_MS
    assert attribute(sessions, lead_ms=LEAD_MS, converting_session_id=None, lookback_days=90,
                     cross_visit=False) is None  # fmt: skip


def test_a_submission_without_a_session_is_its_own_touch() -> None:
    touch = submitted_touch(
        "https://acme.example/contact?utm_source=hn&utm_campaign=launch&gclid=X",
        {"utm_campaign": "spring"},
        LEAD_MS,
    )
    assert touch.source == "Hacker News" and touch.utm_campaign == "spring"  # the submission's field wins
    assert touch.landing_page == "/contact" and touch.click_ids == {"gclid": "X"} and touch.at == LEAD_MS
    assert submitted_touch(None, {}, LEAD_MS).source == "Direct"


def test_a_repeated_stage_is_recognised() -> None:
    history = [
        StageEntry(stage="qualified", value=None, currency=None, at=1),
        StageEntry(stage="won", value=1200.5, currency="EUR", at=5),
    ]
    again = CrmCallback(lead_id="l", stage="won", value=1200.5, currency="EUR", at=5)
    assert repeats(history, again)
    assert not repeats(history, CrmCallback(lead_id="l", stage="won", value=1200.5, currency="EUR", at=6))
    assert repeats(history, CrmCallback(lead_id="l", stage="won", value=1200.5, currency="EUR"))  # no time
    assert not repeats(history, CrmCallback(lead_id="l", stage="qualified"))  # not the latest
    assert not repeats([], CrmCallback(lead_id="l", stage="won"))
    late = [*history, StageEntry(stage="qualified", value=None, currency=None, at=3)]  # reported late
    assert latest(late).stage == "won"
