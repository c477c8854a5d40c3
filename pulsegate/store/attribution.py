"""SQL of lead attribution: the sessions a lead's touches come from, and its stored touches."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb
import msgspec

from pulsegate.domain.attribution import LeadOrigin, SessionTouch, Touch
from pulsegate.domain.timestamps import epoch_ms, utc_datetime
from pulsegate.domain.visitor import visitor_key
from pulsegate.store.tracking import session_match
from pulsegate.store.writer import RowWrite

ATTRIBUTION_COLUMNS = (
    "lead_id", "touches", "touch_list", "first_touch", "last_touch", "time_to_convert_ms",
    "converting_landing_page", "converting_page_views", "converting_engaged_ms", "converting_score",
    "from_hosting",
)  # fmt: skip
# The fields of each struct of lead_attribution.touch_list (migrations 0010, 0013), in order: a
# Touch's, its time as TIMESTAMP and its click ids as JSON text.
TOUCH_FIELDS = (
    "touched_at", "session_id", "source", "referrer_host", "utm_source", "utm_medium", "utm_campaign",
    "utm_term", "utm_content", "landing_page", "click_ids", "country", "device",
)  # fmt: skip
# What exports give of a first or last touch (country and device are the session's, not the touch's).
_EXPORTED = tuple(name for name in TOUCH_FIELDS if name not in ("session_id", "country", "device"))
_SESSION_TOUCH = SessionTouch.__struct_fields__
_SESSION_COLUMNS = ", ".join(
    "epoch_ms(started_at)" if name == "started_ms" else name for name in _SESSION_TOUCH
)


class StoredSession(msgspec.Struct, frozen=True, kw_only=True):
    """A stored session as a lead sees it: how it arrived, and its summary once it ended."""

    touch: SessionTouch
    visitor_id: str
    project: str | None
    is_hosting: bool
    page_views: int | None  # None while the session is open (the summary is written at its end)
    engaged_ms: int | None
    engagement_score: int | None


_STORED_COLUMNS = f"{_SESSION_COLUMNS}, project, is_hosting, page_views, engaged_ms, engagement_score"


def _session(row: tuple[Any, ...], visitor_id: str) -> StoredSession:
    width = len(_SESSION_TOUCH)
    touch = SessionTouch(**dict(zip(_SESSION_TOUCH, row[:width], strict=True)))
    project, is_hosting, page_views, engaged_ms, score = row[width:]
    return StoredSession(
        touch=touch, visitor_id=visitor_id, project=project, is_hosting=is_hosting,
        page_views=page_views, engaged_ms=engaged_ms, engagement_score=score,
    )  # fmt: skip


def converting_session(
    cursor: duckdb.DuckDBPyConnection, session_id: str, now_ms: int
) -> StoredSession | None:
    """The stored session with this id, as a lead links to it."""
    condition, params = session_match(session_id, now_ms)
    row = cursor.execute(
        f"SELECT {_STORED_COLUMNS}, visitor_id FROM sessions WHERE {condition}", params
    ).fetchone()
    return _session(row[:-1], row[-1]) if row is not None else None


def visitor_sessions(
    cursor: duckdb.DuckDBPyConnection, visitor_id: str, since_ms: int, until_ms: int
) -> list[StoredSession]:
    """The visitor's sessions that started in [since_ms, until_ms], of every project.

    Sessions are stored in start order, so the time bounds skip older row groups; within them it
    is a scan of the integer visitor_key (no index: migration 0004 says why; 0012 why a key). The
    project is compared by the caller: a third condition in the scan cost more than it saves.
    """
    # The key alone names the visitor: two of a million visitors share one with a chance of one in
    # a million million (60 bits), and reading visitor_id too made the query 3x slower.
    rows = cursor.execute(
        f"SELECT {_STORED_COLUMNS} FROM sessions "
        "WHERE started_at >= ? AND started_at <= ? AND visitor_key = ?",
        [utc_datetime(since_ms), utc_datetime(until_ms), visitor_key(visitor_id)],
    ).fetchall()
    return [_session(row, visitor_id) for row in rows]


def attribution_row(lead_id: str, origin: LeadOrigin) -> RowWrite:
    """The lead_attribution row of a lead (migration 0013 says why it is not on the lead's row)."""
    attribution, converting = origin.attribution, origin.converting
    row = (
        lead_id, len(attribution.touches), touch_values(attribution.touches), attribution.first + 1,
        attribution.last + 1, attribution.time_to_convert_ms, converting.landing_page if converting else None,
        converting.page_views if converting else None, converting.engaged_ms if converting else None,
        converting.engagement_score if converting else None, origin.from_hosting,
    )  # fmt: skip
    return RowWrite("lead_attribution", ATTRIBUTION_COLUMNS, [row])


class UnattributedLead(msgspec.Struct, frozen=True, kw_only=True):
    """A lead stored without its attribution row (a crash came between the two commits)."""

    lead_id: str
    created_ms: int
    session_id: str | None
    visitor_id: str | None
    page_url: str | None
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    utm_term: str | None
    utm_content: str | None


_UNATTRIBUTED = UnattributedLead.__struct_fields__


def unattributed_leads(
    cursor: duckdb.DuckDBPyConnection, created_before_ms: int, limit: int
) -> list[UnattributedLead]:
    """Up to `limit` leads, oldest first, created since attribution has its own table (meta
    'attribution:since', migration 0013) and before `created_before_ms`, without a
    lead_attribution row."""
    columns = ", ".join("epoch_ms(created_at)" if name == "created_ms" else name for name in _UNATTRIBUTED)
    rows = cursor.execute(
        f"SELECT {columns} FROM leads WHERE created_at >= "
        "make_timestamp((SELECT CAST(value AS BIGINT) * 1000 FROM meta WHERE key = 'attribution:since')) "
        "AND created_at < ? AND lead_id NOT IN (SELECT lead_id FROM lead_attribution) "
        "ORDER BY created_at, lead_id LIMIT ?",
        [utc_datetime(created_before_ms), limit],
    ).fetchall()
    return [UnattributedLead(**dict(zip(_UNATTRIBUTED, row, strict=True))) for row in rows]


def touch_values(touches: Sequence[Touch]) -> list[dict[str, Any]]:
    """A lead's touches as the values of its touch_list column."""
    return [{name: _stored(touch, name) for name in TOUCH_FIELDS} for touch in touches]


def _stored(touch: Touch, name: str) -> Any:
    if name == "touched_at":
        return utc_datetime(touch.at)
    if name == "click_ids":
        return msgspec.json.encode(touch.click_ids).decode() if touch.click_ids else None
    return getattr(touch, name)


class StoredTouches(msgspec.Struct, kw_only=True):
    """A lead's touches as stored, oldest first, and which count first and last."""

    touches: list[Touch]
    first: Touch
    last: Touch


def lead_touches(cursor: duckdb.DuckDBPyConnection, lead_ids: Sequence[str]) -> dict[str, StoredTouches]:
    """The stored touches of each of these leads (leads without any are left out)."""
    if not lead_ids:
        return {}
    rows = cursor.execute(
        "SELECT lead_id, touch_list, first_touch, last_touch FROM lead_attribution "
        f"WHERE lead_id IN ({', '.join('?' for _ in lead_ids)})",
        list(lead_ids),
    ).fetchall()
    found = {}
    for lead_id, stored, first, last in rows:
        touches = [_touch(values) for values in stored]
        found[lead_id] = StoredTouches(touches=touches, first=touches[first - 1], last=touches[last - 1])
    return found


def _touch(values: dict[str, Any]) -> Touch:
    fields = {name: values[name] for name in TOUCH_FIELDS[1:]}
    fields["click_ids"] = msgspec.json.decode(fields["click_ids"]) if fields["click_ids"] else {}
    return Touch(at=epoch_ms(values["touched_at"]), **fields)


def touch_columns(prefix: str) -> tuple[str, ...]:
    """The flat names exports give a first or last touch (`first_touch_source`, …)."""
    return tuple(f"{prefix}_{'at' if name == 'touched_at' else name}" for name in _EXPORTED)


def touch_select(prefix: str) -> str:
    """The SELECT list of `touch_columns(prefix)` over a lead_attribution row (`prefix`: first_touch
    or last_touch)."""
    pairs = zip(_EXPORTED, touch_columns(prefix), strict=True)
    return ", ".join(f"touch_list[{prefix}].{name} AS {column}" for name, column in pairs)
