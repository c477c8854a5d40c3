"""Funnels over HTTP against a plain-Python reference: random journeys (steps in and out of order,
repeated, across sessions and days, in one batch), random steps, `within`, `window` and filters."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient

from pulsegate.domain.funnels import funnel
from pulsegate.domain.goals import Goal
from pulsegate.domain.reports import Filter, parse_filters, with_goals
from pulsegate.domain.timestamps import epoch_ms
from pulsegate.store.funnels import upsert_funnel
from tests.api import reports_reference as ref
from tests.helpers import app_cursor

START, END = datetime(2026, 3, 1), datetime(2026, 3, 21)  # the window asked, in UTC
PARAMS = {"from": "2026-03-01", "to": "2026-03-20", "tz": "UTC"}
BLANK = dict.fromkeys(
    ("source", "referrer_host", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "country",
     "browser", "os", "device", "screen_width", "language")
) | {"source": "Direct"}  # fmt: skip
STEPS = ("page:/pricing", "page:/blog/*", "page:/", "event:Signup", "event:Download brochure", "lead",
         "goal:Pro signup", "goal:Any lead", "goal:Docs or blog")  # fmt: skip
WINDOWS = {"1h": 3_600_000, "1d": 86_400_000, "7d": 7 * 86_400_000}
HALF = 1 << 21  # the browser clock's reach around the receive time in an order key


@pytest.fixture(scope="module", params=ref.ENGINES)
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient[Any], str]]:
    """The app on each engine: every funnel must agree with the reference on both."""
    with ref.served_app(tmp_path_factory.mktemp("funnels"), request.param) as served:
        yield served


@st.composite
def journeys(draw: st.DrawFn) -> ref.Traffic:
    """Visitors with a few sessions each over three weeks (and a little outside them); events
    often share a receive time (one batch), ordered by the browser's clock or not at all."""
    sessions, leads = [], []
    for v in range(draw(st.integers(1, 8))):
        at = START - timedelta(hours=6) + timedelta(minutes=draw(st.integers(0, 3000)))
        for s in range(draw(st.integers(1, 4))):
            # Gaps on either side of each window asked (1h, 1d, 7d).
            at += timedelta(minutes=draw(st.sampled_from((1, 30, 50, 70, 1200, 1600, 8600, 11000))))
            session = ref.Session(
                session_id=f"s{v}-{s}", visitor_id=f"v{v}", project=draw(st.sampled_from(ref.PROJECTS)),
                started_at=at, is_bot=draw(st.integers(0, 12)) == 0, ended=True,
                values={**BLANK, "source": draw(st.sampled_from(ref.SOURCES)),
                        "country": draw(st.sampled_from(ref.COUNTRIES))},
                entry_url="https://example.com/", engaged_ms=0, score=None,
            )  # fmt: skip
            for _ in range(draw(st.integers(1, 10))):
                batch = draw(st.booleans())
                if not batch:
                    at += timedelta(seconds=draw(st.sampled_from((1, 60, 1500, 2500))))
                client = epoch_ms(at.replace(tzinfo=ref.UTC)) + draw(st.sampled_from((-3000, 0, 5, 9)))
                kind = draw(st.sampled_from(("pageview", "pageview", "custom", "lead")))
                if kind == "lead":
                    if not batch:  # a lead's moment has no browser clock: never in a batch
                        lead = ref.Lead(f"l{len(leads)}", at, session.project, session,
                                        draw(st.integers(0, 5)) == 0, draw(st.sampled_from(ref.FORMS)))  # fmt: skip
                        leads.append(lead)
                        session.leads.append(lead)
                elif kind == "pageview":
                    path = draw(st.sampled_from(ref.PATHS))
                    session.events.append(ref.Event(at, "pageview", path=path, client_ms=client))
                else:
                    props = draw(st.sampled_from((None, {"plan": "pro"}, {"plan": "free"})))
                    name = draw(st.sampled_from(ref.EVENT_NAMES))
                    session.events.append(
                        ref.Event(at, "custom", path="/", name=name, props=props, client_ms=client)
                    )
            if session.events:
                session.started_at = session.events[0].at
                sessions.append(session)
    return ref.Traffic(sessions, [lead for lead in leads if lead.session in sessions])


