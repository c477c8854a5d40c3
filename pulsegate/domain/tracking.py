"""The tracking payloads browsers send to /track/*, with their limits and the answers they get."""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Annotated, Any, Literal

from msgspec import Meta, Struct

from pulsegate.errors import InvalidInput

MAX_BATCH_EVENTS = 100  # fixed by the API reference: a batch of 101 is refused

Url = Annotated[str, Meta(max_length=2048)]
ShortText = Annotated[str, Meta(max_length=256)]
Title = Annotated[str, Meta(max_length=512)]
# A project name, declared once: the tracking payloads, the API's `project`, the CLI's --project.
PROJECT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
PROJECT_RULE = "1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit"
Project = Annotated[str, Meta(min_length=1, max_length=64, pattern=PROJECT_PATTERN)]


def check_project(name: str, option: str) -> str:
    """`name` if it is a valid project name, else InvalidInput naming `option` and the rule."""
    if not re.fullmatch(PROJECT_PATTERN, name):
        raise InvalidInput(f"{option}: {PROJECT_RULE} (got {name!r})")
    return name


SessionId = Annotated[str, Meta(min_length=1, max_length=64)]
ScreenPixels = Annotated[int, Meta(ge=0, le=100_000)]
EpochMillis = Annotated[int, Meta(ge=0, le=32_503_680_000_000)]  # up to the year 3000
# Event properties arrive as any JSON object; `clean_props` keeps what the rules allow and counts
# the rest by reason, so a page's bad property never costs its events (issue 17).
MAX_PROPS = 30
MAX_PROP_KEY = 64
MAX_PROP_VALUE = 512
RawProps = dict[str, Any]
PropValue = str | int | float | bool
# Properties that already keep every rule, as a type msgspec checks while decoding (in C): a
# payload whose properties all pass decodes as the Clean* structs below and skips `clean_props`,
# which with its counters was a quarter of the CPU of a batch of 100 events (issue 21). Bounded
# floats: JSON's 1e999 would be infinity. Anything else decodes as sent and is cleaned.
_FiniteFloat = Annotated[float, Meta(ge=-1.7976931348623157e308, le=1.7976931348623157e308)]
CleanProps = Annotated[
    dict[
        Annotated[str, Meta(min_length=1, max_length=MAX_PROP_KEY)],
        Annotated[str, Meta(max_length=MAX_PROP_VALUE)] | int | _FiniteFloat | bool,
    ],
    Meta(max_length=MAX_PROPS),
]

EventType = Literal[
    "pageview",
    "click",
    "outbound",
    "download",
    "scroll",
    "engagement",
    "form_start",
    "form_submit",
    "custom",
    "form_view",  # a form came into view (half of it, once per page view): GET /analytics/forms
]
EVENT_TYPES: tuple[str, ...] = EventType.__args__
# The event types the events table keeps (its `event_type` ENUM, in this order; a test keeps the
# two equal). Form views go to their own table (store/tracking.event_rows; migration 0011 why).
FORM_VIEW = "form_view"
FORM_START = "form_start"
STORED_EVENT_TYPES: tuple[str, ...] = tuple(name for name in EVENT_TYPES if name != FORM_VIEW)


class SessionStart(Struct, kw_only=True):
    """POST /track/session/start: the landing page and what the browser knows about itself."""

    url: Url
    referrer: Url | None = None
    title: Title | None = None
    project: Project | None = None
    utm_source: ShortText | None = None
    utm_medium: ShortText | None = None
    utm_campaign: ShortText | None = None
    utm_term: ShortText | None = None
    utm_content: ShortText | None = None
    screen_width: ScreenPixels | None = None
    screen_height: ScreenPixels | None = None
    language: Annotated[str, Meta(max_length=35)] | None = None  # BCP 47 tags fit in 35
    timezone: Annotated[str, Meta(max_length=64)] | None = None
    timestamp: EpochMillis | None = None


class EventFields(Struct, kw_only=True):
    """One event as it appears inside a batch (the batch names the session once)."""

    type: EventType
    name: ShortText | None = None
    url: Url | None = None
    title: Title | None = None
    referrer: Url | None = None
    props: RawProps | None = None  # as sent: services/tracking cleans it (`clean_props`) first
    timestamp: EpochMillis | None = None


