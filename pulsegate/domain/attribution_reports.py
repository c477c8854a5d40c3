"""The attribution report's vocabulary, declared once: models, dimensions and metrics (pure).

GET /analytics/attribution credits each lead created in the window to the values of its touches
(`domain/attribution.py` decides the touches at capture):

- `first`: all of it to the first touch; `last`: all of it to the last touch; `linear`: an equal
  share to every touch (a lead with three touches gives a third to each).
- Spam leads never count as leads, qualified, won or revenue; they count in `spam_share`.
- `qualified`: leads the CRM ever marked qualified or won; `won`: leads whose latest stage is won;
  `revenue`: the won leads' values, per currency (never converted).
- `conversion_rate`: the credited leads per 100 sessions of that value that started in the
  window (a session's own value: its source, entry page, country, ...).
- `median_time_to_convert_ms` and `avg_touches`: over the value's leads (not spam), each lead
  once whatever its share.
- Lead quality, in % of the value's leads (spam included, shares weighted as leads are):
  `spam_share`; `hosting_share`, leads whose session came from a hosting or VPN network;
  `low_engagement_share`, leads whose session scored under LOW_ENGAGEMENT_SCORE at capture
  (the last two over the leads that had a known session).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from pulsegate.domain.reports import Metric, Order, parse_order
from pulsegate.errors import InvalidInput

Model = Literal["first", "last", "linear"]
MODELS: tuple[Model, ...] = ("first", "last", "linear")
LOW_ENGAGEMENT_SCORE = 20


@dataclass(frozen=True, slots=True)
class AttributionDimension:
    """A value a lead is credited to: a column of its touches, and the same value of a session."""

    name: str
    label: str
    touch_column: str  # a field of each touch in leads.touch_list
    session_dimension: str  # the reports' dimension (domain/reports.DIMENSIONS) with a session's value


ATTRIBUTION_DIMENSIONS: dict[str, AttributionDimension] = {
    dimension.name: dimension
    for dimension in (
        AttributionDimension("source", "Source", "source", "source"),
        AttributionDimension("referrer", "Referrer", "referrer_host", "referrer"),
        AttributionDimension("utm_source", "UTM source", "utm_source", "utm_source"),
        AttributionDimension("utm_medium", "UTM medium", "utm_medium", "utm_medium"),
        AttributionDimension("utm_campaign", "UTM campaign", "utm_campaign", "utm_campaign"),
        AttributionDimension("utm_content", "UTM content", "utm_content", "utm_content"),
        AttributionDimension("utm_term", "UTM term", "utm_term", "utm_term"),
        AttributionDimension("landing_page", "Landing page", "landing_page", "entry_page"),
        AttributionDimension("country", "Country", "country", "country"),
        AttributionDimension("device", "Device", "device", "device"),
    )
}


@dataclass(frozen=True, slots=True)
class AttributionMetric:
    name: str
    label: str
    rankable: bool = True  # revenue is an amount per currency: rows cannot be ordered by it


ATTRIBUTION_METRICS: dict[str, AttributionMetric] = {
    metric.name: metric
    for metric in (
        AttributionMetric("leads", "Leads"),
        AttributionMetric("qualified", "Qualified"),
        AttributionMetric("won", "Won"),
        AttributionMetric("revenue", "Revenue", rankable=False),
        AttributionMetric("conversion_rate", "Conversion rate (%)"),
        AttributionMetric("median_time_to_convert_ms", "Median time to convert (ms)"),
        AttributionMetric("avg_touches", "Average touches"),
        AttributionMetric("spam_share", "Spam (%)"),
        AttributionMetric("hosting_share", "Hosting or VPN (%)"),
        AttributionMetric("low_engagement_share", "Low engagement (%)"),
    )
}


def parse_model(text: str | None) -> Model:
    """`first`, `last` (the default) or `linear`."""
    if text is None or text == "":
        return "last"
    if text not in MODELS:
        raise InvalidInput(f"model: must be one of {', '.join(MODELS)} (got {text!r})")
    return text  # type: ignore[return-value]


def attribution_dimension(name: str | None) -> AttributionDimension:
    """The dimension called `name` (default `source`), or InvalidInput listing them."""
    found = ATTRIBUTION_DIMENSIONS.get(name or "source")
    if found is None:
        raise InvalidInput(f"dimension: unknown {name!r}; one of {', '.join(ATTRIBUTION_DIMENSIONS)}")
    return found


def attribution_metrics(text: str | None) -> tuple[AttributionMetric, ...]:
    """`metrics=a,b` as known metrics in order (every metric when none is named)."""
    if not text or not text.strip():
        return tuple(ATTRIBUTION_METRICS.values())
    chosen: list[AttributionMetric] = []
    for name in (part.strip() for part in text.split(",") if part.strip()):
        metric = ATTRIBUTION_METRICS.get(name)
        if metric is None:
            raise InvalidInput(f"metrics: unknown {name!r}; known: {', '.join(ATTRIBUTION_METRICS)}")
        if metric not in chosen:
            chosen.append(metric)
    if not chosen:
        raise InvalidInput("metrics: name at least one")
    return tuple(chosen)


def attribution_order(text: str | None, metrics: Iterable[AttributionMetric]) -> Order:
    """`METRIC:desc|asc` over a rankable metric of the report (not revenue, an amount per
    currency); by default its first, descending (leads when it asks for revenue alone)."""
    rankable = tuple(Metric(m.name, m.label, ("session",)) for m in metrics if m.rankable)
    return parse_order(text, rankable or (Metric("leads", "Leads", ("session",)),))