# ---- the reference ------------------------------------------------------------------------------


def order_key(at: datetime, client_ms: int | None) -> tuple[int, int]:
    """(receive ms, browser clock relative to it, clamped): how PulseGate orders moments."""
    received = epoch_ms(at.replace(tzinfo=ref.UTC))
    offset = 0 if client_ms is None else max(-HALF, min(HALF - 1, client_ms - received))
    return received, offset


def moments(session: ref.Session, goal: Goal) -> list[tuple[int, int]]:
    """The order keys of the session's conversions on `goal` in the window."""
    if session.is_bot or (goal.project is not None and session.project != goal.project):
        return []
    if goal.kind == "lead":
        return [
            order_key(lead.created_at, None)
            for lead in session.leads
            if ref.counts_for(lead, goal, START, END)
        ]
    single = ref.Session(**{**session.__dict__, "events": [], "leads": []})
    found = []
    for event in ref.received(session, START, END):
        single.events = [event]
        if ref.goal_hits(single, goal, START, END):
            found.append(order_key(event.at, event.client_ms))
    return found


def deepest(
    steps: list[list[tuple[int, int]]], starts: list[tuple[int, int]], window_ms: int | None
) -> tuple[int, tuple[int, int], list[tuple[int, int]]] | None:
    """The deepest journey from any of `starts`, the earliest of equally deep ones: (depth,
    start, the moment of each step reached)."""
    best = None
    for start in sorted(starts):
        taken = [start]
        for later in steps[1:]:
            following = [
                m for m in later if m > taken[-1] and (window_ms is None or m[0] - start[0] <= window_ms)
            ]
            if not following:
                break
            taken.append(min(following))
        if best is None or len(taken) > best[0]:
            best = (len(taken), start, taken)
    return best


def reference(
    data: ref.Traffic, filters: list[Filter], goals: list[Goal], within: str, window_ms: int | None
) -> tuple[list[int], list[float | None]]:
    journeys_of: dict[str, list[tuple[int, tuple[int, int], list[tuple[int, int]]]]] = defaultdict(list)
    by_visitor: dict[str, list[ref.Session]] = defaultdict(list)
    for session in data.sessions:
        if not session.is_bot and ref.passes(session, filters, START, END):
            by_visitor[session.visitor_id].append(session)
    for visitor, sessions in by_visitor.items():
        groups = [[s] for s in sessions] if within == "session" else [sessions]
        for group in groups:
            steps = [sorted(m for s in group for m in moments(s, goal)) for goal in goals]
            if not steps[0]:
                continue
            starts = steps[0][:1] if within == "session" else steps[0]
            found = deepest(steps, starts, window_ms if within == "visitor" else None)
            if found:
                journeys_of[visitor].append(found)
    chosen = [min(found, key=lambda j: (-j[0], j[1]))[2] for found in journeys_of.values()]
    reached = [sum(1 for taken in chosen if len(taken) > n) for n in range(len(goals))]
    medians: list[float | None] = [None]
    for n in range(1, len(goals)):
        gaps = [taken[n][0] - taken[n - 1][0] for taken in chosen if len(taken) > n]
        medians.append(float(statistics.median(gaps)) if gaps else None)
    return reached, medians


def step_goals(steps: list[str]) -> list[Goal]:
    known = {goal.name: goal for goal in ref.GOALS}
    found = []
    for text in steps:
        kind, _, value = text.partition(":")
        if kind == "goal":
            found.append(known[value])
        elif kind == "page":
            found.append(Goal(name=text, kind="page", page=value))
        elif kind == "event":
            found.append(Goal(name=text, kind="event", event=value))
        else:
            found.append(Goal(name=text, kind="lead"))
    return found


