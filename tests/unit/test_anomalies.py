"""Anomaly detection on generated series: injected anomalies are found, weekly rhythm is not."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime

import pytest

from pulsegate.domain.anomalies import HOUR_MS, HourCounts, detect, poisson_cdf

START = int(datetime(2026, 1, 5, tzinfo=UTC).timestamp() * 1000)  # a Monday
DAYS = 35


def usual_sessions(hour_ms: int, scale: float) -> float:
    moment = datetime.fromtimestamp(hour_ms / 1000, UTC)
    daily = 0.3 + 0.7 * math.sin(math.pi * max(0, moment.hour - 6) / 18) ** 2 if moment.hour >= 6 else 0.15
    weekly = 0.45 if moment.weekday() >= 5 else 1.0  # quiet weekends
    return scale * daily * weekly


def series(scale: float = 120.0, seed: int = 3) -> dict[int, HourCounts]:
    """Five weeks of hourly traffic with a daily and a weekly rhythm, 4% leads, 5% hosting."""
    rng = random.Random(seed)
    data = {}
    for n in range(DAYS * 24):
        hour = START + n * HOUR_MS
        sessions = max(0, round(usual_sessions(hour, scale) * rng.uniform(0.9, 1.1)))
        data[hour] = HourCounts(
            sessions=sessions, hosting=round(sessions * 0.05), leads=round(sessions * 0.04)
        )
    return data


END = START + DAYS * 24 * HOUR_MS


def with_window(data: dict[int, HourCounts], hours: int, change) -> dict[int, HourCounts]:  # type: ignore[no-untyped-def]
    changed = dict(data)
    for n in range(1, hours + 1):
        hour = END - n * HOUR_MS
        changed[hour] = change(changed[hour])
    return changed


def test_weekly_rhythm_alone_finds_nothing() -> None:
    data = series()
    # Every 6-hour window of the last week, weekends and nights included.
    for offset in range(0, 7 * 24, 6):
        assert detect(data, project="acme", window_end_ms=END - offset * HOUR_MS, window_hours=6) == [], (
            offset
        )


def test_a_broken_form_is_found() -> None:
    data = with_window(series(), 6, lambda c: HourCounts(c.sessions, c.hosting, 0))
    findings = detect(data, project="acme", window_end_ms=END, window_hours=6)
    assert [f.kind for f in findings] == ["submission_drop"]
    drop = findings[0]
    expected = 0.04 * sum(data[END - n * HOUR_MS].sessions for n in range(1, 7))
    assert drop.observed == 0 and abs(drop.expected - expected) < 0.1 * expected + 0.5
    assert drop.message.startswith("Lead submissions for project acme: 0 in the last 6 h,")
    assert drop.severity == "critical"


def test_a_quiet_night_with_no_leads_is_not_an_alarm() -> None:
    night_end = END - 18 * HOUR_MS  # 06:00: the window covers the small hours
    data = series(scale=20)
    for n in range(1, 7):
        hour = night_end - n * HOUR_MS
        data[hour] = HourCounts(data[hour].sessions, data[hour].hosting, 0)
    assert [f.kind for f in detect(data, project=None, window_end_ms=night_end, window_hours=6)] == []


def test_traffic_spike_and_drop() -> None:
    spike = with_window(series(), 6, lambda c: HourCounts(c.sessions * 5, c.hosting * 5, c.leads * 5))
    assert [f.kind for f in detect(spike, project=None, window_end_ms=END, window_hours=6)] == [
        "traffic_spike"
    ]
    drop = with_window(series(), 6, lambda c: HourCounts(c.sessions // 10, c.hosting // 10, c.leads // 10))
    found = detect(drop, project=None, window_end_ms=END, window_hours=6)
    assert [f.kind for f in found] == ["traffic_drop"]
    assert "are down" in found[0].message


def test_tiny_sites_do_not_alert_on_noise() -> None:
    tiny = with_window(series(scale=1.0), 6, lambda c: HourCounts(c.sessions * 4, 0, 0))
    assert detect(tiny, project=None, window_end_ms=END, window_hours=6) == []


def test_vpn_flood() -> None:
    flood = with_window(series(), 6, lambda c: HourCounts(c.sessions, int(c.sessions * 0.7), c.leads))
    found = detect(flood, project="acme", window_end_ms=END, window_hours=6)
    assert [f.kind for f in found] == ["vpn_ratio"]
    assert found[0].observed == pytest.approx(0.7, abs=0.02) and found[0].expected == pytest.approx(
        0.05, abs=0.01
    )


def test_sensitivity_changes_what_is_flagged() -> None:
    mild = with_window(series(), 6, lambda c: HourCounts(int(c.sessions * 1.25), c.hosting, c.leads))
    assert [
        f.kind for f in detect(mild, project=None, window_end_ms=END, window_hours=6, sensitivity="high")
    ] == ["traffic_spike"]
    assert detect(mild, project=None, window_end_ms=END, window_hours=6, sensitivity="low") == []


def test_no_baseline_no_findings() -> None:
    data = {END - n * HOUR_MS: HourCounts(100, 90, 0) for n in range(1, 7)}
    assert detect(data, project=None, window_end_ms=END, window_hours=6) == []


def test_poisson_cdf() -> None:
    assert poisson_cdf(0, 3) == pytest.approx(math.exp(-3))
    assert poisson_cdf(2, 1.5) == pytest.approx(math.exp(-1.5) * (1 + 1.5 + 1.5**2 / 2))
    assert poisson_cdf(5, 0) == 1.0


def test_busy_sites_do_not_underflow() -> None:
    # exp(-840) is 0.0 in floating point: the tail must be computed in log space.
    assert poisson_cdf(840, 840) == pytest.approx(0.509, abs=0.01)
    assert poisson_cdf(700, 840) < 1e-5
    busy = series(scale=12_000)  # about 480 leads an hour at 4%
    assert [f.kind for f in detect(busy, project=None, window_end_ms=END, window_hours=6)] == []
