"""Lead attribution: which of a visitor's sessions (touches) led to a lead, and which count first
and last (pure).

At capture the lead service reads the visitor's sessions in the lookback window and calls
`attribute`; what it returns is stored with the lead and never changed (`store/attribution.py`).
The rules, in the words the README uses:

- touches: the visitor's sessions that started in [lead - lookback_days, lead], oldest first;
  bot sessions do not count, except the session the lead came from, which always does. With
  cross-visit attribution off, the converting session alone.
- first touch: the earliest touch.
- last touch (`last_non_direct`, the default): the latest touch that was not Direct, or the
  converting session (else the latest touch) when all were Direct; (`last`): the converting
  session, else the latest touch.
- time to convert: from the first touch's start to the lead.
- a lead sent without a known session (a plain HTML form, a page without the tracker) has one
  touch, described by the submission itself: its page and its UTM fields (the page URL's fill
  the gaps); its source is its utm_source, else Direct.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from msgspec import Struct

from pulsegate.domain.sources import DIRECT, path_of, query_values, traffic_source, utm_from_url

LastTouchRule = Literal["last_non_direct", "last"]
# Ad click ids worth keeping from a landing URL: they let a CRM report conversions back to the ad
# network (Google, Microsoft, Meta, TikTok, LinkedIn).
CLICK_ID_KEYS = ("gclid", "gbraid", "wbraid", "fbclid", "msclkid", "ttclid", "li_fat_id")
MAX_CLICK_ID_CHARS = 256
DAY_MS = 86_400_000


class SessionTouch(Struct, frozen=True, kw_only=True):
    """A stored session as attribution sees it (`store/attribution.visitor_sessions`)."""

    session_id: str
    started_ms: int
    source: str
    referrer_host: str | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    utm_term: str | None = None
    utm_content: str | None = None
    entry_url: str | None = None
    country: str | None = None
    device: str | None = None
    is_bot: bool = False


class Touch(Struct, kw_only=True):
    """One touch of a lead, as stored and shown: how a session (or the submission) arrived."""

    at: int  # epoch ms: the session's start (the submission's time when there was no session)
    source: str
    referrer_host: str | None
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    utm_term: str | None
    utm_content: str | None
    landing_page: str | None  # the landing URL's path
    click_ids: dict[str, str]
    session_id: str | None = None
    country: str | None = None
    device: str | None = None


class Attribution(Struct, kw_only=True):
    """A lead's touches, oldest first, and which of them count first and last."""

    touches: list[Touch]
    first: int  # index into touches
    last: int
    time_to_convert_ms: int

    @property
    def first_touch(self) -> Touch:
        return self.touches[self.first]

    @property
    def last_touch(self) -> Touch:
        return self.touches[self.last]


def click_ids(url: str | None) -> dict[str, str]:
    """The ad click ids in a URL's query string (first value of each, cut to 256 characters)."""
    return query_values(url, CLICK_ID_KEYS, MAX_CLICK_ID_CHARS)


def session_touch(session: SessionTouch) -> Touch:
    """The touch a stored session makes."""
    return Touch(
        at=session.started_ms,
        source=session.source,
        referrer_host=session.referrer_host,
        utm_source=session.utm_source,
        utm_medium=session.utm_medium,
        utm_campaign=session.utm_campaign,
        utm_term=session.utm_term,
        utm_content=session.utm_content,
        landing_page=path_of(session.entry_url),
        click_ids=click_ids(session.entry_url),
        session_id=session.session_id,
        country=session.country,
        device=session.device,
    )


def submitted_touch(page_url: str | None, utm_fields: dict[str, str], at_ms: int) -> Touch:
    """The one touch of a lead without a known session, from its page and UTM fields."""
    utm = {**utm_from_url(page_url), **utm_fields}
    return Touch(
        at=at_ms,
        source=traffic_source(page_url, None, utm.get("utm_source")),
        referrer_host=None,
        utm_source=utm.get("utm_source"),
        utm_medium=utm.get("utm_medium"),
        utm_campaign=utm.get("utm_campaign"),
        utm_term=utm.get("utm_term"),
        utm_content=utm.get("utm_content"),
        landing_page=path_of(page_url),
        click_ids=click_ids(page_url),
    )


def attribute(
    sessions: Sequence[SessionTouch],
    *,
    lead_ms: int,
    converting_session_id: str | None,
    lookback_days: int,
    last_touch: LastTouchRule = "last_non_direct",
    cross_visit: bool = True,
) -> Attribution | None:
    """The lead's touches from the visitor's sessions, by the rules of this module's docstring.

    None when no session counts (the caller then uses `submitted_touch`).
    """
    since_ms = lead_ms - lookback_days * DAY_MS
    counted = [
        session
        for session in sessions
        if session.session_id == converting_session_id
        or (cross_visit and not session.is_bot and since_ms <= session.started_ms <= lead_ms)
    ]
    if not counted:
        return None
    counted.sort(key=lambda session: (session.started_ms, session.session_id))
    converting = next(
        (index for index, session in enumerate(counted) if session.session_id == converting_session_id),
        len(counted) - 1,
    )
    last = converting
    if last_touch == "last_non_direct":
        last = next(
            (index for index in range(len(counted) - 1, -1, -1) if counted[index].source != DIRECT),
            converting,
        )
    touches = [session_touch(session) for session in counted]
    return Attribution(
        touches=touches, first=0, last=last, time_to_convert_ms=max(0, lead_ms - touches[0].at)
    )


def single_touch(touch: Touch, lead_ms: int) -> Attribution:
    """The attribution of a lead with one touch."""
    return Attribution(touches=[touch], first=0, last=0, time_to_convert_ms=max(0, lead_ms - touch.at))


class ConvertingSession(Struct, kw_only=True):
    """The session a lead came from, as it stood when the lead was captured."""

    landing_page: str | None
    page_views: int
    engaged_ms: int
    engagement_score: int


class LeadOrigin(Struct, kw_only=True):
    """Everything a lead keeps about where it came from, fixed at capture."""

    visitor_id: str | None
    traffic_source: str | None
    attribution: Attribution
    converting: ConvertingSession | None
    from_hosting: bool | None  # the converting session's network hosts servers or VPNs