# ---- the checks -----------------------------------------------------------------------------------


def ask(served: tuple[TestClient[Any], str], params: list[tuple[str, str]], status: int = 200) -> Any:
    client, key = served
    response = client.get(
        "/analytics/funnel", params=[*PARAMS.items(), *params], headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == status, response.text
    return response.json()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=journeys(),
    steps=st.lists(st.sampled_from(STEPS), min_size=2, max_size=4),
    within=st.sampled_from(("session", "visitor")),
    window=st.sampled_from((None, *WINDOWS)),
    filters=st.lists(ref.filter_texts(), max_size=1),
    rolled_up_to=st.one_of(st.none(), st.datetimes(START, END + timedelta(days=1))),
)
def test_funnels_agree_with_the_plain_python_reference(
    served: tuple[TestClient[Any], str],
    data: ref.Traffic,
    steps: list[str],
    within: str,
    window: str | None,
    filters: list[str],
    rolled_up_to: datetime | None,
) -> None:
    client, _ = served
    with app_cursor(client) as cursor:
        ref.insert(cursor, data, rolled_up_to)
    params = (
        [("step", text) for text in steps] + [("within", within)] + [("filter", text) for text in filters]
    )
    if within == "visitor" and window:
        params.append(("window", window))
    answer = ask(served, params)
    window_ms = (WINDOWS[window] if window else 7 * 86_400_000) if within == "visitor" else None
    parsed = list(with_goals(parse_filters(filters), ref.GOALS))
    reached, medians = reference(data, parsed, step_goals(steps), within, window_ms)
    assert answer["within"] == within and answer["window_ms"] == window_ms
    assert [step["step"] for step in answer["steps"]] == steps
    assert [step["visitors"] for step in answer["steps"]] == reached
    for n, step in enumerate(answer["steps"]):
        assert step["median_ms_from_previous"] == medians[n], (n, step)
        previous = reached[n - 1] if n else reached[0]
        assert step["dropoff"] == previous - reached[n]
        expected_rate = 100 * reached[n] / reached[0] if reached[0] else None
        assert step["conversion_rate"] == (
            pytest.approx(expected_rate) if expected_rate is not None else None
        )


def test_bad_funnels_are_refused_with_the_reason(served: tuple[TestClient[Any], str]) -> None:
    for params, reason in (
        ([("step", "page:/pricing")], "2 to 8 steps"),
        ([("step", "page:/")] * 9, "2 to 8 steps"),
        ([("step", "page:pricing"), ("step", "lead")], "starts with /"),
        ([("step", "click:x"), ("step", "lead")], "write page:PATTERN"),
        ([("step", "goal:Nobody"), ("step", "lead")], "no goal named 'Nobody'"),
        ([("step", "page:/"), ("step", "lead"), ("within", "day")], "within: session or visitor"),
        ([("step", "page:/"), ("step", "lead"), ("window", "7d")], "only with within=visitor"),
        ([("step", "page:/"), ("step", "lead"), ("within", "visitor"), ("window", "91d")], "at most 90d"),
        (
            [("step", "page:/"), ("step", "lead"), ("within", "visitor"), ("window", "week")],
            "window: a number",
        ),
        ([("name", "Nope")], "no saved funnel called 'Nope'"),
        ([("name", "Nope"), ("step", "lead")], "brings its own steps"),
    ):
        body = ask(served, params, status=404 if "saved funnel called" in reason else 400)
        assert reason in body["error"], (params, body)


def _session(
    visitor: str, n: int, at: datetime, events: list[ref.Event], *, is_bot: bool = False
) -> ref.Session:
    return ref.Session(
        session_id=f"{visitor}-{n}", visitor_id=visitor, project="acme", started_at=at, is_bot=is_bot, ended=True,
        values=dict(BLANK), entry_url="https://example.com/", engaged_ms=0, score=None, events=events,
    )  # fmt: skip