def clean_props(props: RawProps | None) -> tuple[dict[str, PropValue] | None, Counter[str]]:
    """The properties the rules allow, and how many were dropped for each reason: `too_many`
    (beyond the first 30 keys), `bad_key` (empty or over 64 characters), `bad_value` (not a
    string, finite number or boolean), `value_too_long` (a string over 512 characters)."""
    dropped: Counter[str] = Counter()
    if not props:
        return None, dropped
    kept: dict[str, PropValue] = {}
    for key, value in props.items():
        if not 0 < len(key) <= MAX_PROP_KEY:
            dropped["bad_key"] += 1
        elif isinstance(value, str) and len(value) > MAX_PROP_VALUE:
            dropped["value_too_long"] += 1
        elif not isinstance(value, str | int | float) or (
            isinstance(value, float) and not math.isfinite(value)
        ):
            dropped["bad_value"] += 1  # bool is an int: kept
        elif len(kept) >= MAX_PROPS:
            dropped["too_many"] += 1
        else:
            kept[key] = value
    return kept or None, dropped


class CleanEventFields(EventFields, kw_only=True):
    """An event whose properties keep every rule as sent (see CleanProps)."""

    props: CleanProps | None = None


class Event(EventFields, kw_only=True):
    """POST /track/event: one event of a started session."""

    session_id: SessionId


class CleanEvent(Event, kw_only=True):
    """POST /track/event with properties that keep every rule."""

    props: CleanProps | None = None


class EventBatch(Struct, kw_only=True):
    """POST /track/events/batch: up to 100 events of one session."""

    session_id: SessionId
    events: Annotated[list[EventFields], Meta(min_length=1, max_length=MAX_BATCH_EVENTS)]


class CleanEventBatch(EventBatch, kw_only=True):
    """POST /track/events/batch whose events' properties all keep every rule."""

    events: Annotated[list[CleanEventFields], Meta(min_length=1, max_length=MAX_BATCH_EVENTS)]


class SessionEnd(Struct, kw_only=True):
    """POST /track/session/end: the browser is leaving, with its last measurements."""

    session_id: SessionId
    timestamp: EpochMillis | None = None
    # Engaged time not yet reported in an event, and the deepest scroll (percent).
    engaged_ms: Annotated[int, Meta(ge=0, le=24 * 3600 * 1000)] | None = None
    max_scroll: Annotated[int, Meta(ge=0, le=100)] | None = None
    # Events still queued in the page, stored with the end in one request: a page going away
    # gets one request out reliably, and two could arrive in either order.
    events: Annotated[list[EventFields], Meta(max_length=MAX_BATCH_EVENTS)] | None = None

    @property
    def reports_activity(self) -> bool:
        """True when the end brings something to add (events or engaged time), not just a close."""
        return bool(self.events) or bool(self.engaged_ms)


class CleanSessionEnd(SessionEnd, kw_only=True):
    """POST /track/session/end whose last events' properties all keep every rule."""

    events: Annotated[list[CleanEventFields], Meta(max_length=MAX_BATCH_EVENTS)] | None = None


# Each payload with properties, and its variant whose properties need no cleaning.
CLEAN_PAYLOADS: dict[type[Struct], type[Struct]] = {
    Event: CleanEvent,
    EventBatch: CleanEventBatch,
    SessionEnd: CleanSessionEnd,
}
CLEAN_EVENT_TYPES = (CleanEventFields, CleanEvent)


def needs_cleaning(event: EventFields) -> bool:
    """Whether an event's properties may break a rule: they were not decoded as CleanProps."""
    return bool(event.props) and not isinstance(event, CLEAN_EVENT_TYPES)


class TrackingReceipt(Struct, kw_only=True, omit_defaults=True):
    """The answer to every tracking call, as in the reference's success format."""

    session_id: str
    visitor_id: str
    timestamp: int
    accepted: int | None = None  # events stored, on the event routes
    engagement_score: int | None = None  # 0-100, on session end


class Caller(Struct, frozen=True, kw_only=True):
    """Who sent a tracking request, as far as the server can tell (never stored raw)."""

    client_ip: str
    user_agent: str = ""
    visitor_header: str | None = None
    fingerprint_header: str | None = None
