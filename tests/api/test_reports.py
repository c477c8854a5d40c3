"""The reports engine over HTTP: random traffic, random filters and comparisons, every report
endpoint checked against the plain-Python reference of tests/api/reports_reference.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient

from pulsegate.domain.periods import Window
from pulsegate.domain.reports import DIMENSIONS, METRICS, dimension, parse_filters, with_goals
from pulsegate.domain.timestamps import epoch_ms
from tests.api import reports_reference as ref
from tests.helpers import app_cursor, served_key

TZ = "Europe/Berlin"
BLANK_VALUES = dict.fromkeys(
    ("source", "referrer_host", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "country",
     "browser", "os", "device", "screen_width", "language")
) | {"source": "Direct"}  # fmt: skip
PARAMS = {"from": ref.WINDOW_FROM.date().isoformat(), "to": "2026-03-07", "tz": TZ}


@pytest.fixture(scope="module", params=ref.ENGINES)
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient[Any], str]]:
    """The app on each engine: every answer must agree with the reference on both."""
    with ref.served_app(tmp_path_factory.mktemp("reports"), request.param) as served:
        yield served


def ask(served: tuple[TestClient[Any], str], route: str, filters: list[str], **params: str) -> Any:
    client, key = served
    query = [*PARAMS.items(), *params.items(), *(("filter", text) for text in filters)]
    response = client.get(f"/analytics/{route}", params=query, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200, response.text
    return response.json()


def window(compare: str | None) -> tuple[datetime, datetime]:
    """The asked window (local days in TZ) or its comparison, as naive UTC."""
    asked = Window(_local_ms(ref.WINDOW_FROM), _local_ms(ref.WINDOW_TO), TZ)
    chosen = asked if compare is None else asked.previous if compare == "previous" else asked.year_earlier
    return _naive_utc(chosen.start_ms), _naive_utc(chosen.end_ms)


def _local_ms(moment: datetime) -> int:
    return epoch_ms(moment.replace(tzinfo=ref.ZoneInfo(TZ)))


def _naive_utc(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, ref.UTC).replace(tzinfo=None)


def same(got: dict[str, Any], expected: dict[str, Any], names: list[str], where: str) -> None:
    for name in names:
        want = expected[name]
        if want is None:
            assert got[name] is None, (where, name, got)
        else:
            assert got[name] == pytest.approx(want, rel=1e-9, abs=1e-9), (where, name, got, expected)


def same_breakdown(answer: dict[str, Any], expected: dict[Any, Any], metrics: list[str], by: str) -> None:
    """A breakdown's every row is the expected one, and they are ranked by the first metric."""
    assert answer["total_rows"] == len(expected), (answer["rows"], expected)
    assert sorted(map(repr, (row["value"] for row in answer["rows"]))) == sorted(map(repr, expected))
    for row in answer["rows"]:
        same(row, expected[row["value"]], metrics, f"breakdown by {by}: {row['value']}")
    ranks = [(-(row[metrics[0]] if row[metrics[0]] is not None else float("-inf")),
              row["value"] is None, row["value"] or "") for row in answer["rows"]]  # fmt: skip
    assert ranks == sorted(ranks), "rows are ranked by the first metric, then by value"


def applicable(name: str, filters: list[str] = ()) -> list[str]:  # type: ignore[assignment]
    """Every metric a breakdown by `name` offers (the goal metrics only with a goal filter)."""
    by = dimension(name)
    goal_filtered = any(text.startswith(("goal==", "goal~")) for text in filters)  # a positive one
    return [m.name for m in METRICS.values() if m.applies_to(by) and (goal_filtered or not m.needs_goal)]


def test_every_report_agrees_with_the_plain_python_reference(served: tuple[TestClient[Any], str]) -> None:
    """With the event rollup made up to any hour (or none), before, inside or after the window."""

    @settings(max_examples=ref.examples_on(served[0], 30), deadline=None)
    @given(
        data=ref.traffic(),
        filters=st.lists(ref.filter_texts(), max_size=3),
        by=st.sampled_from([*DIMENSIONS, "prop:plan", "prop:seats"]),
        compare=st.sampled_from([None, "previous", "year"]),
        rolled_up_to=st.one_of(
            st.none(), st.datetimes(ref.WINDOW_FROM - timedelta(days=8), ref.WINDOW_TO + timedelta(days=1))
        ),
    )
    def example(
        data: ref.Traffic, filters: list[str], by: str, compare: str | None, rolled_up_to: datetime | None
    ) -> None:
        every_report_agrees(served, data, filters, by, compare, rolled_up_to)

    example()


