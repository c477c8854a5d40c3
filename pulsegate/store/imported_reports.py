"""SQL for the reports' imported part: one export kind's daily totals in a window, by value or day."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import duckdb

from pulsegate.domain.imported import DailySums
from pulsegate.domain.reports import Filter
from pulsegate.store.report_sql import DUCKDB, Sql, all_of, projects_in

COMPLETE_DAILY = "SELECT id FROM imports WHERE status = 'complete' AND origin = 'plausible'"


def import_spans(
    cursor: duckdb.DuckDBPyConnection, projects: tuple[str, ...] | None
) -> list[tuple[date, date]]:
    """The days each complete daily import of `projects` (None: any) covers."""
    scoped = projects_in(projects)
    return cursor.execute(
        f"SELECT first_day, last_day FROM imports WHERE id IN ({COMPLETE_DAILY}) AND {scoped.text}",
        list(scoped.params),
    ).fetchall()


def imported_totals(
    cursor: duckdb.DuckDBPyConnection,
    kind: str,
    days: tuple[date, date],
    projects: tuple[str, ...] | None,
    filters: Sequence[Filter],
    value: str | None,
    *,
    skip_missing: bool = False,
) -> dict[Any, DailySums]:
    """Sums of `kind`'s rows on `days` (inclusive) that pass `filters`, by the column `value`
    ('day' for a time series; None: one total, under the key None). `skip_missing` leaves out
    rows without a value (event dimensions have no "none" row)."""
    conditions = [
        Sql(f"import_id IN ({COMPLETE_DAILY})"),
        Sql("kind = ?", (kind,)),
        Sql("day BETWEEN ? AND ?", days),
        projects_in(projects),
    ]
    # Every dimension's column in imported_daily is named as the dimension.
    conditions.extend(DUCKDB.condition(Sql(f.dimension.name), f) for f in filters)
    if value is not None and skip_missing:
        conditions.append(Sql(f"{value} IS NOT NULL"))
    where = all_of(conditions)
    key = value or "NULL"
    found = cursor.execute(
        f"SELECT {key}, sum(visitors), sum(visits), sum(pageviews), sum(bounces), sum(events) "
        f"FROM imported_daily WHERE {where.text} GROUP BY ALL",
        list(where.params),
    ).fetchall()
    # Without GROUP BY columns (one total) an empty input still gives a row, of NULL sums.
    return {row[0]: DailySums(*(int(n) for n in row[1:])) for row in found if row[1] is not None}
