"""Tracking payload shapes: what is accepted, what is refused, and what is ignored."""

from __future__ import annotations

import msgspec
import pytest

from pulsegate.domain.tracking import MAX_BATCH_EVENTS, Event, EventBatch, SessionEnd, SessionStart


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


def test_props_must_be_small_and_flat() -> None:
    ok = decode({"session_id": "s", "type": "custom", "props": {"plan": "pro", "n": 3, "ok": True}}, Event)
    assert ok.props == {"plan": "pro", "n": 3, "ok": True}
    with pytest.raises(msgspec.ValidationError):
        decode({"session_id": "s", "type": "custom", "props": {"nested": {"a": 1}}}, Event)
    with pytest.raises(msgspec.ValidationError):
        decode({"session_id": "s", "type": "custom", "props": {f"k{i}": i for i in range(33)}}, Event)
    with pytest.raises(msgspec.ValidationError):
        decode({"session_id": "s", "type": "custom", "props": {"k": "v" * 513}}, Event)


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
