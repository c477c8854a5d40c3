"""domain/funnels.py: the steps, `within` and `window` as a person writes them, and each step's numbers."""

from __future__ import annotations

import pytest

from pulsegate.domain.funnels import (
    DEFAULT_WINDOW_MS,
    FunnelStep,
    format_window,
    funnel,
    parse_step,
    parse_window,
    step_goal,
    step_results,
)
from pulsegate.domain.goals import Goal
from pulsegate.errors import InvalidInput


def test_steps_are_read_as_written() -> None:
    assert parse_step("page:/blog/*") == FunnelStep("page", "/blog/*")
    assert parse_step("event:Book demo") == FunnelStep("event", "Book demo")
    assert parse_step("goal:Signup: pro") == FunnelStep("goal", "Signup: pro")  # the first colon splits
    assert parse_step("lead") == FunnelStep("lead")
    assert parse_step("page:/" + "x" * 300).value == "/" + "x" * 300  # patterns as long as a goal's
    assert [step.label for step in map(parse_step, ("page:/", "event:A", "goal:G", "lead"))] == [
        "Page /", "Event A", "Goal G", "Lead",
    ]  # fmt: skip
    for text, reason in (("pages:/", "write page:PATTERN"), ("page:x", "starts with /"), ("event:", "needs a name"),
                         ("lead:x", "write page:PATTERN"), ("event:" + "x" * 121, "needs a name")):  # fmt: skip
        with pytest.raises(InvalidInput, match=reason):
            parse_step(text)


def test_windows_and_within() -> None:
    assert [parse_window(text) for text in ("30m", "12h", "7d", "90d")] == [
        1_800_000, 43_200_000, 604_800_000, 7_776_000_000,
    ]  # fmt: skip
    assert [format_window(ms) for ms in (1_800_000, 43_200_000, 172_800_000)] == ["30m", "12h", "2d"]
    for text in ("91d", "0d", "7w", "d", "-1h"):
        with pytest.raises(InvalidInput, match="window"):
            parse_window(text)
    assert funnel(["page:/", "lead"]).within == "session" and funnel(["page:/", "lead"]).window_ms is None
    assert funnel(["page:/", "lead"], "visitor").window_ms == DEFAULT_WINDOW_MS
    with pytest.raises(InvalidInput, match="only with within=visitor"):
        funnel(["page:/", "lead"], None, "7d")
    with pytest.raises(InvalidInput, match="2 to 8 steps"):
        funnel(["page:/"] * 9)
    with pytest.raises(InvalidInput, match="NAME"):
        funnel(["page:/", "lead"], name="\x00")


def test_a_step_is_the_goal_it_matches() -> None:
    signup = Goal(name="Signup", kind="event", event="Signup", prop_key="plan", prop_value="pro")
    assert step_goal(parse_step("goal:Signup"), {"Signup": signup}) is signup
    assert step_goal(parse_step("page:/a*"), {}).page == "/a*"
    assert step_goal(parse_step("event:X"), {}).event == "X"
    assert step_goal(parse_step("lead"), {}).kind == "lead"
    with pytest.raises(InvalidInput, match="no goal named 'Nope'; goals: Signup"):
        step_goal(parse_step("goal:Nope"), {"Signup": signup})


def test_each_step_s_numbers_come_from_the_visitors_who_reached_it() -> None:
    steps = [parse_step(text) for text in ("page:/", "event:A", "lead")]
    results = step_results(steps, [200, 50, 0], [None, 1500.0, None])
    assert [(r.visitors, r.conversion_rate, r.step_conversion_rate, r.dropoff) for r in results] == [
        (200, 100.0, 100.0, 0), (50, 25.0, 25.0, 150), (0, 0.0, 0.0, 50),
    ]  # fmt: skip
    assert [r.median_ms_from_previous for r in results] == [None, 1500.0, None]
    empty = step_results(steps, [0, 0, 0], [None, None, None])
    assert [(r.conversion_rate, r.step_conversion_rate) for r in empty] == [(None, None)] * 3
