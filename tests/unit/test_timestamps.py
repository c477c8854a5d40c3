"""Epoch milliseconds round-trip through DuckDB's naive-UTC datetimes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from pulsegate.domain.timestamps import epoch_ms, now_ms, utc_datetime


def test_known_instant() -> None:
    assert utc_datetime(1_740_000_000_000) == datetime(2025, 2, 19, 21, 20)
    assert epoch_ms(datetime(2025, 2, 19, 21, 20)) == 1_740_000_000_000


def test_aware_datetimes_are_converted_to_utc() -> None:
    tokyo = timezone(timedelta(hours=9))
    assert epoch_ms(datetime(2025, 2, 20, 6, 20, tzinfo=tokyo)) == 1_740_000_000_000


@given(st.integers(min_value=0, max_value=32_503_680_000_000))
def test_round_trip(ms: int) -> None:
    assert epoch_ms(utc_datetime(ms)) == ms


def test_now_is_close_to_the_system_clock() -> None:
    assert abs(now_ms() - int(datetime.now(UTC).timestamp() * 1000)) < 1000
