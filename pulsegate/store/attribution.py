"""SQL of lead attribution: the sessions a lead's touches come from, and its stored touches."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb
import msgspec

from pulsegate.domain.attribution import SessionTouch, Touch
from pulsegate.domain.timestamps import epoch_ms, utc_datetime
from pulsegate.domain.visitor import visitor_key
from pulsegate.store.tracking import session_match

# The fields of each struct of leads.touch_list (migration 0010), in order: a Touch's, its time
# as TIMESTAMP and its click ids as JSON text.
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
        "SELECT lead_id, touch_list, first_touch, last_touch FROM leads "
        f"WHERE lead_id IN ({', '.join('?' for _ in lead_ids)}) AND touches > 0",
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
    """The SELECT list of `touch_columns(prefix)` over a leads row (`prefix`: first_touch or last_touch)."""
    pairs = zip(_EXPORTED, touch_columns(prefix), strict=True)
    return ", ".join(f"touch_list[{prefix}].{name} AS {column}" for name, column in pairs)
