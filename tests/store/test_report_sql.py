"""A time series' bucket of each row, read from the window's slots, is the one a conversion of the
row itself gives (store/report_sql.py), in every kind of zone and across its clock changes."""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb
import pytest

from pulsegate.store.report_sql import DUCKDB, slot_minutes, slotted_bucket

# Zones whose clocks change (both hemispheres), sit off the hour (a half, three quarters), changed
# by less than an hour (Lord Howe), moved by a whole day (Apia, Kiritimati), or kept a local mean
# time with seconds into the 1970s (Monrovia, -0:44:30 until 1972).
WINDOWS = [
    ("Europe/Berlin", datetime(2026, 3, 20), 30),
    ("Europe/Berlin", datetime(2026, 10, 20), 30),
    ("America/New_York", datetime(2026, 3, 1), 40),
    ("America/Sao_Paulo", datetime(2018, 10, 20), 30),
    ("Australia/Lord_Howe", datetime(2026, 3, 25), 20),
    ("Australia/Lord_Howe", datetime(2026, 9, 25), 20),
    ("Asia/Kolkata", datetime(2026, 1, 1), 2),
    ("Asia/Kathmandu", datetime(1985, 12, 20), 30),
    ("Australia/Eucla", datetime(2026, 5, 1), 3),
    ("America/St_Johns", datetime(2026, 10, 25), 20),
    ("Pacific/Chatham", datetime(2026, 4, 1), 10),
    ("Pacific/Apia", datetime(2011, 12, 20), 20),
    ("Pacific/Kiritimati", datetime(1994, 12, 20), 20),
    ("America/Caracas", datetime(2007, 12, 1), 20),
    ("Africa/Monrovia", datetime(1971, 12, 20), 40),
    ("Antarctica/Troll", datetime(2026, 3, 20), 20),
    ("UTC", datetime(2026, 1, 1), 31),
    ("Europe/Berlin", datetime(2025, 1, 1), 400),  # wide slots: one crosses every local midnight
    ("Asia/Kolkata", datetime(2024, 1, 1), 800),
]


@pytest.mark.parametrize(("tz", "start", "days"), WINDOWS)
@pytest.mark.parametrize("interval", ["hour", "day", "week", "month"])
def test_slotted_buckets_are_each_rows_own(tz: str, start: datetime, days: int, interval: str) -> None:
    if interval == "hour" and days > 31:
        pytest.skip("hours are asked over 31 days at most (domain/intervals.py)")
    end = start + timedelta(days=days)
    connection = duckdb.connect()
    # A row every 7 min 13.7 s, and one either side of each quarter hour of the window (where a
    # clock change or a bucket boundary falls).
    connection.execute(
        "CREATE TABLE t AS SELECT range AS created_at FROM range(?::TIMESTAMP, ?::TIMESTAMP, INTERVAL 433700 "
        "MILLISECONDS) UNION ALL SELECT range FROM range(?::TIMESTAMP, ?::TIMESTAMP, INTERVAL 15 MINUTE) "
        "UNION ALL SELECT range FROM range(?::TIMESTAMP, ?::TIMESTAMP, INTERVAL 15 MINUTE)",
        [start, end, start, end, start + timedelta(minutes=15, microseconds=-1), end],
    )
    bucket = DUCKDB.local_bucket("created_at", interval, tz, start, end)
    slot = slotted_bucket("created_at", interval, tz, start, end)
    rows = connection.execute(
        f"SELECT created_at, {bucket.text}, date_trunc(?, timezone(?, created_at AT TIME ZONE 'UTC')), "
        f"{slot.text} FROM t",
        [*bucket.params, interval, tz, *slot.params],
    ).fetchall()
    assert len(rows) > (end - start) / timedelta(minutes=5)
    wrong = [(at, got, want) for at, got, want, _ in rows if got != want]
    assert not wrong, wrong[:5]
    # Most rows take their slot's bucket (the rest are converted one by one).
    assert sum(slotted is not None for *_, slotted in rows) > 0.8 * len(rows)


def test_slots_are_a_quarter_hour_for_a_month_and_at_most_3000() -> None:
    assert slot_minutes(datetime(2026, 1, 1), datetime(2026, 1, 31)) == 15
    assert slot_minutes(datetime(2026, 1, 1), datetime(2027, 1, 1)) == 180
    assert slot_minutes(datetime(2016, 1, 1), datetime(2026, 1, 1)) == 1440
