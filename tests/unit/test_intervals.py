"""Time series buckets in a time zone: hours around clock changes, Monday weeks, months."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from pulsegate.domain.intervals import bucket_starts, resolve_interval
from pulsegate.domain.periods import Window
from pulsegate.domain.timestamps import epoch_ms
from pulsegate.errors import InvalidInput


def window(start: datetime, end: datetime, tz: str) -> Window:
    zone = ZoneInfo(tz)
    return Window(epoch_ms(start.replace(tzinfo=zone)), epoch_ms(end.replace(tzinfo=zone)), tz)


def hours(day_window: Window) -> list[str]:
    return [start.strftime("%H:%M") for start in bucket_starts(day_window, "hour")]


def test_a_plain_day_has_24_hours() -> None:
    assert hours(window(datetime(2026, 3, 10), datetime(2026, 3, 11), "Europe/Berlin")) == [
        f"{h:02d}:00" for h in range(24)
    ]


def test_the_spring_change_skips_the_hour_that_does_not_exist() -> None:
    day = hours(window(datetime(2026, 3, 29), datetime(2026, 3, 30), "Europe/Berlin"))
    assert len(day) == 23 and "02:00" not in day


def test_the_autumn_change_has_its_repeated_hour_once() -> None:
    # 25 hours of clock time, 24 distinct local hours: the two 02:00s are one bucket.
    day = hours(window(datetime(2026, 10, 25), datetime(2026, 10, 26), "Europe/Berlin"))
    assert day == [f"{h:02d}:00" for h in range(24)]


def test_a_half_hour_zone_counts_its_own_hours() -> None:
    zone = ZoneInfo("Asia/Kolkata")
    w = Window(epoch_ms(datetime(2026, 3, 10, 9, 0, tzinfo=ZoneInfo("UTC"))),
               epoch_ms(datetime(2026, 3, 10, 11, 0, tzinfo=ZoneInfo("UTC"))), "Asia/Kolkata")  # fmt: skip
    assert [s.isoformat() for s in bucket_starts(w, "hour")] == [
        "2026-03-10T14:00:00",
        "2026-03-10T15:00:00",
        "2026-03-10T16:00:00",
    ]
    assert datetime(2026, 3, 10, 9, 0, tzinfo=ZoneInfo("UTC")).astimezone(zone).hour == 14


def test_weeks_start_on_monday_and_months_on_the_first() -> None:
    w = window(datetime(2026, 1, 28), datetime(2026, 3, 3), "UTC")  # a Wednesday to a Tuesday
    assert [s.date().isoformat() for s in bucket_starts(w, "week")] == [
        "2026-01-26", "2026-02-02", "2026-02-09", "2026-02-16", "2026-02-23", "2026-03-02",
    ]  # fmt: skip
    assert [s.date().isoformat() for s in bucket_starts(w, "month")] == [
        "2026-01-01",
        "2026-02-01",
        "2026-03-01",
    ]


@pytest.mark.parametrize(("days", "expected"), [(1, "hour"), (2, "hour"), (3, "day"), (90, "day")])
def test_the_default_interval_follows_the_window(days: int, expected: str) -> None:
    w = Window(0 + 86_400_000 * 400, 86_400_000 * (400 + days), "UTC")
    assert resolve_interval({}, w) == expected


@pytest.mark.parametrize(("params", "message"), [({"interval": "minute"}, "interval: one of hour, day, week, month"),
                                                  ({"interval": "hour"}, "interval: hours need a window of at most 31 days")])  # fmt: skip
def test_bad_intervals_are_refused(params: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        resolve_interval(params, Window(0, 86_400_000 * 40, "UTC"))
