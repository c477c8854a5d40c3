"""The anomaly scan: hourly counts from the database, findings from pulsegate.domain.anomalies."""

from __future__ import annotations

import re
from collections import defaultdict

import duckdb
from msgspec import Struct

from pulsegate.domain.anomalies import (
    BASELINE_WEEKS,
    HOUR_MS,
    WEEK_MS,
    Finding,
    HourCounts,
    Sensitivity,
    detect,
)
from pulsegate.domain.timestamps import epoch_ms, utc_datetime
from pulsegate.errors import InvalidInput
from pulsegate.store.queries import hourly_counts

WINDOW = re.compile(r"^([0-9]{1,2})h$")
MAX_WINDOW_HOURS = 72
DEFAULT_WINDOW_HOURS = 6


class AnomalyReport(Struct, kw_only=True):
    """GET /analytics/anomalies and `pulsegate anomalies scan`."""

    scanned_at: int  # epoch ms
    window_hours: int
    sensitivity: str
    findings: list[Finding]


def window_hours(text: str | None) -> int:
    """`6h` → 6; 400 naming `window` otherwise."""
    if text is None or text == "":
        return DEFAULT_WINDOW_HOURS
    match = WINDOW.match(text.strip())
    if not match or not 1 <= int(match.group(1)) <= MAX_WINDOW_HOURS:
        raise InvalidInput(f"window: whole hours from 1h to {MAX_WINDOW_HOURS}h, such as 6h (got {text!r})")
    return int(match.group(1))


def sensitivity_of(text: str | None) -> Sensitivity:
    """`low`, `normal` (default) or `high`; 400 naming `sensitivity` otherwise."""
    if text is None or text == "":
        return "normal"
    if text not in ("low", "normal", "high"):
        raise InvalidInput(f"sensitivity: one of low, normal, high (got {text!r})")
    return text  # type: ignore[return-value]


def scan(
    cursor: duckdb.DuckDBPyConnection,
    now_ms: int,
    hours: int,
    sensitivity: Sensitivity,
    projects: tuple[str, ...] | None,
) -> AnomalyReport:
    """Findings for every project with traffic, over the `hours` whole hours before now."""
    end = now_ms - now_ms % HOUR_MS
    start = end - hours * HOUR_MS - max(BASELINE_WEEKS) * WEEK_MS
    by_project: dict[str | None, dict[int, HourCounts]] = defaultdict(dict)
    for project, hour, sessions, hosting, leads in hourly_counts(
        cursor, utc_datetime(start), utc_datetime(end), projects
    ):
        by_project[project][epoch_ms(hour)] = HourCounts(sessions, hosting, leads)
    findings = [
        finding
        for project in sorted(by_project, key=lambda name: (name is None, name or ""))
        for finding in detect(
            by_project[project],
            project=project,
            window_end_ms=end,
            window_hours=hours,
            sensitivity=sensitivity,
        )
    ]
    return AnomalyReport(scanned_at=now_ms, window_hours=hours, sensitivity=sensitivity, findings=findings)
