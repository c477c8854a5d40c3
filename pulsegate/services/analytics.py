"""The analytics service: report queries in, answer Structs out; SQL runs on reader threads."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import duckdb

from pulsegate.domain import analytics as answers
from pulsegate.domain import imported
from pulsegate.domain.attribution_reports import AttributionDimension, AttributionMetric, Model
from pulsegate.domain.funnels import Funnel
from pulsegate.domain.goals import Goal
from pulsegate.domain.periods import Paging
from pulsegate.domain.reports import Dimension, Filter, Metric, Order, ReportQuery, dimension, metrics_for
from pulsegate.domain.timestamps import epoch_ms, now_ms, utc_datetime
from pulsegate.services import attribution_reports, reports
from pulsegate.services.attribution import Settled, nothing_queued
from pulsegate.store import queries
from pulsegate.store import reports as report_queries
from pulsegate.store.clickhouse import storage as clickhouse_storage
from pulsegate.store.database import Database
from pulsegate.store.projects import project_rows

Projects = tuple[str, ...] | None
REALTIME_MINUTES = 30
ACTIVE_MINUTES = 5


class AnalyticsService:
    """Answers every GET /analytics/* question except leads and anomalies."""

    def __init__(
        self, database: Database, *, clock: Callable[[], int] = now_ms, settled: Settled = nothing_queued
    ) -> None:
        self._database = database
        self._clock = clock
        self._settled = settled  # the attribution of a lead just captured is one commit behind it
        self._storage_cache = StorageCache()

    async def overview(self, query: ReportQuery) -> answers.Overview:
        """Headline numbers for the window and the one it is compared with."""
        return await self._database.read(reports.overview, query)

    async def breakdown(
        self,
        query: ReportQuery,
        by: Dimension,
        metrics: Sequence[Metric],
        order: Order,
        paging: Paging,
    ) -> answers.Breakdown:
        """One page of a breakdown by any dimension."""
        return await self._database.read(reports.breakdown, query, by, metrics, order, paging)

    async def timeseries(
        self, query: ReportQuery, interval: str, metrics: Sequence[Metric]
    ) -> answers.Timeseries:
        """Metrics per local hour, day, week or month, every bucket present."""
        return await self._database.read(reports.timeseries, query, interval, metrics)

    async def goals(self, projects: Projects = None) -> list[Goal]:
        """The goals a key limited to `projects` may see, by name (for goal filters)."""
        return await self._database.read(reports.defined_goals, projects)

    async def attribution(
        self,
        query: ReportQuery,
        model: Model,
        dimension: AttributionDimension,
        metrics: Sequence[AttributionMetric],
        order: Order,
        paging: Paging,
    ) -> answers.AttributionReport:
        """Leads credited to a dimension's values by `model`, with outcomes and lead quality."""
        await self._settled()
        return await self._database.read(
            attribution_reports.attribution, query, model, dimension, metrics, order, paging
        )

    async def forms(
        self,
        query: ReportQuery,
        by: Dimension | None,
        form: str | None,
        order: Order,
        paging: Paging,
        *,
        tracked_only: bool = False,
    ) -> answers.FormsReport:
        """Each form's views, starts, submits, leads and spam (or one form's, by `by`);
        `tracked_only`: the forms the tracker saw (no label only leads typed)."""
        return await self._database.read(
            attribution_reports.forms, query, by, form, order, paging, tracked_only
        )

    async def goal_report(self, query: ReportQuery) -> answers.Goals:
        """Each goal's conversions and conversion rate: the visitors and the goals' counts are read
        side by side, on two reader threads (at 10M events, in process: 82 ms one after the other,
        75 side by side; measured by hand)."""
        windows = [query.window, *([query.comparison] if query.comparison else [])]
        parts = await asyncio.gather(
            *(self._database.read(reports.goal_base, query, window) for window in windows),
            *(self._database.read(reports.goal_numbers, query, window) for window in windows),
        )
        bases, numbers = parts[: len(windows)], parts[len(windows) :]
        return reports.goals_answer(query, bases, numbers)  # type: ignore[arg-type]

    async def funnel(self, query: ReportQuery, funnel: Funnel | str) -> answers.FunnelReport:
        """A funnel's steps: the one asked, or the saved one of that name."""

        def run(cursor: duckdb.DuckDBPyConnection) -> answers.FunnelReport:
            if isinstance(funnel, str):
                return reports.funnel(cursor, query, reports.saved_funnel(cursor, funnel, query.projects))
            return reports.funnel(cursor, query, funnel)

        return await self._database.read(run)

    async def saved_funnels(self, projects: Projects) -> answers.SavedFunnels:
        """The saved funnels a key may run."""
        found = await self._database.read(reports.saved_funnels, projects)
        return answers.SavedFunnels(
            funnels=[
                answers.SavedFunnel(
                    name=f.name or "",
                    steps=[s.text for s in f.steps],
                    within=f.within,
                    window_ms=f.window_ms,
                    project=f.project,
                )
                for f in found
            ]
        )

    async def event_properties(self, query: ReportQuery, event: str) -> answers.EventProperties:
        """The property keys of one custom event."""
        return await self._database.read(reports.event_properties, query, event)

    async def daily_sessions(self, query: ReportQuery) -> answers.DailySessions:
        """Sessions and visitors per local day, every day present."""
        series = await self.timeseries(query, "day", metrics_for(("sessions", "visitors"), None))
        return answers.DailySessions(
            period=series.period,
            days=[
                answers.DayCount(
                    date=bucket["start"][:10], sessions=bucket["sessions"], visitors=bucket["visitors"]
                )
                for bucket in series.buckets
            ],
            **series.imported_fields(),
        )

    async def top_pages(self, query: ReportQuery, paging: Paging) -> answers.TopPages:
        """The most viewed paths."""
        ranked = await self._breakdown(query, "page", ("pageviews", "visitors", "avg_engaged_ms"), paging)
        found = ranked.rows
        return answers.TopPages(
            period=answers.Period.of(query.window),
            page=paging.page,
            limit=paging.limit,
            pages=[
                answers.PageCount(
                    path=row["value"],
                    views=row["pageviews"],
                    visitors=row["visitors"],
                    average_engaged_ms=row["avg_engaged_ms"],
                )
                for row in found
            ],
            visitors_approximate="visitors" in ranked.approximate,
            **ranked.imported_fields(),
        )

    async def geo(self, query: ReportQuery, paging: Paging) -> answers.Geo:
        """Sessions by country, and all sessions (read side by side, on two reader threads)."""
        ranked, total = await asyncio.gather(
            self._breakdown(query, "country", ("sessions", "visitors"), paging),
            self._database.read(reports.total_sessions, query, query.window),
        )
        found = ranked.rows
        return answers.Geo(
            **ranked.imported_fields(),
            period=answers.Period.of(query.window),
            page=paging.page,
            limit=paging.limit,
            total_sessions=total,
            countries=[
                answers.CountryCount(
                    country=row["value"],
                    sessions=row["sessions"],
                    visitors=row["visitors"],
                    share=answers.rate(row["sessions"], total),
                )
                for row in found
            ],
        )

    async def engagement(self, query: ReportQuery) -> answers.Engagement:
        """Scored sessions by engagement bucket, with mean and median."""
        counts, mean, median = await self._database.read(
            report_queries.engagement_scores, reports.scope_of(query.window, query.projects), query.filters
        )
        return answers.Engagement(
            period=answers.Period.of(query.window),
            scored_sessions=sum(counts),
            buckets=[
                answers.ScoreBucket(range=label, sessions=count)
                for label, count in zip(answers.ENGAGEMENT_BUCKETS, counts, strict=True)
            ],
            mean=mean,
            median=median,
        )

    async def sources(self, query: ReportQuery, paging: Paging) -> answers.Sources:
        """Traffic sources with their leads and conversion rate (leads / sessions): PulseGate's own
        sessions only, since imported days have no leads to divide."""
        ranked = await self._breakdown(
            replace(query, include_imported=False), "source", ("sessions", "visitors", "leads"), paging
        )
        found = ranked.rows
        held = ranked.imported_fields()
        if held["imported"] is not None:
            held["imported_note"] = imported.note(imported.Plan(None, imported.NO_LEADS))
        return answers.Sources(
            **held,
            period=answers.Period.of(query.window),
            page=paging.page,
            limit=paging.limit,
            sources=[
                answers.SourceCount(
                    source=row["value"],
                    sessions=row["sessions"],
                    visitors=row["visitors"],
                    leads=row["leads"],
                    conversion_rate=answers.rate(row["leads"], row["sessions"]),
                )
                # Leads captured without a tracked session have no source: they count in the
                # overview only.
                for row in found
                if row["value"] is not None
            ],
        )

    async def _breakdown(
        self, query: ReportQuery, dimension_name: str, names: tuple[str, ...], paging: Paging
    ) -> answers.Breakdown:
        """One page of rows by a dimension, ranked by the first of `names` (without comparison: the
        fixed reports answer for their window only)."""
        by = dimension(dimension_name)
        return await self.breakdown(
            replace(query, compare=None), by, metrics_for(names, by), Order(names[0], "desc"), paging
        )

    async def realtime(self, projects: Projects, filters: tuple[Filter, ...] = ()) -> answers.Realtime:
        """Activity of the last minutes, of the sessions that pass `filters`."""
        now = self._clock()
        current_minute = now - now % 60_000
        first_minute = current_minute - (REALTIME_MINUTES - 1) * 60_000
        recent = queries.Scope(utc_datetime(first_minute), utc_datetime(now + 1), projects)
        condition = report_queries.event_conditions(filters, recent)
        active, visitors, last_minute, per_minute, pages = await self._database.read(
            queries.recent_activity,
            recent.start,
            recent.end,
            utc_datetime(now - ACTIVE_MINUTES * 60_000),
            utc_datetime(now - 60_000),
            projects,
            condition.text,
            condition.params,
        )
        counted = {epoch_ms(minute): count for minute, count in per_minute}
        return answers.Realtime(
            timestamp=now,
            active_sessions=active,
            active_visitors=visitors,
            events_last_minute=last_minute,
            events_per_minute=answers.zero_filled_minutes(first_minute, REALTIME_MINUTES, counted),
            top_pages=[answers.PageViews(path=path, views=views) for path, views in pages],
        )

    async def projects(self, projects: Projects) -> answers.Projects:
        """Projects with sessions or leads, as far as `projects` (the key's scope) allows."""
        names = await self._database.read(queries.project_names, projects)
        return answers.Projects(values=names, all_projects=projects is None)

    async def storage(self, refused_requests: int | None = None) -> answers.Storage:
        """Sizes of the database file, its WAL and its tables; the registered projects."""
        if not isinstance(self._database, Database):  # ClickHouse: its parts, no file of ours
            stats = await self._database.read(clickhouse_storage.storage_stats)
            stats.refused_requests = refused_requests
            return stats
        path, cache = self._database.path, self._storage_cache
        state = await self._database.read(storage_state, path)
        stats = await self._database.read(storage_stats, path, self._database.archive_dir, cache.known(state))
        if await self._database.read(storage_state, path) == state:  # the file did not change meanwhile
            cache.keep(state, {table.table: table.estimated_bytes for table in stats.tables})
        stats.refused_requests = refused_requests
        return stats


class StorageCache:
    """Each table's bytes on disk, kept while the database file is unchanged: a table's blocks on
    disk change only when DuckDB writes the file (a checkpoint, every 5 s while data comes in),
    and listing them scans the storage map (at 50M events 300-360 ms of /analytics/storage on a
    quiet machine; listing the events table's on a second reader thread beside the others' did not
    shorten it). Rows are read afresh every time (the catalog's count moves with every commit)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state: tuple[Any, ...] | None = None
        self._bytes: dict[str, int] = {}

    def known(self, state: tuple[Any, ...]) -> dict[str, int]:
        """The bytes known for the file in `state` (a copy, for the caller to fill)."""
        with self._lock:
            return dict(self._bytes) if state == self._state else {}

    def keep(self, state: tuple[Any, ...], table_bytes: dict[str, int]) -> None:
        with self._lock:
            self._state, self._bytes = state, dict(table_bytes)


def storage_state(cursor: duckdb.DuckDBPyConnection, path: Path) -> tuple[Any, ...]:
    """What tells whether the file's blocks changed: its inode, size and modification time, and
    DuckDB's block counts."""
    return (_file_state(path), queries.block_state(cursor))


def storage_stats(
    cursor: duckdb.DuckDBPyConnection,
    path: Path,
    archive_dir: Path | None = None,
    known_bytes: dict[str, int] | None = None,
) -> answers.Storage:
    """The database file and WAL sizes, rows and bytes per table (those of `known_bytes` as they
    are), the oldest and newest event."""
    oldest, newest = queries.event_time_range(cursor)
    return answers.Storage(
        database_path=str(path),
        database_bytes=file_size(path),
        wal_bytes=file_size(path.with_name(path.name + ".wal")),
        tables=[
            answers.TableSize(table=name, rows=rows, estimated_bytes=size)
            for name, rows, size in queries.table_stats(cursor, known_bytes)
        ],
        oldest_event_ms=epoch_ms(oldest) if oldest else None,
        newest_event_ms=epoch_ms(newest) if newest else None,
        archive_bytes=sum(file_size(part) for part in archive_dir.rglob("*.parquet"))
        if archive_dir
        else None,
        registered_projects=[name for name, _, _ in project_rows(cursor)],
    )


def _file_state(path: Path) -> tuple[int, int, int] | None:
    """The file's inode, size and modification time (ns): any write by DuckDB changes them."""
    try:
        found = path.stat()
    except FileNotFoundError:
        return None
    return (found.st_ino, found.st_size, found.st_mtime_ns)


def file_size(path: Path) -> int:
    """A file's size in bytes, 0 when it does not exist."""
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0
