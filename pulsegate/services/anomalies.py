"""The anomaly scan: hourly counts from the database, findings from pulsegate.domain.anomalies."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

import duckdb

from pulsegate.domain.anomalies import (
    BASELINE_WEEKS,
    HOUR_MS,
    WEEK_MS,
    AnomalyReport,
    HourCounts,
    Sensitivity,
    detect,
)
from pulsegate.domain.timestamps import epoch_ms, now_ms, utc_datetime
from pulsegate.store.database import Database
from pulsegate.store.queries import hourly_counts


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


class AnomalyService:
    """Anomaly scans for GET /analytics/anomalies, on the readers' cursors."""

    def __init__(self, database: Database, *, clock: Callable[[], int] = now_ms) -> None:
        self._database = database
        self._clock = clock

    async def scan(
        self, hours: int, sensitivity: Sensitivity, projects: tuple[str, ...] | None
    ) -> AnomalyReport:
        """Findings over the `hours` whole hours before now."""
        return await self._database.read(scan, self._clock(), hours, sensitivity, projects)
