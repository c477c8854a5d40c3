"""The reports' dimensions, metrics and filters: parsed as documented, refused with a reason."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pulsegate.domain.reports import (
    DIMENSIONS,
    dimension,
    matches,
    metrics_for,
    parse_filter,
    parse_filters,
    split_alternatives,
)
from pulsegate.errors import InvalidInput


@pytest.mark.parametrize(
    ("text", "name", "operator", "values"),
    [("country==DE", "country", "==", ("DE",)), ("browser==Firefox|Safari", "browser", "==", ("Firefox", "Safari")),
     ("page!=/pricing", "page", "!=", ("/pricing",)), ("utm_campaign~Spring", "utm_campaign", "~", ("Spring",)),
     ("referrer!~google", "referrer", "!~", ("google",)), ("page==/a==b", "page", "==", ("/a==b",)),
     (r"event==A\|B|C", "event", "==", ("A|B", "C")), ("prop:plan==pro", "prop:plan", "==", ("pro",))],
)  # fmt: skip
def test_filters_parse(text: str, name: str, operator: str, values: tuple[str, ...]) -> None:
    parsed = parse_filter(text)
    assert (parsed.dimension.name, parsed.operator, parsed.values) == (name, operator, values)


@pytest.mark.parametrize(
    ("text", "reason"),
    [("country = DE", "without spaces"), ("nope==x", "unknown 'nope'"), ("country=DE", "OP one of"),
     ("country==", "empty value"), ("country==DE|", "empty value"), ("prop:a b==x", "property key")],
)  # fmt: skip
def test_bad_filters_name_the_problem(text: str, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        parse_filter(text)


def test_at_most_ten_filters() -> None:
    with pytest.raises(InvalidInput, match="at most 10"):
        parse_filters(["country==DE"] * 11)


@given(
    st.lists(
        st.text(alphabet=st.characters(blacklist_characters="\\"), min_size=1, max_size=8),
        min_size=1,
        max_size=5,
    )
)
def test_escaped_bars_round_trip(values: list[str]) -> None:
    """Reference: bars written escaped stay inside a value; the others separate values."""
    written = "|".join(value.replace("|", "\\|") for value in values)
    assert split_alternatives(written) == tuple(values)


@pytest.mark.parametrize(
    ("text", "value", "expected"),
    [("country==DE", "DE", True), ("country==DE", "FR", False), ("country==DE", None, False),
     ("country!=DE", None, True), ("country!=DE", "DE", False), ("page~PRICING", "/pricing/pro", True),
     ("page!~pricing", "/blog", True), ("page!~pricing", None, True), ("browser==Firefox|Safari", "Safari", True)],
)  # fmt: skip
def test_the_reference_meaning_of_each_operator(text: str, value: str | None, expected: bool) -> None:
    assert matches(parse_filter(text), value) is expected


def test_event_dimensions_offer_their_own_metrics() -> None:
    assert [m.name for m in metrics_for(["visitors", "pageviews"], "event")] == ["visitors", "pageviews"]
    with pytest.raises(InvalidInput, match="bounce_rate does not apply to an event dimension"):
        metrics_for(["bounce_rate"], "event")
    with pytest.raises(InvalidInput, match="unknown 'x'"):
        metrics_for(["x"], "session")


def test_every_dimension_the_issue_names_is_declared() -> None:
    names = {"source", "referrer", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content",
             "entry_page", "exit_page", "country", "browser", "os", "device", "screen", "language", "project",
             "page", "event", "outbound", "download"}  # fmt: skip
    assert set(DIMENSIONS) == names
    assert dimension("prop:plan").scope == "event"
