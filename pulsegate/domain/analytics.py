"""The answers of the analytics API, and the small pure computations that shape them."""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec
from msgspec import Struct

from pulsegate.domain.funnels import FunnelStepResult
from pulsegate.domain.imported import ImportedRange
from pulsegate.domain.periods import Window

ENGAGEMENT_BUCKETS = ("0-20", "21-40", "41-60", "61-80", "81-100")


class WithImported(Struct, kw_only=True):
    """What an answer that may add imported history (pulsegate import) says of it: "included" where
    the export answers the question, else "excluded" with the reason in the note; all null when
    no imported day is in the window (domain/imported.py)."""

    imported: str | None = None
    imported_note: str | None = None
    imported_range: ImportedRange | None = None  # the imported days of the window (or comparison)

    def imported_fields(self) -> dict[str, Any]:
        """The three fields, to pass on to an answer built from this one."""
        return {
            "imported": self.imported,
            "imported_note": self.imported_note,
            "imported_range": self.imported_range,
        }


class Period(Struct, kw_only=True):
    """The window an answer covers: epoch ms, half-open, with the zone days are counted in."""

    start: int = msgspec.field(name="from")
    end: int = msgspec.field(name="to")
    tz: str

    @classmethod
    def of(cls, window: Window) -> Period:
        return cls(start=window.start_ms, end=window.end_ms, tz=window.tz)


class Totals(Struct, kw_only=True):
    """Headline numbers of one window."""

    sessions: int
    visitors: int
    events: int
    page_views: int
    average_engaged_ms: float | None  # over ended sessions
    bounce_rate: float | None  # share of ended sessions with one page view
    leads: int


class Overview(WithImported, kw_only=True):
    """GET /analytics/overview."""

    period: Period
    current: Totals
    previous: Totals  # the window `compare` names: by default the same length just before
    compare: str = "previous"  # or "year": the same dates a year earlier
    previous_period: Period | None = None
    filters: list[str] = []


class DayCount(Struct, kw_only=True):
    date: str  # ISO date in the answer's tz
    sessions: int
    visitors: int


class DailySessions(WithImported, kw_only=True):
    """GET /analytics/sessions/daily: every day of the window, days without sessions as zeros."""

    period: Period
    days: list[DayCount]


class PageCount(Struct, kw_only=True):
    path: str
    views: int
    visitors: int  # approximate (HyperLogLog)
    average_engaged_ms: float | None


class TopPages(WithImported, kw_only=True):
    """GET /analytics/pages/top."""

    period: Period
    page: int
    limit: int
    pages: list[PageCount]
    visitors_approximate: bool = True


class CountryCount(Struct, kw_only=True):
    country: str | None  # ISO 3166-1 alpha-2; null when unknown
    sessions: int
    visitors: int
    share: float  # of all sessions in the window


class Geo(WithImported, kw_only=True):
    """GET /analytics/geo."""

    period: Period
    page: int
    limit: int
    total_sessions: int
    countries: list[CountryCount]


class ScoreBucket(Struct, kw_only=True):
    range: str
    sessions: int


class Engagement(Struct, kw_only=True):
    """GET /analytics/engagement: scored (ended) sessions by score."""

    period: Period
    scored_sessions: int
    buckets: list[ScoreBucket]
    mean: float | None
    median: float | None


class SourceCount(Struct, kw_only=True):
    source: str
    sessions: int
    visitors: int
    leads: int
    conversion_rate: float  # leads / sessions


class Sources(WithImported, kw_only=True):
    """GET /analytics/sources."""

    period: Period
    page: int
    limit: int
    sources: list[SourceCount]


class MinuteCount(Struct, kw_only=True):
    minute: int  # epoch ms of the minute's start
    events: int


class PageViews(Struct, kw_only=True):
    path: str
    views: int


class Realtime(Struct, kw_only=True):
    """GET /analytics/realtime."""

    timestamp: int
    active_sessions: int  # with an event in the last 5 minutes
    active_visitors: int
    events_last_minute: int
    events_per_minute: list[MinuteCount]  # the last 30 minutes, oldest first, zeros included
    top_pages: list[PageViews]  # page views in the last 5 minutes


class TableSize(Struct, kw_only=True):
    table: str
    rows: int
    estimated_bytes: int


class Storage(Struct, kw_only=True):
    """GET /analytics/storage: the DuckDB file (the reference's "R2 storage stats", for our storage)."""

    database_path: str
    database_bytes: int
    wal_bytes: int
    tables: list[TableSize]
    oldest_event_ms: int | None
    newest_event_ms: int | None
    archive_bytes: int | None  # Parquet archive of pruned events, when one is configured
    # The registered projects (none: open to every site), and the tracking and capture requests
    # refused for coming from a page that is not theirs since the server started (None offline).
    registered_projects: list[str] = []
    refused_requests: int | None = None


def zero_filled_days(days: list[date], counted: dict[date, tuple[int, int]]) -> list[DayCount]:
    """One DayCount per day, with (sessions, visitors) from `counted` or zeros."""
    return [
        DayCount(
            date=day.isoformat(), sessions=counted.get(day, (0, 0))[0], visitors=counted.get(day, (0, 0))[1]
        )
        for day in days
    ]


