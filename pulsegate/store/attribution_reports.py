"""SQL of the attribution report: leads credited to their touches' values, by model."""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from pulsegate.domain.attribution_reports import LOW_ENGAGEMENT_SCORE as LOW_SCORE
from pulsegate.domain.attribution_reports import AttributionDimension, Model
from pulsegate.domain.lead_views import LeadFilter
from pulsegate.domain.reports import DIMENSIONS, Filter
from pulsegate.store import rollup
from pulsegate.store.clickhouse.cursor import is_clickhouse
from pulsegate.store.lead_queries import lead_where
from pulsegate.store.queries import Scope
from pulsegate.store.report_sql import DUCKDB, Dialect, Sql
from pulsegate.store.reports import Ranking, Row, counted_sessions, ranked

# Which of a lead's touches (lead_attribution.touch_list) each model credits, and with what weight.
_CREDITED: dict[Model, tuple[str, str]] = {
    "first": ("touch_list[first_touch]", "CAST(1 AS DOUBLE)"),
    "last": ("touch_list[last_touch]", "CAST(1 AS DOUBLE)"),
    "linear": ("unnest(touch_list)", "CAST(1 AS DOUBLE) / touches"),
}
# Over `credited`: one row per (lead, credited touch) with the lead's columns and its weight `w`.
_AGGREGATES = {
    # Shares of leads are rounded to 6 places: a third summed thrice is 1, not 0.9999999999999999.
    "leads": "round(coalesce(sum(w) FILTER (WHERE NOT is_spam), 0), 6)",
    "qualified": "round(coalesce(sum(w) FILTER (WHERE NOT is_spam AND qualified), 0), 6)",
    "won": "round(coalesce(sum(w) FILTER (WHERE NOT is_spam AND stage = 'won'), 0), 6)",
    "median_time_to_convert_ms": "median(time_to_convert_ms) FILTER (WHERE NOT is_spam)",
    "avg_touches": "avg(touches) FILTER (WHERE NOT is_spam)",
    "spam_share": "100.0 * coalesce(sum(w) FILTER (WHERE is_spam), 0) / sum(w)",
    "hosting_share": "100.0 * coalesce(sum(w) FILTER (WHERE from_hosting), 0) "
    "/ nullif(sum(w) FILTER (WHERE from_hosting IS NOT NULL), 0)",
    "low_engagement_share": f"100.0 * coalesce(sum(w) FILTER (WHERE converting_score < {LOW_SCORE}), 0) "
    "/ nullif(sum(w) FILTER (WHERE converting_score IS NOT NULL), 0)",
}
# The won leads' credited values, summed per currency below. In the same pass as the other
# aggregates: a second pass over `credited` made DuckDB keep it whole, which did not fit in 64 MB
# at 100k leads (bench/attribution.py).
_WON_VALUES = (
    "list({'currency': stage_currency, 'amount': w * stage_value}) "
    "FILTER (WHERE NOT is_spam AND stage = 'won' AND stage_value IS NOT NULL)"
)
_REVENUE = (
    "list_transform(list_sort(list_distinct(list_transform(won_values, lambda v: v.currency))), "
    "lambda c: {'currency': c, 'amount': round(list_sum(list_transform("
    "list_filter(won_values, lambda v: v.currency = c), lambda v: v.amount)), 6)})"
)


# The same on ClickHouse: (currency, amount) tuples, summed per currency into named tuples, which
# arrive as the same {currency, amount} objects.
_WON_VALUES_CLICKHOUSE = (
    "groupArray(tuple(stage_currency, assumeNotNull(w * stage_value))) "
    "FILTER (WHERE NOT is_spam AND stage = 'won' AND stage_value IS NOT NULL)"
)
_REVENUE_CLICKHOUSE = (
    "arrayMap(c -> CAST(tuple(c, round(arraySum(arrayMap(v -> v.2, "
    "arrayFilter(v -> v.1 IS NOT DISTINCT FROM c, won_values))), 6)), "
    "'Tuple(currency Nullable(String), amount Float64)'), "
    "arraySort(arrayDistinct(arrayMap(v -> v.1, won_values))))"
)


def attribution_rows(
    cursor: duckdb.DuckDBPyConnection,
    scope: Scope,
    filters: Sequence[Filter],
    model: Model,
    dimension: AttributionDimension,
    ranking: Ranking,
    *,
    dialect: Dialect = DUCKDB,
) -> tuple[list[Row], int]:
    """Rows of `{"value", metric…}` for the leads created in the window (every metric; revenue as
    a list of {currency, amount}), ranked and paged, and how many rows there are."""
    coverage = rollup.coverage(cursor) if any(f.dimension.scope == "event" for f in filters) else None
    chosen_where, chosen_params = lead_where(
        LeadFilter(scope.projects, scope.start, scope.end, filters=tuple(filters)), coverage
    )
    touched, weight = _CREDITED[model]
    won_values, revenue = (
        (_WON_VALUES_CLICKHOUSE, _REVENUE_CLICKHOUSE) if is_clickhouse(cursor) else (_WON_VALUES, _REVENUE)
    )
    sessions_where = counted_sessions(scope, filters, dialect, coverage=coverage)
    session_value = dialect.session_value(DIMENSIONS[dimension.session_dimension])
    ctes = [
        Sql(
            "chosen AS (SELECT lead_id, is_spam, touches, touch_list, first_touch, last_touch, "
            "time_to_convert_ms, from_hosting, converting_score, stage, stage_value, stage_currency, "
            "lead_id IN (SELECT lead_id FROM lead_stages WHERE stage IN ('qualified', 'won')) AS qualified "
            f"FROM leads JOIN lead_attribution USING (lead_id) WHERE {chosen_where})",
            tuple(chosen_params),
        ),
        Sql(f"touched AS (SELECT * EXCLUDE (touch_list), {touched} AS touch, {weight} AS w FROM chosen)"),
        Sql(f"credited AS (SELECT *, touch.{dimension.touch_column} AS grp FROM touched)"),
        Sql(
            "by_value AS (SELECT grp, "
            + ", ".join(f"{aggregate} AS {name}" for name, aggregate in _AGGREGATES.items())
            + f", {won_values} AS won_values FROM credited GROUP BY grp)"
        ),
        Sql(
            f"visits AS (SELECT {session_value.text} AS grp, count(*) AS sessions FROM sessions "
            f"WHERE {sessions_where.text} GROUP BY grp)",
            session_value.params + sessions_where.params,
        ),
    ]
    source = "by_value LEFT JOIN visits ON visits.grp IS NOT DISTINCT FROM by_value.grp"
    columns = [
        *(f"by_value.{name} AS {name}" for name in _AGGREGATES),
        f"coalesce({revenue}, []) AS revenue",
        "100.0 * by_value.leads / nullif(visits.sessions, 0) AS conversion_rate",
    ]
    return ranked(cursor, ctes, source, "by_value.grp", columns, True, ranking)
