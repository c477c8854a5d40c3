"""Goals as `goals add` declares them: one kind, its own options, page patterns (domain/goals.py)."""

from __future__ import annotations

import re

import pytest

from pulsegate.domain.goals import Goal, goal, page_matches
from pulsegate.errors import InvalidInput


def test_each_kind_with_its_options() -> None:
    assert goal("Signup", event="Signup", prop="plan=pro") == Goal(
        name="Signup", kind="event", event="Signup", prop_key="plan", prop_value="pro"
    )
    assert goal(" Thanks ", page="/thank-you*", project="acme") == Goal(
        name="Thanks", kind="page", page="/thank-you*", project="acme"
    )
    assert goal("Demo", lead=True, form="demo").describe() == "lead (form demo)"
    assert goal("Any lead", lead=True).describe() == "lead"
    assert goal("Plan", event="Signup", prop="plan=a=b").prop_value == "a=b"  # the first = splits


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({}, "exactly one of"),
        ({"event": "a", "page": "/b"}, "got --event and --page"),
        ({"page": "/b", "lead": True}, "got --page and --lead"),
        ({"page": "/b", "prop": "k=v"}, "--prop: only with --event"),
        ({"event": "a", "prop": "novalue"}, "--prop: write KEY=VALUE"),
        ({"event": "a", "prop": "bad key=v"}, "--prop: write KEY=VALUE"),
        ({"event": "a", "prop": "k="}, "--prop: write KEY=VALUE"),
        ({"page": "thank-you"}, "--page: a path pattern starting with /"),
        ({"event": "a", "form": "x"}, "--form: only with --lead"),
        ({"event": "   "}, "--event: a custom event's name"),
        ({"lead": True, "form": " "}, "--form: the form's source name"),
    ],
)
def test_a_malformed_goal_names_the_option(options: dict[str, object], named: str) -> None:
    with pytest.raises(InvalidInput, match=re.escape(named)):
        goal("G", **options)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["", "   ", "x" * 65, "tab\there"])
def test_a_bad_name_is_refused(name: str) -> None:
    with pytest.raises(InvalidInput, match="NAME"):
        goal(name, lead=True)


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("/thank-you", "/thank-you", True),
        ("/thank-you", "/thank-you/", False),
        ("/thank-you*", "/thank-you/order/7", True),
        ("/blog/*/comments", "/blog/a/b/comments", True),
        ("/blog/*/comments", "/blog/comments", False),
        ("*", "/anything", True),
        ("/price.html", "/priceXhtml", False),  # . is itself
        ("/a+b", "/a+b", True),
        ("/x*y", "/xy", True),
    ],
)
def test_page_patterns(pattern: str, path: str, expected: bool) -> None:
    assert page_matches(pattern, path) is expected
