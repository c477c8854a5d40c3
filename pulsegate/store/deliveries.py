"""SQL for the deliveries outbox and the lead statuses it drives."""

from __future__ import annotations

from datetime import datetime

import duckdb
import msgspec

from pulsegate.domain.timestamps import epoch_ms, utc_datetime
from pulsegate.store.clickhouse.cursor import is_clickhouse
from pulsegate.store.writer import RowWrite

ATTEMPT_COLUMNS = (
    "delivery_id", "status", "attempts", "next_attempt_at", "last_attempt_at", "last_status", "last_error",
    "delivered_at",
)  # fmt: skip


class DueDelivery(msgspec.Struct, frozen=True):
    """A delivery whose next attempt is due."""

    delivery_id: str
    subject_id: str  # the lead (crm) or the finding's key (alerts)
    target: str
    payload: str
    attempts: int
    due_ms: int = 0  # when this attempt became due (epoch ms)


def due_deliveries(
    cursor: duckdb.DuckDBPyConnection, now: datetime, limit: int, targets: tuple[str, ...]
) -> list[DueDelivery]:
    """Pending deliveries of `targets` due at `now`, oldest first."""
    # On ClickHouse a capture writes its lead's delivery just before the lead (the lead and its
    # delivery commit together on DuckDB): it waits until its lead is stored, and one of a capture
    # that lost its submission to another process's is never sent (services/stateless_leads.py).
    lead_stored = (
        "AND (target != 'crm' OR subject_id IN (SELECT lead_id FROM leads))" if is_clickhouse(cursor) else ""
    )
    rows = cursor.execute(
        f"""
        SELECT delivery_id, subject_id, target, payload, attempts, epoch_ms(next_attempt_at) FROM deliveries
        WHERE status = 'pending' AND next_attempt_at <= ? AND list_contains(?, target)
          -- a lead the CRM already reported back needs no more posts
          AND NOT (target = 'crm' AND subject_id IN (SELECT lead_id FROM leads WHERE crm_lead_id IS NOT NULL))
          {lead_stored}
        ORDER BY next_attempt_at, created_at LIMIT ?
        """,
        [now, list(targets), limit],
    ).fetchall()
    return [DueDelivery(*row) for row in rows]


def attempt_rows(
    results: list[tuple[DueDelivery, str, int | None, str | None, int, int | None]],
) -> list[RowWrite]:
    """Updates for attempts made: (delivery, new status, HTTP status, error, attempt ms, next attempt ms).

    The lead's status follows its CRM delivery: forwarded once delivered, failed once given up.
    """
    delivery_rows = []
    lead_rows = []
    for delivery, status, http_status, error, attempted_ms, next_ms in results:
        attempted = utc_datetime(attempted_ms)
        delivery_rows.append(
            (
                delivery.delivery_id,
                status,
                delivery.attempts + 1,
                utc_datetime(next_ms) if next_ms is not None else attempted,
                attempted,
                http_status,
                error[:500] if error else None,
                attempted if status == "delivered" else None,
            )
        )
        if delivery.target == "crm" and status in ("delivered", "failed"):
            lead_rows.append((delivery.subject_id, "forwarded" if status == "delivered" else "failed"))
    writes = [RowWrite("deliveries", ATTEMPT_COLUMNS, delivery_rows, action="update", key=("delivery_id",))]
    if lead_rows:
        writes.append(RowWrite("leads", ("lead_id", "status"), lead_rows, action="update", key=("lead_id",)))
    return writes


def requeue(connection: duckdb.DuckDBPyConnection, now: datetime, *, include_failed: bool) -> int:
    """Make pending deliveries due now, and failed ones pending again if asked; returns how many."""
    statuses = ["pending", "failed"] if include_failed else ["pending"]
    count = connection.execute(
        "SELECT count(*) FROM deliveries WHERE list_contains(?, status)", [statuses]
    ).fetchall()[0][0]
    connection.execute(
        """
        UPDATE deliveries SET status = 'pending', next_attempt_at = ?,
               attempts = CASE WHEN status = 'failed' THEN 0 ELSE attempts END
        WHERE list_contains(?, status)
          AND NOT (target = 'crm' AND subject_id IN (SELECT lead_id FROM leads WHERE crm_lead_id IS NOT NULL))
        """,
        [now, statuses],
    )
    if include_failed:
        connection.execute(
            "UPDATE leads SET status = 'new' WHERE status = 'failed' AND lead_id IN "
            "(SELECT subject_id FROM deliveries WHERE target = 'crm' AND status = 'pending')"
        )
    return count


def last_queued_ms(cursor: duckdb.DuckDBPyConnection, target: str, subject_id: str) -> int | None:
    """When a delivery for this subject was last queued (for repeat suppression), or None."""
    rows = cursor.execute(
        # Not max() alone: ClickHouse's max of no rows is 1970, not NULL.
        "SELECT CASE WHEN count(*) > 0 THEN max(created_at) END FROM deliveries "
        "WHERE target = ? AND subject_id = ?",
        [target, subject_id],
    ).fetchall()
    return epoch_ms(rows[0][0]) if rows and rows[0][0] else None


def open_crm_deliveries(cursor: duckdb.DuckDBPyConnection, lead_id: str) -> list[str]:
    """Ids of a lead's CRM deliveries not yet delivered."""
    rows = cursor.execute(
        "SELECT delivery_id FROM deliveries "
        "WHERE target = 'crm' AND subject_id = ? AND status != 'delivered'",
        [lead_id],
    ).fetchall()
    return [row[0] for row in rows]


def delivered_rows(delivery_ids: list[str], at: datetime) -> RowWrite:
    """Mark deliveries delivered (the CRM confirmed the lead by calling back)."""
    return RowWrite(
        "deliveries",
        ("delivery_id", "status", "delivered_at"),
        [(delivery_id, "delivered", at) for delivery_id in delivery_ids],
        action="update",
        key=("delivery_id",),
    )