def every_report_agrees(
    served: tuple[TestClient[Any], str],
    data: ref.Traffic,
    filters: list[str],
    by: str,
    compare: str | None,
    rolled_up_to: datetime | None,
) -> None:
    """One example: the traffic stored, every report asked with the filters and comparison."""
    client, _ = served
    with app_cursor(client) as cursor:
        ref.insert(cursor, data, rolled_up_to)
    parsed = list(with_goals(parse_filters(filters), ref.GOALS))
    start, end = window(None)
    extra = {"compare": compare} if compare else {}

    # The overview: totals now and in the comparison window.
    overview = ask(served, "overview", filters, **extra)
    for name, (low, high) in (("current", (start, end)), ("previous", window(compare or "previous"))):
        expected = ref.session_breakdown(data, parsed, low, high, None)[None]
        renamed = {"page_views": "pageviews", "average_engaged_ms": "avg_engaged_ms"}
        got = {renamed.get(key, key): value for key, value in overview[name].items()}
        got["bounce_rate"] = got["bounce_rate"] * 100 if got["bounce_rate"] is not None else None
        same(got, expected, ["sessions", "visitors", "events", "pageviews", "avg_engaged_ms", "bounce_rate", "leads"],
             f"overview {name}")  # fmt: skip

    # A breakdown by any dimension with every metric it offers, ranked by the first.
    metrics = applicable(by, filters)
    answer = ask(served, "breakdown", filters, dimension=by, metrics=",".join(metrics), limit="1000", **extra)
    expected_rows = ref.breakdown(data, parsed, start, end, by)
    same_breakdown(answer, expected_rows, metrics, by)
    if compare:
        earlier = ref.breakdown(data, parsed, *window(compare), by)
        for row in answer["rows"]:
            before = earlier.get(row["value"])
            if before is None:
                assert all(row["comparison"][m] in (0, None) for m in metrics)
            else:
                same(row["comparison"], before, metrics, f"comparison of {row['value']}")

    # The daily time series with every session metric, zero-filled.
    session_metrics = applicable("source", filters)
    series = ask(served, "timeseries", filters, interval="day", metrics=",".join(session_metrics), **extra)
    by_day = ref.days(data, parsed, start, end, TZ)
    assert [bucket["start"] for bucket in series["buckets"]] == [
        f"2026-03-0{d}T00:00:00" for d in range(3, 8)
    ]
    for bucket in series["buckets"]:
        expected = by_day.get(bucket["start"]) or ref.empty_row()
        same(bucket, expected, session_metrics, f"day {bucket['start']}")
    if compare:
        assert len(series["comparison"]["buckets"]) == 5
        earlier_days = ref.days(data, parsed, *window(compare), TZ)
        for bucket in series["comparison"]["buckets"]:
            expected = earlier_days.get(bucket["start"]) or ref.empty_row()
            same(bucket, expected, session_metrics, f"earlier day {bucket['start']}")

    # The fixed reports take the same filters.
    countries = ask(served, "geo", filters, limit="1000")["countries"]
    expected_countries = ref.breakdown(data, parsed, start, end, "country")
    assert {c["country"]: (c["sessions"], c["visitors"]) for c in countries} == {
        value: (row["sessions"], row["visitors"])
        for value, row in expected_countries.items()
        if row["sessions"]
    }  # without the leads metric, a value that only leads have is not a row
    pages = ask(served, "pages/top", filters, limit="1000")["pages"]
    expected_pages = ref.breakdown(data, parsed, start, end, "page")
    assert {p["path"]: (p["views"], p["visitors"]) for p in pages} == {
        value: (row["pageviews"], row["visitors"]) for value, row in expected_pages.items()
    }
    sources = ask(served, "sources", filters, limit="1000")["sources"]
    expected_sources = ref.breakdown(data, parsed, start, end, "source")
    assert {s["source"]: (s["sessions"], s["leads"]) for s in sources} == {
        value: (row["sessions"], row["leads"]) for value, row in expected_sources.items() if value is not None
    }
    daily = ask(served, "sessions/daily", filters)["days"]
    empty = ref.empty_row()
    assert [d["date"] for d in daily] == [f"2026-03-0{d}" for d in range(3, 8)]
    for day in daily:
        expected = by_day.get(f"{day['date']}T00:00:00") or empty
        assert (day["sessions"], day["visitors"]) == (expected["sessions"], expected["visitors"])
    scored = [s.score for s in ref.population(data, parsed, start, end) if s.score is not None]
    assert ask(served, "engagement", filters)["scored_sessions"] == len(scored)
    signups = ask(served, "properties", filters, event="Signup")["properties"]
    assert {p["key"]: (p["events"], p["visitors"]) for p in signups} == ref.properties(
        data, parsed, start, end, "Signup"
    )
    listed = ask(served, "leads", filters, limit="1000")["leads"]
    assert {lead["lead_id"] for lead in listed} == ref.listed_leads(data, parsed, start, end)

    # Each goal's conversions, and the share of the window's visitors who converted.
    goals = ask(served, "goals", filters, **extra)
    assert [g["name"] for g in goals["goals"]] == sorted(g.name for g in ref.GOALS)
    for low_high, numbers in ((window(None), "current"), *((window(compare), "comparison"),) * bool(compare)):
        without_goals = [f for f in parsed if f.dimension.name != "goal"]  # the rates' base
        everyone = ref.session_breakdown(data, without_goals, *low_high, None)[None]["visitors"]
        if numbers == "current":
            assert goals["visitors"] == everyone
        for got in goals["goals"]:
            goal = next(g for g in ref.GOALS if g.name == got["name"])
            visitors, conversions = ref.goal_report(data, parsed, *low_high, goal)
            shown = got if numbers == "current" else got["comparison"]
            rate = 100 * visitors / everyone if everyone else None
            same(shown, {"visitors": visitors, "conversions": conversions, "conversion_rate": rate},
                 ["visitors", "conversions", "conversion_rate"], f"goal {goal.name} {numbers}")  # fmt: skip


