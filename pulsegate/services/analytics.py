"""The analytics service: windows and scopes in, answer Structs out; SQL runs on reader threads."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb

from pulsegate.domain import analytics as answers
from pulsegate.domain.intervals import bucket_starts
from pulsegate.domain.periods import Paging, Window
from pulsegate.domain.timestamps import epoch_ms, now_ms, utc_datetime
from pulsegate.store import queries
from pulsegate.store.database import Database
from pulsegate.store.projects import project_rows

Projects = tuple[str, ...] | None
REALTIME_MINUTES = 30
ACTIVE_MINUTES = 5


def _scope(window: Window, projects: Projects) -> queries.Scope:
    return queries.Scope(utc_datetime(window.start_ms), utc_datetime(window.end_ms), projects)


def _totals(cursor: duckdb.DuckDBPyConnection, scope: queries.Scope) -> answers.Totals:
    sessions, visitors, engaged, bounce = queries.session_totals(cursor, scope)
    events, page_views = queries.event_totals(cursor, scope)
    return answers.Totals(
        sessions=sessions,
        visitors=visitors,
        events=events,
        page_views=page_views,
        average_engaged_ms=engaged,
        bounce_rate=bounce,
        leads=queries.lead_count(cursor, scope),
    )


class AnalyticsService:
    """Answers every GET /analytics/* question except leads and anomalies."""

    def __init__(self, database: Database, *, clock: Callable[[], int] = now_ms) -> None:
        self._database = database
        self._clock = clock

    async def overview(self, window: Window, projects: Projects) -> answers.Overview:
        """Headline numbers for the window and the one before it."""

        def run(cursor: duckdb.DuckDBPyConnection) -> answers.Overview:
            return answers.Overview(
                period=answers.Period.of(window),
                current=_totals(cursor, _scope(window, projects)),
                previous=_totals(cursor, _scope(window.previous, projects)),
            )

        return await self._database.read(run)

    async def daily_sessions(self, window: Window, projects: Projects) -> answers.DailySessions:
        """Sessions and visitors per local day, every day present."""
        rows = await self._database.read(queries.daily_sessions, _scope(window, projects), window.tz)
        counted = {day: (sessions, visitors) for day, sessions, visitors in rows}
        return answers.DailySessions(
            period=answers.Period.of(window), days=answers.zero_filled_days(window.local_days(), counted)
        )

    async def timeseries(self, window: Window, projects: Projects, interval: str) -> answers.Timeseries:
        """Sessions and visitors per local hour, day, week or month, every bucket present."""
        rows = await self._database.read(
            queries.sessions_per_bucket, _scope(window, projects), window.tz, interval
        )
        counted = {start: (sessions, visitors) for start, sessions, visitors in rows}
        buckets = [
            answers.BucketCount(start=start.isoformat(), sessions=counted.get(start, (0, 0))[0],
                                visitors=counted.get(start, (0, 0))[1])
            for start in bucket_starts(window, interval)
        ]  # fmt: skip
        return answers.Timeseries(period=answers.Period.of(window), interval=interval, buckets=buckets)

    async def top_pages(self, window: Window, projects: Projects, paging: Paging) -> answers.TopPages:
        """The most viewed paths."""
        rows = await self._database.read(
            queries.top_pages, _scope(window, projects), paging.limit, paging.offset
        )
        return answers.TopPages(
            period=answers.Period.of(window),
            page=paging.page,
            limit=paging.limit,
            pages=[
                answers.PageCount(path=path, views=views, visitors=visitors, average_engaged_ms=engaged)
                for path, views, visitors, engaged in rows
            ],
        )

    async def geo(self, window: Window, projects: Projects, paging: Paging) -> answers.Geo:
        """Sessions by country."""
        scope = _scope(window, projects)

        def run(cursor: duckdb.DuckDBPyConnection) -> answers.Geo:
            total = queries.session_totals(cursor, scope)[0]
            rows = queries.countries(cursor, scope, paging.limit, paging.offset)
            return answers.Geo(
                period=answers.Period.of(window),
                page=paging.page,
                limit=paging.limit,
                total_sessions=total,
                countries=[
                    answers.CountryCount(
                        country=country,
                        sessions=sessions,
                        visitors=visitors,
                        share=answers.rate(sessions, total),
                    )
                    for country, sessions, visitors in rows
                ],
            )

        return await self._database.read(run)

    async def engagement(self, window: Window, projects: Projects) -> answers.Engagement:
        """Scored sessions by engagement bucket, with mean and median."""
        counts, mean, median = await self._database.read(queries.engagement_scores, _scope(window, projects))
        return answers.Engagement(
            period=answers.Period.of(window),
            scored_sessions=sum(counts),
            buckets=[
                answers.ScoreBucket(range=label, sessions=count)
                for label, count in zip(answers.ENGAGEMENT_BUCKETS, counts, strict=True)
            ],
            mean=mean,
            median=median,
        )

    async def sources(self, window: Window, projects: Projects, paging: Paging) -> answers.Sources:
        """Traffic sources with their leads and conversion rate."""
        rows = await self._database.read(
            queries.sources, _scope(window, projects), paging.limit, paging.offset
        )
        return answers.Sources(
            period=answers.Period.of(window),
            page=paging.page,
            limit=paging.limit,
            sources=[
                answers.SourceCount(
                    source=source,
                    sessions=sessions,
                    visitors=visitors,
                    leads=leads,
                    conversion_rate=answers.rate(leads, sessions),
                )
                for source, sessions, visitors, leads in rows
            ],
        )

    async def realtime(self, projects: Projects) -> answers.Realtime:
        """Activity of the last minutes."""
        now = self._clock()
        current_minute = now - now % 60_000
        first_minute = current_minute - (REALTIME_MINUTES - 1) * 60_000
        active, visitors, last_minute, per_minute, pages = await self._database.read(
            queries.recent_activity,
            utc_datetime(first_minute),
            utc_datetime(now + 1),
            utc_datetime(now - ACTIVE_MINUTES * 60_000),
            utc_datetime(now - 60_000),
            projects,
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
        stats = await self._database.read(storage_stats, self._database.path, self._database.archive_dir)
        stats.refused_requests = refused_requests
        return stats


def storage_stats(
    cursor: duckdb.DuckDBPyConnection, path: Path, archive_dir: Path | None = None
) -> answers.Storage:
    """The database file and WAL sizes, rows and bytes per table, the oldest and newest event."""
    oldest, newest = queries.event_time_range(cursor)
    return answers.Storage(
        database_path=str(path),
        database_bytes=file_size(path),
        wal_bytes=file_size(path.with_name(path.name + ".wal")),
        tables=[
            answers.TableSize(table=name, rows=rows, estimated_bytes=size)
            for name, rows, size in queries.table_stats(cursor)
        ],
        oldest_event_ms=epoch_ms(oldest) if oldest else None,
        newest_event_ms=epoch_ms(newest) if newest else None,
        archive_bytes=sum(file_size(part) for part in archive_dir.rglob("*.parquet"))
        if archive_dir
        else None,
        registered_projects=[name for name, _, _ in project_rows(cursor)],
    )


def file_size(path: Path) -> int:
    """A file's size in bytes, 0 when it does not exist."""
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0
