"""The reports engine's SQL per engine: each dimension's value, each metric, each operator, declared once.

`store/reports.py` builds every report from a `Dialect`; a second engine (ClickHouse) is a second
`Dialect` instance with its own expressions, not a second set of reports. Expressions name
columns of our own tables and nothing else: every value from a request is a bound parameter.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pulsegate.domain.reports import Dimension, Filter


@dataclass(frozen=True, slots=True)
class Sql:
    """A piece of SQL and the parameters its `?` marks take, in order."""

    text: str
    params: tuple[Any, ...] = ()

    def __and__(self, other: Sql) -> Sql:
        return Sql(f"{self.text} AND {other.text}", self.params + other.params)


def all_of(parts: Sequence[Sql]) -> Sql:
    """The conjunction of `parts` (TRUE when there are none)."""
    if not parts:
        return Sql("TRUE")
    return Sql(
        " AND ".join(f"({part.text})" for part in parts), tuple(p for part in parts for p in part.params)
    )


def projects_in(projects: tuple[str, ...] | None, column: str = "project") -> Sql:
    """`column` is one of `projects` (None: any project; none at all: no row)."""
    if projects is None:
        return Sql("TRUE")
    return Sql(f"{column} IN ({', '.join('?' for _ in projects) or 'NULL'})", projects)


@dataclass(frozen=True, slots=True)
class Dialect:
    """Everything engine-specific the reports need."""

    session_values: Mapping[str, Sql]  # session dimension -> its value over `sessions` columns
    session_metrics: Mapping[str, str]  # metric -> aggregate over the session population's columns
    event_metrics: Mapping[str, str]  # metric -> aggregate over the rollup's rows (store/rollup.py)
    approximate_event_metrics: Mapping[str, str]  # the distinct counts, estimated (large tables)
    # (value expression, n) -> "the value contains one of n bound needles", each test naming the
    # value then its needle, in that order
    contains: Callable[[str, int], str]
    # (UTC timestamp column, interval, zone, window start, window end) -> the column's bucket start
    # in the zone, for rows in the window
    local_bucket: Callable[[str, str, str, datetime, datetime], Sql]

    def session_value(self, dimension: Dimension) -> Sql:
        return self.session_values[dimension.name]

    def condition(self, value: Sql, filter_: Filter) -> Sql:
        """TRUE or FALSE, never NULL: whether `value` passes `filter_` as `domain.reports.matches` says."""
        # `value IS NOT NULL AND test` is FALSE, not NULL, for a missing value, and (unlike
        # coalesce) leaves both conjuncts for DuckDB to push into the scan: a page filter on the
        # rollup took 80 ms less at 50M events.
        if filter_.operator in ("==", "!="):
            marks = ", ".join("?" for _ in filter_.values)
            test = Sql(f"{value.text} IN ({marks})", value.params + filter_.values)
        else:
            # The value's SQL is repeated once per alternative, and its own parameters with it.
            needles = tuple(alternative.lower() for alternative in filter_.values)
            params = tuple(p for needle in needles for p in (*value.params, needle))
            test = Sql(f"({self.contains(value.text, len(needles))})", params)
        positive = Sql(f"({value.text} IS NOT NULL AND {test.text})", value.params + test.params)
        return Sql(f"NOT {positive.text}", positive.params) if filter_.negated else positive


def _duckdb_contains(value: str, alternatives: int) -> str:
    # strpos on lower-cased text: a plain substring test, so % and _ in a value mean themselves
    # (LIKE would need escaping).
    return " OR ".join(f"strpos(lower({value}), ?) > 0" for _ in range(alternatives))


# Plausible's screen classes, by the width the tracker reports.
_SCREEN_CLASS = (
    "CASE WHEN screen_width IS NULL THEN NULL WHEN screen_width < 576 THEN 'Mobile' "
    "WHEN screen_width < 992 THEN 'Tablet' WHEN screen_width < 1440 THEN 'Laptop' ELSE 'Desktop' END"
)

# A time series' bucket per row is a time zone conversion (ICU) per row: counting 950,000 sessions
# (50M events) by local day took 480 ms, by UTC day 17. So the window is cut into slots of a
# quarter of an hour or more (at most _MAX_SLOTS), each slot's bucket is converted once (the list
# below) and a row takes its slot's (75 ms). A slot whose two ends are not in one bucket at one UTC
# offset (a bucket boundary or a clock change inside it: a zone off the quarter hour, the wide
# slots of a long window) has none, and its rows are converted one by one as before: the same
# answer in every zone (tests/store/test_report_sql.py, across clock changes and odd offsets).
_SLOT_MINUTES = (15, 30, 60, 120, 180, 360, 720, 1440)  # each divides a day
_MAX_SLOTS = 3000
_EPOCH = datetime(1970, 1, 1)


def slot_minutes(start: datetime, end: datetime) -> int:
    """The width of the slots a window of [start, end) is cut into (see `slotted_bucket`)."""
    minutes = (end - start) / timedelta(minutes=1)
    return next((width for width in _SLOT_MINUTES if minutes / width <= _MAX_SLOTS), _SLOT_MINUTES[-1])


def slotted_bucket(column: str, interval: str, tz: str, start: datetime, end: datetime) -> Sql:
    """DuckDB: the bucket of the row's slot of [start, end), NULL where the slot has none (or
    the row lies outside the window)."""
    width_us = slot_minutes(start, end) * 60_000_000
    # Slots start at local midnight (at the window's first offset): a bucket boundary then falls
    # between two slots, unless the clock changes later in the window.
    offset = start.replace(tzinfo=UTC).astimezone(ZoneInfo(tz)).utcoffset() or timedelta(0)
    offset_us = offset // timedelta(microseconds=1)
    first_us = ((start - _EPOCH) // timedelta(microseconds=1) + offset_us) // width_us * width_us - offset_us
    first = _EPOCH + timedelta(microseconds=first_us)
    # Per slot [s, s + width): its local start and last microsecond, and the bucket of both when
    # they are one bucket and the clock moved as much as UTC between them (no change of offset).
    slots = Sql(
        "(SELECT list(CASE WHEN l1 - l0 = to_microseconds(?) AND date_trunc(?, l0) = date_trunc(?, l1) "
        "THEN date_trunc(?, l0) END ORDER BY s) FROM (SELECT s, timezone(?, s AT TIME ZONE 'UTC') AS l0, "
        "timezone(?, (s + to_microseconds(?)) AT TIME ZONE 'UTC') AS l1 "
        "FROM range(?::TIMESTAMP, ?::TIMESTAMP, to_microseconds(?)) AS slots(s)))",
        (width_us - 1, interval, interval, interval, tz, tz, width_us - 1, first, end, width_us),
    )
    # A row before the first slot would index the list from its end.
    return Sql(
        f"CASE WHEN {column} >= ? THEN {slots.text}[(epoch_us({column}) - ?) // ? + 1] END",
        (first, *slots.params, first_us, width_us),
    )


def _duckdb_local_bucket(column: str, interval: str, tz: str, start: datetime, end: datetime) -> Sql:
    slotted = slotted_bucket(column, interval, tz, start, end)
    return Sql(
        f"coalesce({slotted.text}, date_trunc(?, timezone(?, {column} AT TIME ZONE 'UTC')))",
        (*slotted.params, interval, tz),
    )


DUCKDB = Dialect(
    session_values={
        "source": Sql("source"),
        "referrer": Sql("referrer_host"),
        "utm_source": Sql("utm_source"),
        "utm_medium": Sql("utm_medium"),
        "utm_campaign": Sql("utm_campaign"),
        "utm_term": Sql("utm_term"),
        "utm_content": Sql("utm_content"),
        "entry_page": Sql("entry_path"),
        "exit_page": Sql("exit_path"),  # known once the session has ended
        "country": Sql("country"),
        "browser": Sql("browser"),
        "os": Sql("os"),
        "device": Sql("device"),
        "screen": Sql(_SCREEN_CLASS),
        "language": Sql("language"),
        "project": Sql("project"),
    },
    # Over the population of `store/reports.py`: one row per session, with `visitor_key` its
    # visitor, `views` and `event_total` its page views and events (counted live for sessions still
    # open), `goal_hits` its conversions on the goals of the goal filters. Rates are percentages.
    session_metrics={
        # By the visitor's 60-bit key (store/visitors.py), which every session row keeps, rather than
        # its 64-character id: distinct visitors of 950,000 sessions took 455 ms by id, 138 by key.
        "visitors": "count(DISTINCT visitor_key)",
        "sessions": "count(*)",
        "pageviews": "sum(views)",
        "events": "sum(event_total)",
        "views_per_session": "sum(views) / nullif(count(*), 0)",
        "bounce_rate": "100.0 * avg(CASE WHEN page_views <= 1 THEN 1.0 ELSE 0.0 END) "
        "FILTER (WHERE ended_at IS NOT NULL)",
        "avg_engaged_ms": "avg(engaged_ms) FILTER (WHERE ended_at IS NOT NULL)",
        "avg_score": "avg(engagement_score)",
        "conversions": "sum(goal_hits)",  # the goal filters' conversions (store/conversions.py)
        # conversion_rate (the sessions with a lead) is counted from the leads joined to their
        # sessions, and goal_conversion_rate divides the row's visitors by those without the goal
        # filters, a second population: both in store/reports.session_report.
    },
    # Over the rollup's rows of an event dimension (store/rollup.py): one per hour, value and
    # session, `hits` the matching events (page views for `page`), the ids as 64-bit keys.
    event_metrics={
        "visitors": "count(DISTINCT visitor_key)",
        "sessions": "count(DISTINCT session_key)",
        "pageviews": "sum(hits)",
        "events": "sum(hits)",
    },
    approximate_event_metrics={
        "visitors": "approx_count_distinct(visitor_key)",
        "sessions": "approx_count_distinct(session_key)",
    },
    contains=_duckdb_contains,
    local_bucket=_duckdb_local_bucket,
)


def _clickhouse_local_bucket(column: str, interval: str, tz: str, start: datetime, end: datetime) -> Sql:
    # ClickHouse converts zones per row fast (no slots needed). The bucket is read back as local
    # wall-clock time through its text, whichever client decodes it.
    return Sql(f"toDateTime64(toString(date_trunc(?, toTimeZone({column}, ?))), 6)", (interval, tz))


# The same words, said where ClickHouse says them differently (the rest its cursor translates:
# store/clickhouse/dialect.py).
CLICKHOUSE = replace(DUCKDB, local_bucket=_clickhouse_local_bucket)


def dialect_of(cursor: object) -> Dialect:
    """The dialect of the store `cursor` reads."""
    from pulsegate.store.clickhouse.cursor import is_clickhouse

    return CLICKHOUSE if is_clickhouse(cursor) else DUCKDB
