"""The time window and paging of an analytics query, from its query parameters (pure)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from pulsegate.domain.timestamps import epoch_ms
from pulsegate.errors import InvalidInput

PERIODS = ("today", "24h", "7d", "30d", "90d", "12mo")
DEFAULT_PERIOD = "30d"
DEFAULT_LIMIT = 10
MAX_LIMIT = 1000
MAX_WINDOW_DAYS = 3660  # ten years: a bound on zero-filled daily series
# Instants outside these years are refused: the previous period of a window must stay
# representable, and nothing was tracked before 1970 or after 9000.
EARLIEST_MS = 0
LATEST_MS = 221_845_392_000_000  # 9000-01-01
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_EPOCH_MS = re.compile(r"^[0-9]{1,15}$")


@dataclass(frozen=True, slots=True)
class Window:
    """A half-open time range [start_ms, end_ms) and the zone its days are counted in."""

    start_ms: int
    end_ms: int
    tz: str

    @property
    def previous(self) -> Window:
        """The window of the same length just before this one."""
        length = self.end_ms - self.start_ms
        return Window(self.start_ms - length, self.start_ms, self.tz)

    @property
    def year_earlier(self) -> Window:
        """The same local dates and times a year before (29 February becomes the 28th)."""
        zone = ZoneInfo(self.tz)
        return Window(_a_year_before(self.start_ms, zone), _a_year_before(self.end_ms, zone), self.tz)

    def local_days(self) -> list[date]:
        """Every calendar day in `tz` that the window touches, in order."""
        zone = ZoneInfo(self.tz)
        first = datetime.fromtimestamp(self.start_ms / 1000, zone).date()
        last = datetime.fromtimestamp((self.end_ms - 1) / 1000, zone).date()
        return [first + timedelta(days=n) for n in range((last - first).days + 1)]


@dataclass(frozen=True, slots=True)
class Paging:
    """Which slice of a ranked list to return."""

    limit: int
    page: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    # The IANA names proper: ZoneInfo also opens files such as "localtime" or "posixrules",
    # which DuckDB's own zone data does not know.
    return frozenset(available_timezones() - {"localtime", "posixrules"})


def zone(name: str | None) -> str:
    """A valid IANA zone name (default UTC); 400 naming `tz` otherwise."""
    if name is None or name == "":
        return "UTC"
    if name not in _known_zones():
        raise InvalidInput(f"tz: unknown time zone {name!r} (use an IANA name such as Europe/Berlin)")
    return name


def resolve_window(params: Mapping[str, str], now_ms: int) -> Window:
    """The window asked for by `from`/`to` or `period` (default: the last 30 days), in `tz`."""
    tz = zone(params.get("tz"))
    local = ZoneInfo(tz)
    period, start_text, end_text = params.get("period"), params.get("from"), params.get("to")
    if period and (start_text or end_text):
        raise InvalidInput("period: use either period or from/to, not both")
    if start_text or end_text:
        end_ms = _instant("to", end_text, local, end_of_day=True) if end_text else now_ms
        start_ms = (
            _instant("from", start_text, local, end_of_day=False) if start_text else end_ms - 30 * 86_400_000
        )
        if start_ms >= end_ms:
            raise InvalidInput("from: must be before to")
    else:
        start_ms, end_ms = _period(period or DEFAULT_PERIOD, local, now_ms), now_ms
    if end_ms - start_ms > MAX_WINDOW_DAYS * 86_400_000:
        raise InvalidInput(f"from: a window may span at most {MAX_WINDOW_DAYS} days")
    if not EARLIEST_MS < end_ms <= LATEST_MS:
        raise InvalidInput("to: must lie between 1970 and 9000")
    if start_ms - (end_ms - start_ms) < EARLIEST_MS:
        raise InvalidInput("from: the window and the period before it must start after 1970")
    return Window(start_ms, end_ms, tz)


def resolve_paging(params: Mapping[str, str]) -> Paging:
    """`limit` (or its alias `page_size`; default 10, at most 1000) and `page` (from 1)."""
    size_name = "limit" if params.get("limit") is not None or params.get("page_size") is None else "page_size"
    return Paging(
        limit=_bounded_int(params, size_name, DEFAULT_LIMIT, 1, MAX_LIMIT),
        page=_bounded_int(params, "page", 1, 1, 1_000_000),
    )


def _period(period: str, local: ZoneInfo, now_ms: int) -> int:
    now = datetime.fromtimestamp(now_ms / 1000, local)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "today":
        start = midnight
    elif period == "24h":
        return now_ms - 86_400_000
    elif period in ("7d", "30d", "90d"):
        # The last N calendar days, today included: "7d" on a Monday starts last Tuesday.
        start = _local_midnight(midnight.date() - timedelta(days=int(period[:-1]) - 1), local)
    elif period == "12mo":
        month_index = now.year * 12 + now.month - 1 - 11
        start = _local_midnight(date(month_index // 12, month_index % 12 + 1, 1), local)
    else:
        raise InvalidInput(f"period: must be one of {', '.join(PERIODS)} (got {period!r})")
    return epoch_ms(start)


def _a_year_before(ms: int, local: ZoneInfo) -> int:
    moment = datetime.fromtimestamp(ms / 1000, local)
    day = min(moment.day, 28) if moment.month == 2 and moment.day == 29 else moment.day
    earlier = moment.replace(year=moment.year - 1, day=day, tzinfo=None).replace(tzinfo=local)
    return max(EARLIEST_MS, round(earlier.timestamp() * 1000))


def _local_midnight(day: date, local: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=local)


def _instant(name: str, text: str | None, local: ZoneInfo, *, end_of_day: bool) -> int:
    """Epoch ms, an ISO date (a whole local day; `to` includes it), or an ISO datetime."""
    assert text is not None
    text = text.strip()
    if _EPOCH_MS.match(text):
        return int(text)
    try:
        if _DATE.match(text):
            day = date.fromisoformat(text)
            if end_of_day:
                day += timedelta(days=1)
            return epoch_ms(_local_midnight(day, local))
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=local)
        return epoch_ms(moment.astimezone(UTC))
    except (ValueError, OverflowError):  # not a date, or a date at the edge of the calendar
        raise InvalidInput(
            f"{name}: expected an ISO date (2026-01-31), an ISO datetime or epoch milliseconds, got {text!r}"
        ) from None


def _bounded_int(params: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    text = params.get(name)
    if text is None or text == "":
        return default
    digits = text.strip()  # and parse what was checked: str.strip drops "\x1f", int() does not
    if not (digits.isascii() and digits.isdigit()):  # "²" is a digit to isdigit()
        raise InvalidInput(f"{name}: must be a whole number from {low} to {high}, got {text!r}")
    value = int(digits)
    if not low <= value <= high:
        raise InvalidInput(f"{name}: must be from {low} to {high}, got {value}")
    return value
