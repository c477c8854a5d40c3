"""What a session did, accumulated event by event, and the engagement score (0-100) it earns.

The score, with every part capped so no single behaviour can max it out:

    engaged time   35 x min(engaged_seconds / 120, 1)        two engaged minutes earn it all
    scroll depth   20 x max_scroll / 100                     the deepest scroll, in percent
    page views     20 x min((page_views - 1) / 4, 1)         one page earns 0, five or more all
    interactions   15 x min(interactions / 5, 1)             clicks, outbound links, downloads, custom events
    forms          10 if a form was submitted, 5 if one was only started

rounded half up to a whole number. A one-page visit that leaves at once scores 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

ENGAGED_SECONDS_FOR_FULL = 120
PAGE_VIEWS_FOR_FULL = 5
INTERACTIONS_FOR_FULL = 5
INTERACTION_TYPES = frozenset({"click", "outbound", "download", "custom"})
# Engaged time reported by one event beyond this is treated as a client bug and clipped.
MAX_ENGAGED_MS_PER_EVENT = 30 * 60 * 1000


@dataclass(slots=True)
class SessionActivity:
    """Running totals of a session's events, kept in memory while the session is open."""

    entry_url: str | None = None
    exit_url: str | None = None
    page_views: int = 0
    events: int = 0
    interactions: int = 0
    form_starts: int = 0
    form_submits: int = 0
    max_scroll: int = 0  # percent, 0-100
    engaged_ms: int = 0

    def record(self, event_type: str, url: str | None, props: dict[str, Any] | None) -> None:
        """Fold one event into the totals (a form coming into view is not one of the session's
        events: it is kept apart, in form_views)."""
        if event_type == "form_view":
            return
        self.events += 1
        if event_type == "pageview":
            self.page_views += 1
            if url:
                self.exit_url = url
                if self.entry_url is None:
                    self.entry_url = url
        elif event_type in INTERACTION_TYPES:
            self.interactions += 1
        elif event_type == "form_start":
            self.form_starts += 1
        elif event_type == "form_submit":
            self.form_submits += 1
        if props:
            self.note_scroll(props.get("depth"))
            self.add_engaged_ms(props.get("engaged_ms"))

    def note_scroll(self, depth: object) -> None:
        """Keep the deepest scroll seen, as a percentage clipped to 0-100."""
        scroll = scroll_percent(depth)
        if scroll is not None:
            self.max_scroll = max(self.max_scroll, scroll)

    def add_engaged_ms(self, engaged_ms: object) -> None:
        """Add engaged time reported by the tracker (only positive numbers count)."""
        if _is_number(engaged_ms) and engaged_ms > 0:
            self.engaged_ms += min(int(engaged_ms), MAX_ENGAGED_MS_PER_EVENT)


def scroll_percent(depth: object) -> int | None:
    """A reported scroll depth as the session's deepest scroll counts it: rounded, clipped to
    0-100; None when it is not a number."""
    if _is_number(depth):
        return min(100, max(0, round(depth)))  # type: ignore[call-overload]
    return None


def reported_engaged_ms(props: dict[str, Any] | None) -> int | None:
    """The engaged time an event's props report, clipped as the session totals clip it."""
    engaged = props.get("engaged_ms") if props else None
    if _is_number(engaged) and engaged > 0:  # type: ignore[operator]
        return min(int(engaged), MAX_ENGAGED_MS_PER_EVENT)  # type: ignore[call-overload]
    return None


_NUMBER_TYPES = (int, float)  # a tuple: `int | float` would build a union object on every call


def _is_number(value: object) -> bool:
    """A finite int or float (JSON booleans are not numbers here)."""
    return (
        isinstance(value, _NUMBER_TYPES) and value is not True and value is not False and math.isfinite(value)
    )


def engagement_score(activity: SessionActivity) -> int:
    """The session's engagement score, 0-100, by the formula in this module's docstring."""
    engaged = 35 * min(activity.engaged_ms / 1000 / ENGAGED_SECONDS_FOR_FULL, 1.0)
    scroll = 20 * min(max(activity.max_scroll, 0), 100) / 100
    pages = 20 * min(max(activity.page_views - 1, 0) / (PAGE_VIEWS_FOR_FULL - 1), 1.0)
    interactions = 15 * min(activity.interactions / INTERACTIONS_FOR_FULL, 1.0)
    forms = 10 if activity.form_submits else 5 if activity.form_starts else 0
    return int(engaged + scroll + pages + interactions + forms + 0.5)  # half up, not to even
