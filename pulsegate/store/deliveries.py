"""SQL for the deliveries outbox and the lead statuses it drives."""

from __future__ import annotations

from datetime import datetime

import duckdb
import msgspec

from pulsegate.domain.timestamps import utc_datetime
from pulsegate.store.writer import RowWrite

ATTEMPT_COLUMNS = (
    "delivery_id", "status", "attempts", "next_attempt_at", "last_attempt_at", "last_status", "last_error",
    "delivered_at",
)  # fmt: skip


class DueDelivery(msgspec.Struct, frozen=True):
    """A delivery whose next attempt is due."""

    delivery_id: str
    lead_id: str
    target: str
    payload: str
    attempts: int


def due_deliveries(cursor: duckdb.DuckDBPyConnection, now: datetime, limit: int) -> list[DueDelivery]:
    """Pending deliveries due at `now`, oldest first."""
    rows = cursor.execute(
        """
        SELECT delivery_id, lead_id, target, payload, attempts FROM deliveries
        WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, created_at LIMIT ?
        """,
        [now, limit],
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
            lead_rows.append((delivery.lead_id, "forwarded" if status == "delivered" else "failed"))
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
        """,
        [now, statuses],
    )
    if include_failed:
        connection.execute(
            "UPDATE leads SET status = 'new' WHERE status = 'failed' AND lead_id IN "
            "(SELECT lead_id FROM deliveries WHERE target = 'crm' AND status = 'pending')"
        )
    return count
