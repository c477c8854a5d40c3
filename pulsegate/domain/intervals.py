"""Time series buckets: hours, days, weeks or months of a window, in its time zone (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from pulsegate.domain.periods import Window
from pulsegate.errors import InvalidInput

INTERVALS = ("hour", "day", "week", "month")
MAX_HOURLY_DAYS = 31  # 744 buckets at most
HOURLY_UP_TO_MS = 2 * 86_400_000  # a day or two reads best by the hour


def resolve_interval(params: Mapping[str, str], window: Window) -> str:
    """`interval` (default: hours for windows up to two days, else days); 400 naming it otherwise."""
    interval = params.get("interval") or (
        "hour" if window.end_ms - window.start_ms <= HOURLY_UP_TO_MS else "day"
    )
    if interval not in INTERVALS:
        raise InvalidInput(f"interval: one of {', '.join(INTERVALS)} (got {interval!r})")
    if interval == "hour" and window.end_ms - window.start_ms > MAX_HOURLY_DAYS * 86_400_000:
        raise InvalidInput(f"interval: hours need a window of at most {MAX_HOURLY_DAYS} days; use day")
    return interval


def _local(ms: int, zone: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC).astimezone(zone).replace(tzinfo=None)


def _exists(naive: datetime, zone: ZoneInfo) -> bool:
    """False for a local time skipped when the clocks go forward."""
    return _local(int(naive.replace(tzinfo=zone).timestamp() * 1000), zone) == naive


def truncate(moment: datetime, interval: str) -> datetime:
    """The start of the bucket holding the local time `moment` (weeks start on Monday, as ISO's)."""
    if interval == "hour":
        return moment.replace(minute=0, second=0, microsecond=0)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if interval == "day":
        return day
    if interval == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def bucket_starts(window: Window, interval: str) -> list[datetime]:
    """The local start (naive, in the window's zone) of every bucket the window touches, in order."""
    zone = ZoneInfo(window.tz)
    first = truncate(_local(window.start_ms, zone), interval)
    last = truncate(_local(window.end_ms - 1, zone), interval)
    starts, current = [], first
    while current <= last:
        if interval != "hour" or _exists(current, zone):
            starts.append(current)
        current = _next(current, interval)
    return starts


def _next(start: datetime, interval: str) -> datetime:
    if interval == "month":
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start + {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(days=7)}[interval]
