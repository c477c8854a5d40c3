"""Conversions between the API's epoch milliseconds and the naive-UTC datetimes DuckDB stores."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

_EPOCH = datetime(1970, 1, 1)


def now_ms() -> int:
    """The current time in epoch milliseconds."""
    return time.time_ns() // 1_000_000


def utc_datetime(epoch_ms: int) -> datetime:
    """Epoch milliseconds as a naive datetime in UTC (DuckDB's TIMESTAMP)."""
    # Integer arithmetic: going through float seconds loses a millisecond on some values.
    return _EPOCH + timedelta(milliseconds=epoch_ms)


def epoch_ms(moment: datetime) -> int:
    """A naive-UTC (or aware) datetime as epoch milliseconds."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return (moment - _EPOCH) // _EPOCH.resolution // 1000
