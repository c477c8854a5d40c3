"""When a report may add imported daily totals (Plausible's), from which file, and how (pure).

An export is one table per question (visitors per day, sources per day, pages per day, …), each
already aggregated, so a report can add exactly one of them: the one that carries its dimension
and every dimension it is filtered by, as Plausible's own `decide_tables` does. Otherwise the
answer says why the imported days are left out instead of mixing numbers that do not belong
together. How the numbers combine:

- counts add: visitors, sessions (the export's visits), page views, events (custom events, or for
  session rows the page views, the only events the export knows of those sessions);
- a visitor is counted once per day and row in the export: imported visitors over several days
  are the sum of the daily uniques (Plausible does the same);
- rates and averages are recombined, weighted by sessions: bounce rate, views per session;
- what the export cannot say (engaged time, engagement scores, leads, goal conversions) is
  PulseGate's own data alone, and the answer names those metrics.

An imported day counts at its local noon in the report's time zone, so day, week and month
buckets hold it whole; hours and realtime cannot use it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from pulsegate.domain.periods import Window
from pulsegate.domain.reports import GOAL, Dimension, Filter

# PulseGate dimension -> the export kind that carries it. `project` is on every imported row.
KIND_OF: dict[str, str] = {
    "source": "sources",
    "referrer": "sources",
    "utm_source": "sources",
    "utm_medium": "sources",
    "utm_campaign": "sources",
    "utm_term": "sources",
    "utm_content": "sources",
    "page": "pages",
    "entry_page": "entry_pages",
    "exit_page": "exit_pages",
    "event": "custom_events",
    "outbound": "custom_events",
    "download": "custom_events",
    "country": "locations",
    "device": "devices",
    "browser": "browsers",
    "os": "operating_systems",
}
EVERY_KIND = "project"
# The metrics each kind can give (the export's columns), in PulseGate's names.
SESSION_KIND_METRICS = frozenset(
    {"visitors", "sessions", "pageviews", "events", "views_per_session", "bounce_rate"}
)
KIND_METRICS: dict[str, frozenset[str]] = {
    "visitors": SESSION_KIND_METRICS,
    "sources": SESSION_KIND_METRICS,
    "entry_pages": SESSION_KIND_METRICS,
    "exit_pages": SESSION_KIND_METRICS,
    "locations": SESSION_KIND_METRICS,
    "devices": SESSION_KIND_METRICS,
    "browsers": SESSION_KIND_METRICS,
    "operating_systems": SESSION_KIND_METRICS,
    "pages": frozenset({"visitors", "sessions", "pageviews"}),
    "custom_events": frozenset({"visitors", "events"}),
}
# Files of one row per page or custom event: a session that saw several is in several rows.
EVENT_KINDS = frozenset({"pages", "custom_events"})
INCLUDED, EXCLUDED = "included", "excluded"
NO_LEADS = "this report divides leads by sessions, and imported days have no leads"


class ImportedRange(msgspec.Struct, kw_only=True):
    """The imported days an answer's window holds (inclusive, in the report's time zone)."""

    first_day: date = msgspec.field(name="from")
    last_day: date = msgspec.field(name="to")


@dataclass(frozen=True, slots=True)
class Plan:
    """What a report does with the imported days of its window: add `kind`, or not, and why."""

    kind: str | None
    reason: str | None = None  # when kind is None: why the imported days are left out
    native_only: tuple[str, ...] = ()  # metrics the export cannot give
    usable: frozenset[str] = frozenset()  # the metrics it adds to


def plan(
    dimension: Dimension | None,
    filters: Sequence[Filter],
    metrics: Iterable[str],
    *,
    interval: str | None = None,
    include: bool = True,
) -> Plan:
    """Which export kind answers a breakdown by `dimension` (None: totals or a time series by
    `interval`) under `filters`, or why none does."""
    if not include:
        return Plan(None, "include_imported=false")
    if interval == "hour":
        return Plan(None, "imported data is daily: it cannot be shown by the hour")
    kinds: set[str] = set()
    for name in [dimension.name] if dimension else []:
        if name != EVERY_KIND and name not in KIND_OF:
            return Plan(None, f"the imported data has no {name} breakdown")
        if name in KIND_OF:
            kinds.add(KIND_OF[name])
    by_rows = False  # an event file chosen only by a filter: its rows are not the report's rows
    for filter_ in filters:
        name = filter_.dimension.name
        if filter_.dimension == GOAL:
            return Plan(None, "goal filters need PulseGate's own sessions")
        if name != EVERY_KIND and name not in KIND_OF:
            return Plan(None, f"the imported data cannot be filtered by {name}")
        if KIND_OF.get(name) in EVENT_KINDS:
            # `page!=/x` keeps the sessions that never saw /x; the export cannot tell them, nor
            # which visitors saw two of the pages a filter names.
            if filter_.negated:
                return Plan(None, f"the imported data cannot tell the sessions without a {name}")
            if dimension is None or dimension.name != name:
                if filter_.operator != "==" or len(filter_.values) != 1:
                    return Plan(None, f"the imported data counts each {name} apart: filter on one (==)")
                by_rows = True
        if name in KIND_OF:
            kinds.add(KIND_OF[name])
    if len(kinds) > 1:
        return Plan(None, f"no imported table holds {' and '.join(sorted(kinds))} together")
    kind = kinds.pop() if kinds else "visitors"
    usable = KIND_METRICS[kind]
    if by_rows:
        # The page's (or event's) visitors and sessions are those of the sessions that saw it; its
        # views are not all the views of those sessions, as PulseGate's own numbers are.
        usable = usable & {"visitors", "sessions"}
    native_only = tuple(name for name in metrics if name not in usable)
    return Plan(kind, native_only=native_only, usable=usable)


def imported_days(window: Window) -> tuple[date, date] | None:
    """The first and last day whose local noon (in the window's zone) lies in the window."""
    zone = ZoneInfo(window.tz)
    days = [day for day in window.local_days() if window.start_ms <= _noon_ms(day, zone) < window.end_ms]
    return (days[0], days[-1]) if days else None


def _noon_ms(day: date, zone: ZoneInfo) -> int:
    return int(datetime(day.year, day.month, day.day, 12, tzinfo=zone).timestamp() * 1000)


def held_range(
    window_days: tuple[date, date] | None, imports: Iterable[tuple[date, date]]
) -> ImportedRange | None:
    """The part of the window's days the imports cover (first to last imported day), if any."""
    if window_days is None:
        return None
    first, last = window_days
    spans = [(max(first, start), min(last, end)) for start, end in imports if start <= last and end >= first]
    if not spans:
        return None
    return ImportedRange(first_day=min(s for s, _ in spans), last_day=max(e for _, e in spans))


def note(plan_: Plan) -> str:
    """What an answer says about its imported days."""
    if plan_.kind is None:
        return f"imported data left out: {plan_.reason}"
    said = "imported days add their daily totals; visitors on them are daily uniques, summed"
    if plan_.native_only:
        said += f"; {', '.join(plan_.native_only)} count PulseGate's own data only"
    return said


@dataclass(frozen=True, slots=True)
class DailySums:
    """An export kind's sums for one value (or day): the columns every kind has."""

    visitors: int = 0
    visits: int = 0
    pageviews: int = 0
    bounces: int = 0
    events: int = 0


def add_sums(one: DailySums, other: DailySums) -> DailySums:
    """Two sums of the same file, added (days that fall in one time bucket)."""
    return DailySums(
        one.visitors + other.visitors, one.visits + other.visits, one.pageviews + other.pageviews,
        one.bounces + other.bounces, one.events + other.events,
    )  # fmt: skip


def add_imported(
    row: Mapping[str, Any], imported: DailySums, plan_: Plan, metrics: Iterable[str]
) -> dict[str, Any]:
    """A report row's metrics with `imported` added as the module's docstring says (`row` holds
    PulseGate's own numbers, zeros and nulls where it had none)."""
    merged = dict(row)
    usable = plan_.usable
    own_sessions = row.get("sessions") or 0
    imported_events = imported.events if plan_.kind == "custom_events" else imported.pageviews
    for name in metrics:
        if name not in usable:
            continue
        if name == "visitors":
            merged[name] = (row.get(name) or 0) + imported.visitors
        elif name == "sessions":
            merged[name] = own_sessions + imported.visits
        elif name == "pageviews":
            merged[name] = (row.get(name) or 0) + imported.pageviews
        elif name == "events":
            merged[name] = (row.get(name) or 0) + imported_events
        elif name == "views_per_session":
            merged[name] = _weighted(row.get(name), own_sessions, imported.pageviews, imported.visits, 1.0)
        elif name == "bounce_rate":
            merged[name] = _weighted(row.get(name), own_sessions, imported.bounces, imported.visits, 100.0)
    return merged


def _weighted(
    own: float | None, own_sessions: int, numerator: int, visits: int, scale: float
) -> float | None:
    """Own rate over own sessions, recombined with the imported numerator over its visits."""
    own_part, own_weight = (own * own_sessions, own_sessions) if own is not None else (0.0, 0)
    weight = own_weight + visits
    if weight == 0:
        return own
    return (own_part + scale * numerator) / weight


def merge_rows(
    own: Sequence[Mapping[str, Any]],
    imported: Mapping[Any, DailySums],
    plan_: Plan,
    metrics: Sequence[str],
    nothing: Mapping[str, Any],
) -> list[dict[str, Any]]:
    """Every value's row, PulseGate's own (`own`, each with its "value") plus the imported sums of
    that value; a value only imported starts from `nothing` (zeros and nulls)."""
    merged = []
    seen = set()
    for row in own:
        seen.add(row["value"])
        merged.append(add_imported(row, imported.get(row["value"], DailySums()), plan_, metrics))
    for value, sums in imported.items():
        if value not in seen:
            merged.append(add_imported({"value": value, **nothing}, sums, plan_, metrics))
    return merged


def rank_rows(
    rows: Sequence[dict[str, Any]], metric: str | None, descending: bool, limit: int | None, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """`rows` ranked as the SQL ranks them (by `metric`, nulls last, then by value, nulls last),
    one page of them, and how many there are."""

    def by_value(row: Mapping[str, Any]) -> tuple[bool, Any]:
        return (row["value"] is None, "" if row["value"] is None else row["value"])

    ordered = sorted(rows, key=by_value)
    if metric is not None:
        present = [row for row in ordered if row[metric] is not None]
        present.sort(key=lambda row: row[metric], reverse=descending)  # stable: ties stay by value
        ordered = present + [row for row in ordered if row[metric] is None]
    end = None if limit is None else offset + limit
    return ordered[offset:end], len(ordered)
