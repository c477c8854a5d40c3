"""The forms report's vocabulary: what GET /analytics/forms counts for each lead form (pure).

A form is named by its label: the `source` its leads carry, which is also the name the tracker
gives its events (`data-pulsegate-source`, else the form's name, id or action). For the sessions
that started in the window and pass the filters (as every session report counts), per form:

- views, starts, submits: sessions in which the form came into view (`form_view`, sent by
  form.js beside the tracker), was first typed in (`form_start`), was sent (`form_submit`);
- leads and spam: leads with that source created in the window (spam apart, as always);
- the rates between the steps, in %: start_rate = starts / views, submit_rate = submits /
  starts, lead_rate = leads / submits, conversion_rate = leads / views.
"""

from __future__ import annotations

from pulsegate.domain.reports import Dimension, Metric, Order, dimension, parse_order
from pulsegate.errors import InvalidInput

# (name, label, how the SQL of store/form_reports.py computes it over a row's counts)
FORM_METRICS: tuple[tuple[str, str], ...] = (
    ("views", "Views"),
    ("starts", "Starts"),
    ("submits", "Submits"),
    ("leads", "Leads"),
    ("spam", "Spam"),
    ("start_rate", "Start rate (%)"),
    ("submit_rate", "Submit rate (%)"),
    ("lead_rate", "Lead rate (%)"),
    ("conversion_rate", "Conversion rate (%)"),
)
FORM_METRIC_NAMES = tuple(name for name, _ in FORM_METRICS)
COUNTED = frozenset({"views", "starts", "submits", "leads", "spam"})


def form_breakdown(name: str | None, form: str | None) -> Dimension | None:
    """The session dimension one form is broken down by (`dimension=` needs `form=`), or None
    for one row per form."""
    if name is None or name == "":
        if form is not None:
            raise InvalidInput("form: breaks one form down by a dimension: add dimension=")
        return None
    if form is None:
        raise InvalidInput("dimension: breaks one form down: name it with form=")
    if len(form) > 100:
        raise InvalidInput("form: at most 100 characters")
    chosen = dimension(name)
    if chosen.scope != "session":
        raise InvalidInput(f"dimension: {name} is an event dimension; forms break down by session ones")
    return chosen


def form_order(text: str | None) -> Order:
    """`METRIC:desc|asc` over the report's metrics; by default views, descending."""
    metrics = tuple(Metric(name, label, ("session",)) for name, label in FORM_METRICS)
    return parse_order(text, metrics)