def test_bad_reports_are_refused_with_the_reason(served: tuple[TestClient[Any], str]) -> None:
    client, key = served
    headers = {"Authorization": f"Bearer {key}"}
    for route, params, reason in (
        ("breakdown", {}, "dimension: required"),
        ("breakdown", {"dimension": "planet"}, "unknown 'planet'"),
        ("breakdown", {"dimension": "page", "metrics": "bounce_rate"}, "bounce_rate does not apply"),
        ("breakdown", {"dimension": "source", "order": "leads:desc"}, "order: 'leads' is not one of"),
        ("breakdown", {"dimension": "source", "compare": "decade"}, "compare: must be one of"),
        ("overview", {"filter": "country=DE"}, "filter: write DIMENSION OP VALUE"),
        ("overview", {"filter": "planet==Mars"}, "unknown 'planet'"),
        ("timeseries", {"metrics": "nonsense"}, "unknown 'nonsense'"),
        ("realtime", {"filter": "country==DE|"}, "empty value"),
        ("geo", {"filter": "prop:bad key==x"}, "property key"),
        ("overview", {"filter": "goal==Nobody"}, "no goal named 'Nobody'"),
        ("breakdown", {"dimension": "goal"}, "goal is a filter"),
        ("breakdown", {"dimension": "source", "metrics": "conversions"}, "needs a goal filter"),
        ("timeseries", {"metrics": "goal_conversion_rate"}, "needs a goal filter"),
        (
            "breakdown",
            {"dimension": "page", "metrics": "conversions", "filter": "goal==Signup"},
            "does not apply",
        ),
        (
            "breakdown",
            {"dimension": "source", "metrics": "conversions", "filter": "goal!=Signup"},
            "needs a goal",
        ),
    ):
        response = client.get(f"/analytics/{route}", params=params, headers=headers)
        assert response.status_code == 400, (route, params, response.text)
        assert reason in response.json()["error"], (route, params, response.json())


