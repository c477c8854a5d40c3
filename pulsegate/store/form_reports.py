"""SQL of the forms report: each form's views, starts, submits, leads and spam, and their rates."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import duckdb

from pulsegate.domain.lead_views import LeadFilter
from pulsegate.domain.reports import Dimension, Filter
from pulsegate.store import rollup
from pulsegate.store.lead_queries import lead_where
from pulsegate.store.queries import Scope
from pulsegate.store.report_sql import DUCKDB, Dialect, Sql
from pulsegate.store.reports import Ranking, Row, counted_sessions, ranked

# Sessions from the window's start on: its end bounds when sessions started, not their events.
_EVER = datetime(9999, 1, 1)
_RATES = {
    "start_rate": "100.0 * starts / nullif(views, 0)",
    "submit_rate": "100.0 * submits / nullif(starts, 0)",
    "lead_rate": "100.0 * leads / nullif(submits, 0)",
    "conversion_rate": "100.0 * leads / nullif(views, 0)",
}


def form_rows(
    cursor: duckdb.DuckDBPyConnection,
    scope: Scope,
    filters: Sequence[Filter],
    by: Dimension | None,
    form: str | None,
    ranking: Ranking,
    *,
    dialect: Dialect = DUCKDB,
    tracked_only: bool = False,
) -> tuple[list[Row], int]:
    """Rows of `{"value", views, starts, …}`: one per form label, or (`by`) one per value of a
    session dimension for the form `form`; ranked and paged, and how many there are.
    `tracked_only`: only the forms the tracker saw on the site's pages, not a label that only
    leads carry (a lead's `source` is whatever its sender typed: share links must not show it)."""
    coverage = rollup.coverage(cursor)
    sessions_where = counted_sessions(scope, filters, dialect, coverage=coverage)
    value = dialect.session_value(by) if by is not None else Sql("NULL")
    leads_where, leads_params = lead_where(
        LeadFilter(scope.projects, scope.start, scope.end, filters=tuple(filters)), coverage
    )
    one_form = Sql("value = ?", (form,)) if form is not None else Sql("TRUE")
    one_source = Sql("leads.source = ?", (form,)) if form is not None else Sql("TRUE")
    # A row is a form (no breakdown) or a value of `by` (one form).
    row_of_event, row_of_lead = ("grp", "lead_sessions.grp") if by is not None else ("value", "leads.source")
    # A session's events arrive after it started: from the window's start on, from the rollup's
    # form facts where it holds the hours. Form views are in their own table (migration 0011),
    # named as the events name the form.
    facts = rollup.fact_rows(rollup.FORMS, scope.start, _EVER, coverage)
    ctes = [
        Sql(
            f"chosen AS (SELECT hash(session_id) AS session_key, {value.text} AS grp FROM sessions "
            f"WHERE {sessions_where.text})",
            value.params + sessions_where.params,
        ),
        # Each session's steps on each row (one pass: a distinct count per step read the rows thrice).
        Sql(
            f"session_steps AS (SELECT {row_of_event} AS row_value, session_key, "
            "bool_or(kind = 'form_view') AS viewed, bool_or(kind = 'form_start') AS started, "
            "bool_or(kind = 'form_submit') AS submitted "
            f"FROM (SELECT kind, value, session_key FROM ({facts.text}) "
            "UNION ALL SELECT 'form_view', form, hash(session_id) FROM form_views "
            "WHERE received_at >= ? AND NOT is_bot) AS seen "
            f"JOIN chosen USING (session_key) WHERE {one_form.text} GROUP BY row_value, session_key)",
            (*facts.params, scope.start, *one_form.params),
        ),
        Sql(
            "steps AS (SELECT row_value, count(*) FILTER (WHERE viewed) AS views, "
            "count(*) FILTER (WHERE started) AS starts, count(*) FILTER (WHERE submitted) AS submits "
            "FROM session_steps GROUP BY row_value)"
        ),
        # A lead's row is its form's, or (`by`) its session's value (its session may have started
        # before the window).
        Sql(
            f"sent AS (SELECT {row_of_lead} AS row_value, "
            "count(*) FILTER (WHERE NOT leads.is_spam) AS leads, "
            "count(*) FILTER (WHERE leads.is_spam) AS spam "
            f"FROM (SELECT * FROM leads WHERE {leads_where}) AS leads "
            f"LEFT JOIN (SELECT session_id, {value.text} AS grp FROM sessions "
            f"WHERE session_id IN (SELECT session_id FROM leads WHERE {leads_where})) AS lead_sessions "
            "ON lead_sessions.session_id = leads.session_id "
            f"WHERE {one_source.text} GROUP BY row_value)",
            (*leads_params, *value.params, *leads_params, *one_source.params),
        )
        if by is not None
        else Sql(
            "sent AS (SELECT leads.source AS row_value, count(*) FILTER (WHERE NOT leads.is_spam) AS leads, "
            "count(*) FILTER (WHERE leads.is_spam) AS spam "
            f"FROM leads WHERE {leads_where} AND {one_source.text} GROUP BY row_value)",
            (*leads_params, *one_source.params),
        ),
        Sql(
            "counts AS (SELECT coalesce(steps.row_value, sent.row_value) AS row_value, "
            "coalesce(views, 0) AS views, coalesce(starts, 0) AS starts, coalesce(submits, 0) AS submits, "
            "coalesce(leads, 0) AS leads, coalesce(spam, 0) AS spam "
            f"FROM steps {'LEFT' if tracked_only and by is None else 'FULL'} JOIN sent "
            "ON steps.row_value IS NOT DISTINCT FROM sent.row_value)"
        ),
    ]
    columns = [
        "views",
        "starts",
        "submits",
        "leads",
        "spam",
        *(f"{sql} AS {name}" for name, sql in _RATES.items()),
    ]
    return ranked(cursor, ctes, "counts", "row_value", columns, True, ranking)
