"""Sample traffic for `pulsegate demo seed`: deterministic, plausible, and scored like real visits."""

from __future__ import annotations

from collections import Counter

from pulsegate.domain.demo_traffic import DAY_MS, generate_visits

NOW = 1_795_000_000_000


def test_the_same_seed_makes_the_same_visits() -> None:
    first = generate_visits(seed=7, days=10, sessions=300, now_ms=NOW)
    again = generate_visits(seed=7, days=10, sessions=300, now_ms=NOW)
    other = generate_visits(seed=8, days=10, sessions=300, now_ms=NOW)
    assert [v.session.session_id for v in first] == [v.session.session_id for v in again]
    assert [v.session.session_id for v in first] != [v.session.session_id for v in other]


def test_visits_fall_in_the_period_in_order_and_end_after_they_start() -> None:
    visits = generate_visits(seed=1, days=14, sessions=2_000, now_ms=NOW)
    assert len(visits) == 2_000
    starts = [v.session.started_ms for v in visits]
    assert starts == sorted(starts)
    assert starts[0] >= NOW - 14 * DAY_MS and starts[-1] <= NOW
    for visit in visits:
        assert visit.session.started_ms <= visit.session.last_seen_ms <= visit.ended_ms <= NOW
        assert all(visit.session.started_ms <= e.at_ms < NOW for e in visit.events)
    # Some are happening now, for the realtime panel.
    assert sum(NOW - v.session.last_seen_ms < 5 * 60_000 for v in visits) >= 5


def test_weekdays_are_busier_than_weekends() -> None:
    visits = generate_visits(seed=1, days=28, sessions=5_000, now_ms=NOW)
    weekday = Counter((v.session.started_ms // DAY_MS + 3) % 7 for v in visits)
    weekend_average = (weekday[5] + weekday[6]) / 2
    working_average = sum(weekday[d] for d in range(5)) / 5
    assert weekend_average < 0.8 * working_average


def test_a_mix_of_sources_devices_bots_and_leads() -> None:
    visits = generate_visits(seed=3, days=30, sessions=5_000, now_ms=NOW)
    sources = Counter(v.origin.source for v in visits)
    assert sources.most_common(1)[0][0] == "Google" and len(sources) >= 8
    assert {v.origin.device for v in visits} >= {"desktop", "mobile", "tablet", "bot"}
    assert 0.005 < sum(v.session.is_bot for v in visits) / len(visits) < 0.05
    leads = [v.lead for v in visits if v.lead is not None]
    assert 0.01 < len(leads) / len(visits) < 0.1
    assert {lead.status for lead in leads} == {"new", "forwarded", "synced", "failed", "spam"}
    for lead in leads:
        assert (lead.spam_reason is not None) == (lead.status == "spam")
        assert (lead.crm_lead_id is not None) == (lead.status == "synced")
        assert lead.submission.email and "@" in lead.submission.email


def test_scores_follow_the_visit() -> None:
    visits = generate_visits(seed=5, days=7, sessions=1_000, now_ms=NOW)
    for visit in visits:
        pages = 1 + sum(e.fields.type == "pageview" for e in visit.events)
        assert visit.session.activity.page_views == pages
        submitted = any(e.fields.type == "form_submit" for e in visit.events)
        assert (visit.lead is not None) == submitted
        assert 0 <= visit.score <= 100
    # A one-page visit with no engaged time, scroll or clicks scores (almost) nothing.
    bounces = [
        v for v in visits if v.session.activity.page_views == 1 and v.session.activity.interactions == 0
    ]
    assert bounces and min(v.score for v in bounces) <= 5


def test_a_visitor_keeps_their_device_place_and_site_and_bots_send_no_leads() -> None:
    visits = generate_visits(seed=9, days=30, sessions=3_000, now_ms=NOW)
    profiles: dict[str, set[tuple]] = {}
    for visit in visits:
        origin = visit.origin
        profiles.setdefault(visit.session.visitor_id, set()).add(
            (origin.country, origin.device, origin.browser, visit.session.project)
        )
        if visit.lead is not None:
            assert not visit.session.is_bot
            assert sum(e.fields.type == "form_submit" for e in visit.events) == 1
            if visit.lead.spam_reason == "too fast":
                assert visit.lead.submission.elapsed_ms < 2_000
            if visit.lead.spam_reason == "honeypot":
                assert visit.lead.submission.website
    assert max(len(p) for p in profiles.values()) == 1
    assert any(
        sum(v.session.visitor_id == vid for v in visits) > 1 for vid in list(profiles)[:200]
    )  # some return