def test_the_openapi_document_lists_the_new_reports(served: tuple[TestClient[Any], str]) -> None:
    client, _ = served
    paths = client.get("/schema/openapi.json").json()["paths"]
    assert "/analytics/breakdown" in paths and "/analytics/timeseries" in paths
    breakdown = {p["name"]: p for p in paths["/analytics/breakdown"]["get"]["parameters"]}
    assert breakdown["dimension"]["required"] and {"metrics", "order", "filter", "compare"} <= set(breakdown)
    assert "filter" in {p["name"] for p in paths["/analytics/geo"]["get"]["parameters"]}
    funnel = {p["name"]: p for p in paths["/analytics/funnel"]["get"]["parameters"]}
    assert {"step", "within", "window", "name", "filter", "from", "period"} <= set(funnel)
    assert funnel["within"]["schema"]["enum"] == ["session", "visitor"]
    assert {"filter", "compare"} <= {p["name"] for p in paths["/analytics/goals"]["get"]["parameters"]}
    assert "/analytics/funnels" in paths


def test_a_lead_of_a_bot_s_session_is_filtered_as_if_the_session_had_no_events(
    served: tuple[TestClient[Any], str],
) -> None:
    """A bot's events are in no report, so an event filter finds none in its session: its lead
    passes `event!=…` and fails `event==…` (found by the example test: the reference had read the
    bot's events, the engines had not)."""
    started = ref.WINDOW_FROM + timedelta(hours=12)
    bot = ref.Session(
        session_id="bot1", visitor_id="v1", project="acme", started_at=started, is_bot=True, ended=True,
        values=dict(BLANK_VALUES), entry_url="https://example.com/", engaged_ms=0, score=0,
    )  # fmt: skip
    bot.events = [ref.Event(started, "pageview", path="/"),
                  ref.Event(started + timedelta(minutes=5), "custom", path="/", name="Download brochure")]  # fmt: skip
    lead = ref.Lead("l1", started + timedelta(minutes=6), "acme", bot, is_spam=False, source="demo")
    bot.leads.append(lead)
    data = ref.Traffic(sessions=[bot], leads=[lead])
    with app_cursor(served[0]) as cursor:
        ref.insert(cursor, data)
    start, end = window(None)
    for filters in (["event!=Download brochure"], ["event==Download brochure"]):
        expected = len(ref.counted_leads(data, list(parse_filters(filters)), start, end))
        assert ask(served, "overview", filters)["current"]["leads"] == expected, filters
    assert [len(ref.counted_leads(data, list(parse_filters([f])), start, end))
            for f in ("event!=Download brochure", "event==Download brochure")] == [1, 0]  # fmt: skip


def test_engaged_time_on_a_filtered_page_is_that_of_the_sessions_that_viewed_it(
    served: tuple[TestClient[Any], str],
) -> None:
    """`page==/pricing` keeps the sessions with a view of /pricing, for the page's engaged time too:
    an engagement ping on /pricing from a session without that view in the window (its view was
    just before) is not counted (found by the example test: a view row is itself the event the
    filter asks for, and the engines took an engagement row for one)."""
    started = ref.WINDOW_FROM + timedelta(hours=12)
    sessions = []
    for n, events in enumerate(
        [
            [ref.Event(started, "pageview", path="/pricing")],
            [ref.Event(started, "pageview", path="/"),
             ref.Event(started + timedelta(minutes=3), "engagement", path="/pricing", engaged_ms=8_000)],
        ]
    ):  # fmt: skip
        session = ref.Session(
            session_id=f"e{n}", visitor_id=f"v{n}", project="acme", started_at=started, is_bot=False,
            ended=True, values=dict(BLANK_VALUES), entry_url="https://example.com/", engaged_ms=0, score=0,
        )  # fmt: skip
        session.events = events
        sessions.append(session)
    data = ref.Traffic(sessions=sessions, leads=[])
    with app_cursor(served[0]) as cursor:
        ref.insert(cursor, data)
    start, end = window(None)
    metrics = ["visitors", "sessions", "pageviews", "avg_engaged_ms"]
    for filters in (["page==/pricing"], ["page==/pricing", "country!=FR"]):
        expected = ref.event_breakdown(data, list(parse_filters(filters)), start, end, "page")
        assert expected["/pricing"]["avg_engaged_ms"] == 0  # the ping's session has no view of it
        answer = ask(served, "breakdown", filters, dimension="page", metrics=",".join(metrics))
        same_breakdown(answer, expected, metrics, "page")


