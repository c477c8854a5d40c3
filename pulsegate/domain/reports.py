"""The reports' vocabulary, declared once: dimensions, metrics and filter operators (pure).

Every report endpoint, the dashboard and the CLI speak these names; the store gives each its
SQL per engine (`store/report_sql.py`, later), so a second engine adds SQL, not reports.

A filter is `DIMENSION OP VALUE` without spaces (`country==DE`): `==` is, `!=` is not, `~`
contains (case-insensitive), `!~` does not contain. Values separated by `|` are alternatives
(`browser==Firefox|Safari`; `\\|` is a literal bar). Several filters must all hold. `!=` and `!~`
keep sessions with no value for the dimension, as Plausible does. A filter on an event dimension
selects the sessions that had such an event.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Literal

from pulsegate.domain.goals import Goal
from pulsegate.domain.periods import Window
from pulsegate.errors import InvalidInput

Scope = Literal["session", "event"]


@dataclass(frozen=True, slots=True)
class Dimension:
    """Something a report breaks down or filters by."""

    name: str
    scope: Scope  # a session's property, or an event's (page views, custom events, …)
    label: str  # for people: the dashboard's column, the CLI's header


DIMENSIONS: dict[str, Dimension] = {
    dimension.name: dimension
    for dimension in (
        Dimension("source", "session", "Source"),
        Dimension("referrer", "session", "Referrer"),
        Dimension("utm_source", "session", "UTM source"),
        Dimension("utm_medium", "session", "UTM medium"),
        Dimension("utm_campaign", "session", "UTM campaign"),
        Dimension("utm_term", "session", "UTM term"),
        Dimension("utm_content", "session", "UTM content"),
        Dimension("entry_page", "session", "Entry page"),
        Dimension("exit_page", "session", "Exit page"),
        Dimension("country", "session", "Country"),
        Dimension("browser", "session", "Browser"),
        Dimension("os", "session", "Operating system"),
        Dimension("device", "session", "Device"),
        Dimension("screen", "session", "Screen"),
        Dimension("language", "session", "Language"),
        Dimension("project", "session", "Project"),
        Dimension("page", "event", "Page"),
        Dimension("event", "event", "Event"),
        Dimension("outbound", "event", "Outbound link"),
        Dimension("download", "event", "Download"),
    )
}
# `goal==NAME` keeps the sessions that converted on the goal (in the window): a filter only, as
# each goal's numbers are GET /analytics/goals. Its values are goal names, resolved into the
# filter's `goals` by `with_goals` once the goals are read.
GOAL = Dimension("goal", "session", "Goal")
PROPERTY_PREFIX = "prop:"  # prop:KEY, a custom event property: an event dimension of its own
_PROPERTY_KEY = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def dimension(name: str) -> Dimension:
    """The dimension called `name` (including `prop:KEY`), or InvalidInput listing the known ones."""
    if name == GOAL.name:
        raise InvalidInput("dimension: goal is a filter (goal==NAME); GET /analytics/goals counts each goal")
    if name.startswith(PROPERTY_PREFIX):
        key = name[len(PROPERTY_PREFIX) :]
        if not _PROPERTY_KEY.match(key):
            raise InvalidInput(
                f"dimension: a property key is 1-64 letters, digits, '_', '.' or '-' (got {name!r})"
            )
        return Dimension(name, "event", key)
    found = DIMENSIONS.get(name)
    if found is None:
        raise InvalidInput(f"dimension: unknown {name!r}; known: {', '.join(DIMENSIONS)}, prop:KEY")
    return found


@dataclass(frozen=True, slots=True)
class Metric:
    """A number a report computes per row."""

    name: str
    label: str
    scopes: tuple[Scope, ...]  # the dimensions it makes sense for
    only_for: frozenset[str] = frozenset()  # for event dimensions: only these (empty: all of them)
    needs_goal: bool = False  # only in a report filtered by goal==NAME

    def applies_to(self, dimension: Dimension | None) -> bool:
        """Whether a breakdown by `dimension` (None: totals and time series) can compute it."""
        if dimension is None:
            return "session" in self.scopes
        if dimension.scope not in self.scopes:
            return False
        return dimension.scope == "session" or not self.only_for or dimension.name in self.only_for


METRICS: dict[str, Metric] = {
    metric.name: metric
    for metric in (
        Metric("visitors", "Visitors", ("session", "event")),
        Metric("sessions", "Sessions", ("session", "event")),
        Metric("pageviews", "Page views", ("session", "event"), frozenset({"page"})),
        Metric("events", "Events", ("session", "event")),
        Metric("views_per_session", "Views per session", ("session",)),
        Metric("bounce_rate", "Bounce rate (%)", ("session",)),
        # For pages: the engaged time reported on the page, per view.
        Metric("avg_engaged_ms", "Average engaged time (ms)", ("session", "event"), frozenset({"page"})),
        Metric("avg_score", "Average engagement score", ("session",)),
        Metric("leads", "Leads", ("session",)),
        Metric("conversion_rate", "Conversion rate (%)", ("session",)),
        # With a goal filter: the goals' conversions in the row's sessions, and the share of the
        # row's visitors (the goal filter left out) who converted.
        Metric("conversions", "Conversions", ("session",), needs_goal=True),
        Metric("goal_conversion_rate", "Goal conversion rate (%)", ("session",), needs_goal=True),
    )
}


def default_metrics(dimension: Dimension | None) -> tuple[str, ...]:
    """What a report shows when it names no metrics (Plausible's choice for each kind of row)."""
    if dimension is None or dimension.scope == "session":
        return ("visitors", "sessions", "bounce_rate", "avg_engaged_ms")
    if dimension.name == "page":
        return ("visitors", "pageviews", "avg_engaged_ms")
    return ("visitors", "events")


def metrics_for(names: Iterable[str], dimension: Dimension | None) -> tuple[Metric, ...]:
    """The metrics asked for, in order, each known and meaningful for a breakdown by `dimension`
    (None: totals and time series)."""
    chosen: list[Metric] = []
    for name in names:
        metric = METRICS.get(name)
        if metric is None:
            raise InvalidInput(f"metrics: unknown {name!r}; known: {', '.join(METRICS)}")
        if not metric.applies_to(dimension):
            usable = ", ".join(m.name for m in METRICS.values() if m.applies_to(dimension))
            what = f"the {dimension.name} dimension" if dimension else "totals"
            raise InvalidInput(f"metrics: {name} does not apply to {what}; these do: {usable}")
        if metric not in chosen:
            chosen.append(metric)
    if not chosen:
        raise InvalidInput("metrics: name at least one")
    return tuple(chosen)


Operator = Literal["==", "!=", "~", "!~"]
# Longest first, so `!=` is not read as `!` followed by `=`.
OPERATORS: tuple[Operator, ...] = ("==", "!=", "!~", "~")
NEGATED: frozenset[Operator] = frozenset({"!=", "!~"})
MAX_FILTERS = 10
MAX_ALTERNATIVES = 50
MAX_VALUE_LENGTH = 512


@dataclass(frozen=True, slots=True)
class Filter:
    """`dimension operator value|value…`: all filters of a report must hold."""

    dimension: Dimension
    operator: Operator
    values: tuple[str, ...]  # alternatives: any one of them
    goals: tuple[Goal, ...] = ()  # for goal==NAME: the goals the values name (`with_goals`)

    @property
    def negated(self) -> bool:
        """`!=` and `!~`: sessions without a value for the dimension are kept."""
        return self.operator in NEGATED


_FILTER = re.compile(r"^(?P<dimension>[A-Za-z_]+(?::[^=!~]+)?)(?P<operator>==|!=|!~|~)(?P<value>.*)$", re.S)


def parse_filter(text: str) -> Filter:
    """One `filter=` parameter, or InvalidInput naming what is wrong with it."""
    match = _FILTER.match(text)
    if not match:
        raise InvalidInput(
            f"filter: write DIMENSION OP VALUE without spaces, OP one of {', '.join(OPERATORS)} "
            f"(for example country==DE); got {text!r}"
        )
    values = split_alternatives(match["value"])
    if not values or any(not value for value in values):
        raise InvalidInput(f"filter: {text!r} has an empty value")
    if len(values) > MAX_ALTERNATIVES or any(len(value) > MAX_VALUE_LENGTH for value in values):
        raise InvalidInput(
            f"filter: at most {MAX_ALTERNATIVES} alternatives of {MAX_VALUE_LENGTH} characters each"
        )
    name = match["dimension"]
    by = GOAL if name == GOAL.name else dimension(name)
    return Filter(by, match["operator"], values)  # type: ignore[arg-type]


def parse_filters(texts: Iterable[str]) -> tuple[Filter, ...]:
    """Every `filter=` parameter of a request."""
    filters = tuple(parse_filter(text) for text in texts)
    if len(filters) > MAX_FILTERS:
        raise InvalidInput(f"filter: at most {MAX_FILTERS} filters")
    return filters


def split_alternatives(text: str) -> tuple[str, ...]:
    """`a|b\\|c` -> ("a", "b|c"): a bar separates alternatives unless a backslash escapes it."""
    values, current, escaped = [], [], False
    for char in text:
        if escaped:
            current.append(char if char == "|" else "\\" + char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "|":
            values.append("".join(current))
            current = []
        else:
            current.append(char)
    if escaped:
        current.append("\\")
    values.append("".join(current))
    return tuple(values)


def matches(filter_: Filter, value: str | None) -> bool:
    """Whether one value passes `filter_` (the reference the SQL must agree with).

    A missing value never passes `==` or `~` and always passes `!=` and `!~`.
    """
    if value is None:
        return filter_.negated
    if filter_.operator in ("==", "!="):
        hit = value in filter_.values
    else:
        lowered = value.lower()
        hit = any(alternative.lower() in lowered for alternative in filter_.values)
    return not hit if filter_.negated else hit


def passes_event_filter(filter_: Filter, values: Iterable[str | None]) -> bool:
    """Whether a session whose events of the filter's kind carry `values` passes an event filter
    (the reference the SQL must agree with).

    `==` and `~` need one matching event; `!=` and `!~` need that no event matches the positive
    form, so a session without such events passes them, as with a missing session value.
    """
    if filter_.negated:
        return all(matches(filter_, value) for value in values)
    return any(matches(filter_, value) for value in values)


Direction = Literal["asc", "desc"]


@dataclass(frozen=True, slots=True)
class Order:
    """How breakdown rows are ranked: by one of its metrics; ties by value, missing values last."""

    metric: str
    direction: Direction


def parse_order(text: str | None, metrics: tuple[Metric, ...]) -> Order:
    """`METRIC:desc|asc` (the direction defaults to desc); by default the first metric, descending."""
    if text is None or not text.strip():
        return Order(metrics[0].name, "desc")
    name, _, direction = text.strip().partition(":")
    direction = direction or "desc"
    if name not in {metric.name for metric in metrics}:
        raise InvalidInput(
            f"order: {name!r} is not one of this report's metrics ({', '.join(m.name for m in metrics)})"
        )
    if direction not in ("asc", "desc"):
        raise InvalidInput(f"order: direction must be asc or desc (got {direction!r})")
    return Order(name, direction)  # type: ignore[arg-type]


Compare = Literal["previous", "year"]
COMPARISONS: tuple[Compare, ...] = ("previous", "year")


def parse_compare(text: str | None) -> Compare | None:
    """`previous` (the same length just before) or `year` (the same dates a year earlier)."""
    if text is None or text == "":
        return None
    if text not in COMPARISONS:
        raise InvalidInput(f"compare: must be one of {', '.join(COMPARISONS)} (got {text!r})")
    return text  # type: ignore[return-value]


def parse_include_imported(text: str | None) -> bool:
    """`include_imported`: true (the default) adds imported history where it answers; false not."""
    if text is None or text == "" or text.lower() in ("true", "1", "yes"):
        return True
    if text.lower() in ("false", "0", "no"):
        return False
    raise InvalidInput(f"include_imported: true or false (got {text!r})")


def comparison_window(window: Window, compare: Compare) -> Window:
    """The window a comparison reads."""
    return window.previous if compare == "previous" else window.year_earlier


def split_metric_names(
    text: str | None, dimension: Dimension | None, *, default: tuple[str, ...] | None = None
) -> tuple[Metric, ...]:
    """`metrics=a,b` (or `default`, else the defaults for `dimension`) as known, applicable metrics."""
    if not text or not text.strip():
        return metrics_for(default or default_metrics(dimension), dimension)
    return metrics_for([name.strip() for name in text.split(",") if name.strip()], dimension)


def with_goals(filters: Iterable[Filter], goals: Iterable[Goal]) -> tuple[Filter, ...]:
    """`filters` with each goal filter holding the goals it names (`==`: by name, `~`: names that
    contain the value), or InvalidInput for `goal==NAME` naming no goal."""
    known = {goal.name: goal for goal in goals}
    resolved = []
    for filter_ in filters:
        if filter_.dimension == GOAL:
            if filter_.operator in ("==", "!="):
                unknown = [value for value in filter_.values if value not in known]
                if unknown:
                    names = ", ".join(sorted(known)) or "none yet (pulsegate goals add)"
                    raise InvalidInput(f"filter: no goal named {unknown[0]!r}; goals: {names}")
            positive = Filter(GOAL, "~" if filter_.operator in ("~", "!~") else "==", filter_.values)
            filter_ = replace(
                filter_, goals=tuple(goal for name, goal in sorted(known.items()) if matches(positive, name))
            )
        resolved.append(filter_)
    return tuple(resolved)


def needs_goals(filters: Iterable[Filter]) -> bool:
    """Whether a goal filter is among `filters` (its goals must then be read)."""
    return any(filter_.dimension == GOAL for filter_ in filters)


def check_goal_metrics(metrics: Iterable[Metric], filters: Iterable[Filter]) -> None:
    """InvalidInput when a metric that needs a goal filter is asked for without a positive one
    (`goal!=NAME` names what did not convert: there are no conversions to count)."""
    if any(filter_.dimension == GOAL and not filter_.negated for filter_ in filters):
        return
    for metric in metrics:
        if metric.needs_goal:
            raise InvalidInput(f"metrics: {metric.name} needs a goal filter (filter=goal==NAME or goal~TEXT)")


def describe(filter_: Filter) -> str:
    """A filter written back as its parameter (`browser==Firefox|Safari`)."""
    values = "|".join(value.replace("|", "\\|") for value in filter_.values)
    return f"{filter_.dimension.name}{filter_.operator}{values}"


@dataclass(frozen=True, slots=True)
class ReportQuery:
    """What every report is asked: the window, the projects the key may count, the filters that
    must all hold, and the earlier window to compare with, if any."""

    window: Window
    projects: tuple[str, ...] | None
    filters: tuple[Filter, ...] = ()
    compare: Compare | None = None
    include_imported: bool = True  # add imported history (domain/imported.py) where it answers

    @property
    def comparison(self) -> Window | None:
        return comparison_window(self.window, self.compare) if self.compare else None
