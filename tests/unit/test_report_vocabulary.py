"""The reports' dimensions, metrics and filters: parsed as documented, refused with a reason."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pulsegate.domain.reports import (
    DIMENSIONS,
    Order,
    dimension,
    matches,
    metrics_for,
    parse_compare,
    parse_filter,
    parse_filters,
    parse_order,
    passes_event_filter,
    split_alternatives,
    split_metric_names,
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
    page, event = dimension("page"), dimension("event")
    assert [m.name for m in metrics_for(["visitors", "pageviews"], page)] == ["visitors", "pageviews"]
    with pytest.raises(InvalidInput, match="bounce_rate does not apply to the page dimension"):
        metrics_for(["bounce_rate"], page)
    with pytest.raises(InvalidInput, match="pageviews does not apply to the event dimension"):
        metrics_for(["pageviews"], event)
    assert [m.name for m in metrics_for(["events", "sessions"], dimension("prop:plan"))] == [
        "events",
        "sessions",
    ]
    with pytest.raises(InvalidInput, match="unknown 'x'"):
        metrics_for(["x"], dimension("source"))
    assert [m.name for m in metrics_for(["conversion_rate"], None)] == ["conversion_rate"]


def test_an_event_filter_keeps_a_session_by_any_matching_event_or_by_none_for_negations() -> None:
    assert passes_event_filter(parse_filter("page==/a"), ["/b", "/a"])
    assert not passes_event_filter(parse_filter("page==/a"), [])
    assert passes_event_filter(parse_filter("page!=/a"), [])
    assert not passes_event_filter(parse_filter("page!=/a"), ["/b", "/a"])
    assert passes_event_filter(parse_filter("page!~PRIC"), ["/blog"])
    assert not passes_event_filter(parse_filter("page!~PRIC"), ["/pricing"])


def test_order_and_compare_are_checked() -> None:
    metrics = split_metric_names("visitors,bounce_rate", dimension("source"))
    assert parse_order(None, metrics) == Order("visitors", "desc")
    assert parse_order("bounce_rate:asc", metrics) == Order("bounce_rate", "asc")
    with pytest.raises(InvalidInput, match="order: 'leads' is not one of"):
        parse_order("leads", metrics)
    with pytest.raises(InvalidInput, match="direction"):
        parse_order("visitors:up", metrics)
    assert parse_compare("year") == "year" and parse_compare(None) is None
    with pytest.raises(InvalidInput, match="compare"):
        parse_compare("last")


def test_every_dimension_the_issue_names_is_declared() -> None:
    names = {"source", "referrer", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content",
             "entry_page", "exit_page", "country", "browser", "os", "device", "screen", "language", "project",
             "page", "event", "outbound", "download"}  # fmt: skip
    assert set(DIMENSIONS) == names
    assert dimension("prop:plan").scope == "event"