def test_realtime_counts_only_the_sessions_that_pass_the_filters(served: tuple[TestClient[Any], str]) -> None:
    client, key = served
    now = datetime.now(ref.UTC).replace(tzinfo=None)
    data = ref.Traffic(sessions=[], leads=[])
    for n, (country, path) in enumerate(
        [("DE", "/pricing"), ("DE", "/"), ("US", "/pricing"), ("US", "/blog/a")]
    ):
        session = ref.Session(
            session_id=f"live{n}", visitor_id=f"v{n}", project="acme", started_at=now - timedelta(minutes=2),
            is_bot=False, ended=False, values={**BLANK_VALUES, "country": country}, entry_url="https://example.com/",
            engaged_ms=0, score=None,
        )  # fmt: skip
        session.events = [ref.Event(now - timedelta(minutes=2), "pageview", path="/"),
                          ref.Event(now - timedelta(seconds=30), "pageview", path=path)]  # fmt: skip
        data.sessions.append(session)
    with app_cursor(client) as cursor:
        ref.insert(cursor, data)

    def realtime(*filters: str) -> dict[str, Any]:
        params = [("filter", text) for text in filters]
        response = client.get(
            "/analytics/realtime", params=params, headers={"Authorization": f"Bearer {key}"}
        )
        assert response.status_code == 200, response.text
        return response.json()

    assert realtime()["active_sessions"] == 4
    german = realtime("country==DE")
    assert german["active_sessions"] == 2 and german["events_last_minute"] == 2
    assert {p["path"]: p["views"] for p in german["top_pages"]} == {"/": 3, "/pricing": 1}
    pricing = realtime("page==/pricing", "country!=DE")
    assert pricing["active_sessions"] == 1 and pricing["active_visitors"] == 1


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=ref.traffic())
def test_a_large_database_counts_event_visitors_approximately_and_says_so(
    served: tuple[TestClient[Any], str], data: ref.Traffic
) -> None:
    import pulsegate.store.reports as report_queries

    client, _ = served
    with app_cursor(client) as cursor:
        ref.insert(cursor, data)
    start, end = window(None)
    expected = ref.breakdown(data, [], start, end, "page")
    exact = ask(served, "breakdown", [], dimension="page", metrics="visitors,pageviews", limit="1000")
    assert exact["approximate"] == [] and ask(served, "pages/top", [])["visitors_approximate"] is False
    original = report_queries.EXACT_DISTINCT_UP_TO
    report_queries.EXACT_DISTINCT_UP_TO = -1  # every database is "large"
    try:
        estimated = ask(served, "breakdown", [], dimension="page", metrics="visitors,pageviews", limit="1000")
        assert ask(served, "pages/top", [])["visitors_approximate"] is True
        sessions = ask(served, "breakdown", [], dimension="source", metrics="visitors", limit="1000")
        goals = ask(served, "goals", [])
    finally:
        report_queries.EXACT_DISTINCT_UP_TO = original
    assert estimated["approximate"] == ["visitors"] and goals["approximate"] is True
    assert ask(served, "goals", [])["approximate"] is False
    for got in goals["goals"]:
        goal = next(g for g in ref.GOALS if g.name == got["name"])
        visitors, conversions = ref.goal_report(data, [], start, end, goal)
        assert got["conversions"] == conversions  # counts stay exact
        assert got["visitors"] == pytest.approx(visitors, rel=0.1, abs=1)
    assert sessions["approximate"] == []  # session dimensions always count exactly
    for row in estimated["rows"]:
        assert row["pageviews"] == expected[row["value"]]["pageviews"]  # counts stay exact
        assert row["visitors"] == pytest.approx(expected[row["value"]]["visitors"], rel=0.1, abs=1)


def test_a_key_for_one_project_never_learns_another_project_s_goals(
    served: tuple[TestClient[Any], str],
) -> None:
    client, _ = served
    headers = {"Authorization": f"Bearer {served_key(client, 'acme')}"}
    names = [goal["name"] for goal in client.get("/analytics/goals", headers=headers).json()["goals"]]
    assert "Globex pricing" not in names and "Pricing" in names
    refused = client.get("/analytics/overview", params={"filter": "goal==Globex pricing"}, headers=headers)
    assert refused.status_code == 400
    listed = refused.json()["error"].split("goals: ")[1]
    assert "Globex pricing" not in listed and "Pricing" in listed
