"""Tracking payload shapes: what is accepted, what is refused, and what is ignored."""

from __future__ import annotations

from collections import Counter

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pulsegate.domain.tracking import (
    CLEAN_PAYLOADS,
    MAX_BATCH_EVENTS,
    Event,
    EventBatch,
    SessionEnd,
    SessionStart,
    clean_props,
    needs_cleaning,
)


def decode(data: object, type_: type) -> object:
    return msgspec.json.decode(msgspec.json.encode(data), type=type_)


def test_session_start_accepts_the_documented_fields_and_ignores_unknown_keys() -> None:
    start = decode(
        {
            "url": "https://example.com/?utm_source=x",
            "referrer": "https://news.ycombinator.com/",
            "title": "Home",
            "project": "acme",
            "utm_source": "hn",
            "screen_width": 1440,
            "screen_height": 900,
            "language": "en-GB",
            "timezone": "Europe/London",
            "something_new": {"nested": True},
        },
        SessionStart,
    )
    assert isinstance(start, SessionStart)
    assert start.project == "acme" and start.screen_width == 1440


@pytest.mark.parametrize(
    ("payload", "where"),
    [
        ({}, "url"),
        ({"url": 5}, "$.url"),
        ({"url": "x" * 2049}, "$.url"),
        ({"url": "https://e.com", "project": "bad project!"}, "$.project"),
        ({"url": "https://e.com", "screen_width": -1}, "$.screen_width"),
    ],
)
def test_session_start_refusals_name_the_field(payload: dict, where: str) -> None:
    with pytest.raises(msgspec.ValidationError, match=r".*") as caught:
        decode(payload, SessionStart)
    assert where in str(caught.value)


def test_event_types_are_a_known_set() -> None:
    assert decode({"session_id": "s", "type": "form_submit"}, Event).type == "form_submit"
    with pytest.raises(msgspec.ValidationError, match=r"\$\.type"):
        decode({"session_id": "s", "type": "teleport"}, Event)


def test_props_that_break_a_rule_are_dropped_and_counted_never_refused() -> None:
    raw = {"plan": "pro", "n": 3, "ok": True, "ratio": 0.5}
    assert clean_props(decode({"session_id": "s", "type": "custom", "props": raw}, Event).props) == (
        raw,
        Counter(),
    )
    sent = {
        "nested": {"a": 1}, "list": [1], "none": None, "": "empty key", "k" * 65: "long key",
        "long": "v" * 513, "edge": "v" * 512, **{f"k{i}": i for i in range(40)},
    }  # fmt: skip
    event = decode({"session_id": "s", "type": "custom", "props": sent}, Event)  # decoding accepts anything
    kept, dropped = clean_props(event.props)
    assert kept is not None and len(kept) == 30
    assert kept["edge"] == "v" * 512 and list(kept)[1:] == [f"k{i}" for i in range(29)]
    assert dropped == Counter(bad_value=3, bad_key=2, value_too_long=1, too_many=11)
    assert clean_props({"x": None}) == (None, Counter(bad_value=1))
    assert clean_props(None) == (None, Counter())


def test_batch_takes_one_to_a_hundred_events() -> None:
    events = [{"type": "click"}] * MAX_BATCH_EVENTS
    assert len(decode({"session_id": "s", "events": events}, EventBatch).events) == MAX_BATCH_EVENTS
    with pytest.raises(msgspec.ValidationError, match="length <= 100"):
        decode({"session_id": "s", "events": [*events, {"type": "click"}]}, EventBatch)
    with pytest.raises(msgspec.ValidationError):
        decode({"session_id": "s", "events": []}, EventBatch)


def test_session_end_needs_the_session_id() -> None:
    with pytest.raises(msgspec.ValidationError, match="session_id"):
        decode({}, SessionEnd)


_good_keys = st.text(min_size=1, max_size=64) | st.sampled_from(["x" * 64, "engaged_ms", "depth"])
_good_values = (
    st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=512)
    | st.just("v" * 512)
)
# One entry at or past a rule's edge, added to properties that otherwise keep every rule.
_edge_entries = st.tuples(st.sampled_from(["", "y" * 65]), _good_values) | st.tuples(
    _good_keys,
    st.none()
    | st.just("w" * 513)
    | st.lists(st.integers(), max_size=2)
    | st.dictionaries(st.text(), st.integers()),
)


@st.composite
def _props(draw: st.DrawFn) -> dict[str, object]:
    size = draw(st.sampled_from([29, 30, 31]) | st.integers(0, 5))  # around the 30 kept
    props = draw(st.dictionaries(_good_keys, _good_values, min_size=size, max_size=size))
    if draw(st.booleans()):
        key, value = draw(_edge_entries)
        props[key] = value
    return props


@given(_props())
def test_props_decoded_as_clean_are_what_cleaning_would_keep(props: dict[str, object]) -> None:
    """The fast path (a payload decoded as CleanProps skips clean_props) keeps exactly what
    cleaning the payload as sent keeps, and is taken only when cleaning would drop nothing."""
    body = msgspec.json.encode({"session_id": "s", "events": [{"type": "custom", "props": props}]})
    as_sent = msgspec.json.decode(body, type=EventBatch).events[0]
    kept, dropped = clean_props(as_sent.props)
    try:
        fast = msgspec.json.decode(body, type=CLEAN_PAYLOADS[EventBatch]).events[0]
    except msgspec.ValidationError:
        assert needs_cleaning(as_sent) and (dropped or (not kept and props))
        return
    assert not needs_cleaning(fast) and not dropped
    assert (fast.props or None) == kept
