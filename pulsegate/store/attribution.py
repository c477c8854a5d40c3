"""SQL of lead attribution: the sessions a lead's touches come from, and its stored touches."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb
import msgspec

from pulsegate.domain.attribution import SessionTouch, Touch
from pulsegate.domain.timestamps import epoch_ms, utc_datetime
from pulsegate.store.tracking import session_match
from pulsegate.store.writer import RowWrite

TOUCH_COLUMNS = (
    "lead_id", "position", "is_first", "is_last", "session_id", "touched_at", "source", "referrer_host",
    "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "landing_page", "click_ids",
    "country", "device",
)  # fmt: skip
# The fields of a Touch, in the order lead_touches keeps them after its first five columns.
_TOUCH_FIELDS = TOUCH_COLUMNS[6:]
_SESSION_TOUCH = SessionTouch.__struct_fields__
_SESSION_COLUMNS = ", ".join(
    "epoch_ms(started_at)" if name == "started_ms" else name for name in _SESSION_TOUCH
)


class ConvertingSessionRow(msgspec.Struct, frozen=True, kw_only=True):
    """The stored session a lead came from: who, how they arrived, and its summary if it ended."""

    touch: SessionTouch
    visitor_id: str
    project: str | None
    is_hosting: bool
    page_views: int | None  # None while the session is open (the summary is written at its end)
    engaged_ms: int | None
    engagement_score: int | None


def converting_session(
    cursor: duckdb.DuckDBPyConnection, session_id: str, now_ms: int
) -> ConvertingSessionRow | None:
    """The stored session with this id, as a lead links to it."""
    condition, params = session_match(session_id, now_ms)
    row = cursor.execute(
        f"SELECT {_SESSION_COLUMNS}, visitor_id, project, is_hosting, page_views, engaged_ms, "
        f"engagement_score FROM sessions WHERE {condition}",
        params,
    ).fetchone()
    if row is None:
        return None
    touch = SessionTouch(**dict(zip(_SESSION_TOUCH, row[: len(_SESSION_TOUCH)], strict=True)))
    visitor_id, project, is_hosting, page_views, engaged_ms, score = row[len(_SESSION_TOUCH) :]
    return ConvertingSessionRow(
        touch=touch, visitor_id=visitor_id, project=project, is_hosting=is_hosting,
        page_views=page_views, engaged_ms=engaged_ms, engagement_score=score,
    )  # fmt: skip


def visitor_sessions(
    cursor: duckdb.DuckDBPyConnection, visitor_id: str, project: str | None, since_ms: int, until_ms: int
) -> list[SessionTouch]:
    """The visitor's sessions of this project that started in [since_ms, until_ms].

    Sessions are stored in start order, so the time bounds skip older row groups; within them it
    is a scan of visitor_id (no index: migration 0004 says why), 5.6 ms over 800,000 sessions
    with 64-hex ids on this VM (BENCHMARKS.md, issue 18).
    """
    rows = cursor.execute(
        f"SELECT {_SESSION_COLUMNS} FROM sessions "
        "WHERE started_at >= ? AND started_at <= ? AND visitor_id = ? AND project IS NOT DISTINCT FROM ?",
        [utc_datetime(since_ms), utc_datetime(until_ms), visitor_id, project],
    ).fetchall()
    return [SessionTouch(**dict(zip(_SESSION_TOUCH, row, strict=True))) for row in rows]


def touch_rows(lead_id: str, touches: Sequence[Touch], first: int, last: int) -> RowWrite:
    """The lead_touches rows of a lead captured now."""
    rows = []
    for index, touch in enumerate(touches):
        values = [getattr(touch, name) for name in _TOUCH_FIELDS]
        values[_TOUCH_FIELDS.index("click_ids")] = (
            msgspec.json.encode(touch.click_ids).decode() if touch.click_ids else None
        )
        at = utc_datetime(touch.at)
        rows.append((lead_id, index + 1, index == first, index == last, touch.session_id, at, *values))
    return RowWrite("lead_touches", TOUCH_COLUMNS, rows)


class StoredTouches(msgspec.Struct, kw_only=True):
    """A lead's touches as stored, oldest first, and which count first and last."""

    touches: list[Touch]
    first: Touch | None
    last: Touch | None


def lead_touches(cursor: duckdb.DuckDBPyConnection, lead_ids: Sequence[str]) -> dict[str, StoredTouches]:
    """The stored touches of each of these leads (leads without any are left out)."""
    if not lead_ids:
        return {}
    columns = ", ".join(
        ("lead_id", "is_first", "is_last", "session_id", "epoch_ms(touched_at)", *_TOUCH_FIELDS)
    )
    rows = cursor.execute(
        f"SELECT {columns} FROM lead_touches WHERE lead_id IN ({', '.join('?' for _ in lead_ids)}) "
        "ORDER BY lead_id, position",
        list(lead_ids),
    ).fetchall()
    found: dict[str, StoredTouches] = {}
    for lead_id, is_first, is_last, session_id, at, *values in rows:
        touch = _touch(session_id, at, values)
        stored = found.setdefault(lead_id, StoredTouches(touches=[], first=None, last=None))
        stored.touches.append(touch)
        if is_first:
            stored.first = touch
        if is_last:
            stored.last = touch
    return found


def _touch(session_id: str | None, at: int, values: Sequence[Any]) -> Touch:
    fields = dict(zip(_TOUCH_FIELDS, values, strict=True))
    fields["click_ids"] = msgspec.json.decode(fields["click_ids"]) if fields["click_ids"] else {}
    return Touch(session_id=session_id, at=at, **fields)


def touch_columns(prefix: str) -> tuple[str, ...]:
    """The flat names exports give a first or last touch (`first_source`, `first_utm_campaign`, …)."""
    return (f"{prefix}_at", *(f"{prefix}_{name}" for name in _TOUCH_FIELDS[:-2]))


def touch_select(alias: str, prefix: str) -> str:
    """The SELECT list of `touch_columns(prefix)` from lead_touches aliased `alias`."""
    names = ("touched_at", *_TOUCH_FIELDS[:-2])
    pairs = zip(names, touch_columns(prefix), strict=True)
    return ", ".join(f"{alias}.{name} AS {column}" for name, column in pairs)


def epoch(value: Any) -> int | None:
    """A stored TIMESTAMP as epoch ms."""
    return epoch_ms(value) if value is not None else None