def _view(at: datetime, path: str, client_ms: int | None = None) -> ref.Event:
    return ref.Event(at, "pageview", path=path, client_ms=client_ms)


def _signup(at: datetime, client_ms: int | None = None) -> ref.Event:
    return ref.Event(at, "custom", path="/", name="Signup", client_ms=client_ms)


def test_the_rules_on_journeys_written_out(served: tuple[TestClient[Any], str]) -> None:
    """The rules one by one, on journeys a person can check by eye."""
    client, _ = served
    t = datetime(2026, 3, 5, 10)
    minute = timedelta(minutes=1)
    ms = epoch_ms(t.replace(tzinfo=ref.UTC))
    data = ref.Traffic(
        sessions=[
            # In order, in one session: reaches both steps, 5 minutes apart.
            _session("in-order", 0, t, [_view(t, "/pricing"), _signup(t + 5 * minute)]),
            # Out of order: the signup came first.
            _session("reversed", 0, t, [_signup(t), _view(t + minute, "/pricing")]),
            # Across two sessions 50 minutes apart: only within=visitor, and only with a window of 1h or more.
            _session("two-visits", 0, t, [_view(t, "/pricing")]),
            _session("two-visits", 1, t + 50 * minute, [_signup(t + 50 * minute)]),
            # One batch (the same receive time): the browser's clock orders the two events...
            _session("batched", 0, t, [_signup(t, ms + 900), _view(t, "/pricing", ms + 100)]),
            # ...and where it cannot (the same clock), neither follows the other.
            _session("same-moment", 0, t, [_view(t, "/pricing", ms), _signup(t, ms)]),
            # The page twice and the signup twice: counted once per step.
            _session(
                "repeats",
                0,
                t,
                [
                    _view(t, "/pricing"),
                    _view(t + minute, "/pricing"),
                    _signup(t + 2 * minute),
                    _signup(t + 3 * minute),
                ],
            ),
            # A bot never counts.
            _session("bot", 0, t, [_view(t, "/pricing"), _signup(t + minute)], is_bot=True),
        ],
        leads=[],
    )
    with app_cursor(client) as cursor:
        ref.insert(cursor, data)
    steps = [("step", "page:/pricing"), ("step", "event:Signup")]
    in_session = ask(served, steps)["steps"]
    # in-order, reversed (first step only), two-visits (first only), batched, same-moment (first only), repeats
    assert [s["visitors"] for s in in_session] == [6, 3]
    # Medians over in-order (300 s), batched (0 s: one receive time) and repeats (120 s, from the first view).
    assert in_session[1]["median_ms_from_previous"] == 120_000
    assert in_session[1]["dropoff"] == 3 and in_session[1]["conversion_rate"] == 50
    across = ask(served, [*steps, ("within", "visitor"), ("window", "1h")])["steps"]
    assert [s["visitors"] for s in across] == [6, 4]
    too_short = ask(served, [*steps, ("within", "visitor"), ("window", "30m")])["steps"]
    assert [s["visitors"] for s in too_short] == [6, 3]

    # A saved funnel runs by name, with filters, and is listed.
    with app_cursor(client) as cursor:
        saved = funnel(["page:/pricing", "event:Signup"], "visitor", "1h", name="Pricing to signup")
        upsert_funnel(cursor, saved, datetime(2026, 1, 1))
    by_name = ask(served, [("name", "Pricing to signup")])
    assert by_name["name"] == "Pricing to signup" and [s["visitors"] for s in by_name["steps"]] == [6, 4]
    assert by_name["conversion_rate"] == pytest.approx(100 * 4 / 6)
    _, key = served
    listed = client.get("/analytics/funnels", headers={"Authorization": f"Bearer {key}"}).json()["funnels"]
    assert listed == [{"name": "Pricing to signup", "steps": ["page:/pricing", "event:Signup"], "within": "visitor",
                       "window_ms": 3_600_000, "project": None}]  # fmt: skip