def zero_filled_minutes(first_minute_ms: int, minutes: int, counted: dict[int, int]) -> list[MinuteCount]:
    """`minutes` consecutive minutes from `first_minute_ms`, with counts or zeros."""
    return [
        MinuteCount(minute=first_minute_ms + n * 60_000, events=counted.get(first_minute_ms + n * 60_000, 0))
        for n in range(minutes)
    ]


def rate(part: int, whole: int) -> float:
    """part / whole, 0 when there is no whole."""
    return part / whole if whole else 0.0


class Projects(Struct, kw_only=True):
    """GET /analytics/projects: the projects this key may see, for pickers."""

    values: list[str]
    all_projects: bool  # the key sees every project (and so, for example, the storage stats)


# ---- the reports engine's answers (GET /analytics/breakdown, /analytics/timeseries) -------------

ReportRow = dict[str, Any]  # {"value": …, metric: number, …, "comparison": {metric: number}}


class Breakdown(WithImported, kw_only=True):
    """GET /analytics/breakdown: one row per value of the dimension, ranked and paged."""

    dimension: str
    period: Period
    metrics: list[str]
    filters: list[str]
    page: int
    limit: int
    total_rows: int
    rows: list[ReportRow]
    comparison: Period | None = None  # with compare=…: each row's "comparison" is this window's
    # Metrics counted with HyperLogLog (typically within 2%): distinct visitors and sessions of
    # event dimensions on a large database (store/reports.EXACT_DISTINCT_UP_TO).
    approximate: list[str] = []


class TimeseriesComparison(Struct, kw_only=True):
    period: Period
    buckets: list[ReportRow]  # paired with the main buckets by position


class Timeseries(WithImported, kw_only=True):
    """GET /analytics/timeseries: every bucket of the window in `tz`, empty ones as zeros."""

    period: Period
    interval: str  # hour, day, week or month
    metrics: list[str]
    filters: list[str]
    buckets: list[ReportRow]  # {"start": local ISO time without offset, metric: number, …}
    comparison: TimeseriesComparison | None = None


class PropertyCount(Struct, kw_only=True):
    key: str
    events: int  # events carrying the key
    visitors: int


class EventProperties(Struct, kw_only=True):
    """GET /analytics/properties?event=NAME: the property keys of one custom event."""

    event: str
    period: Period
    filters: list[str]
    properties: list[PropertyCount]


class GoalNumbers(Struct, kw_only=True):
    """A goal's numbers in one window."""

    visitors: int  # who converted
    conversions: int  # every conversion (a visitor may convert more than once)
    conversion_rate: float | None  # % of the window's visitors who converted; null without visitors


class GoalConversions(Struct, kw_only=True):
    """One goal in GET /analytics/goals."""

    name: str
    kind: str  # event, page or lead
    description: str  # `event Signup (plan=pro)`, `page /thank-you*`, `lead (form contact)`
    project: str | None  # the goal's own project, null for every project
    visitors: int
    conversions: int
    conversion_rate: float | None
    comparison: GoalNumbers | None = None  # with compare=…: the earlier window's


class Goals(Struct, kw_only=True):
    """GET /analytics/goals: each goal's conversions in the window, in the order of their names."""

    period: Period
    filters: list[str]
    visitors: int  # the window's visitors (sessions that pass the filters but goal ones): the rates' base
    goals: list[GoalConversions]
    comparison: Period | None = None
    # The goals' visitors (and so their rates) are HyperLogLog estimates (typically within 2%), on
    # a database of more than 2,000,000 stored events, as for event breakdowns.
    approximate: bool = False


def percent(part: int, whole: int) -> float | None:
    """100 * part / whole, None when there is no whole."""
    return 100 * part / whole if whole else None


class FunnelReport(Struct, kw_only=True):
    """GET /analytics/funnel: how many visitors reached each step, in order."""

    name: str | None  # a saved funnel's
    period: Period
    within: str  # session or visitor
    window_ms: int | None  # within=visitor: how long after the first step the others count
    filters: list[str]
    steps: list[FunnelStepResult]
    conversion_rate: float | None  # % of the first step's visitors who reached the last


class SavedFunnel(Struct, kw_only=True):
    """A saved funnel in GET /analytics/funnels."""

    name: str
    steps: list[str]
    within: str
    window_ms: int | None
    project: str | None


class SavedFunnels(Struct, kw_only=True):
    """GET /analytics/funnels: the saved funnels, by name."""

    funnels: list[SavedFunnel]


class AttributionReport(Struct, kw_only=True):
    """GET /analytics/attribution: leads credited to one dimension's values by a model (rows as a
    breakdown's; `revenue` is a list of {currency, amount})."""

    model: str
    dimension: str
    period: Period
    metrics: list[str]
    filters: list[str]
    page: int
    limit: int
    total_rows: int
    rows: list[ReportRow]
    comparison: Period | None = None


class FormsReport(Struct, kw_only=True):
    """GET /analytics/forms: one row per form label, or per value of `dimension` for one `form`
    (each row: value, views, starts, submits, leads, spam and the rates between them)."""

    dimension: str | None
    form: str | None
    period: Period
    metrics: list[str]
    filters: list[str]
    page: int
    limit: int
    total_rows: int
    rows: list[ReportRow]
    comparison: Period | None = None
