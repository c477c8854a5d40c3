"""Inserts any process may make at the same moment, of which ClickHouse keeps one: a lead of a
submission, a stage entry, an alert, a claim on a delivery attempt or an email report's send.
Each carries a deduplication token naming what it is, so ClickHouse keeps the first insert of a
token and drops the others (the tables keep a window of recent tokens: migrations 0008, 0009), and
every process then reads which one was kept."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from pulsegate.domain.timestamps import utc_datetime
from pulsegate.store.clickhouse.cursor import ClickHouseCursor
from pulsegate.store.deliveries import DueDelivery


def token(*parts: object) -> str:
    """A deduplication token naming `parts`: hashed, since a submission id or a stage may hold any
    character and the token goes into the insert's settings."""
    return hashlib.sha256("\x00".join(str(part) for part in parts).encode()).hexdigest()


def forget_lead(connection: ClickHouseCursor, lead_id: str) -> None:
    """Delete what a capture wrote ahead of its lead when another capture of the same submission
    stored the lead first: its attribution row and its CRM delivery (never sent: a CRM delivery
    goes out only once its lead is stored, deliveries.due_deliveries)."""
    connection.command("DELETE FROM lead_attribution WHERE lead_id = ?", [lead_id])
    connection.command("DELETE FROM deliveries WHERE target = 'crm' AND subject_id = ?", [lead_id])


def claim_round(due: DueDelivery, now_ms: int, claim_ms: int) -> int:
    """Which round of claims a delivery attempt is in: every process polling within `claim_ms` of
    its due time claims round 0, so one of them sends it; if that one died before writing the
    outcome, the attempt is claimed again in the next round."""
    return max(0, (now_ms - due.due_ms) // claim_ms)


ClaimKey = tuple[str, int, int]  # what is claimed, its attempt, its round


def claim(connection: ClickHouseCursor, keys: Sequence[ClaimKey], holder: str, now_ms: int) -> set[ClaimKey]:
    """Of `keys`, those this process (`holder`) won: one insert per claim, each with its token,
    then one read of who holds them."""
    claimed_at = utc_datetime(now_ms)
    for key in keys:
        connection.insert(
            "delivery_claims", ("delivery_id", "attempt", "round", "holder", "claimed_at"),
            [(*key, holder, claimed_at)], token=token("claim", *key),
        )  # fmt: skip
    held = connection.query(
        "SELECT delivery_id, attempt, round, argMin(holder, claimed_at) FROM delivery_claims "
        "WHERE delivery_id IN ? GROUP BY delivery_id, attempt, round",
        [sorted({what for what, _, _ in keys})],
    )
    return {(what, attempt, round_) for what, attempt, round_, who in held if who == holder} & set(keys)


def claim_deliveries(
    connection: ClickHouseCursor, due: Sequence[DueDelivery], holder: str, now_ms: int, claim_ms: int
) -> list[DueDelivery]:
    """The deliveries of `due` this process (`holder`) won the claim of."""
    if not due:
        return []
    keys = {
        (delivery.delivery_id, delivery.attempts, claim_round(delivery, now_ms, claim_ms)): delivery
        for delivery in due
    }
    won = claim(connection, list(keys), holder, now_ms)
    return [delivery for key, delivery in keys.items() if key in won]


def claim_send(connection: ClickHouseCursor, name: str, period_start_ms: int, attempt: int, holder: str,
               now_ms: int) -> bool:  # fmt: skip
    """Whether this process (`holder`) won the try `attempt` of the email report `name` for the
    period starting at `period_start_ms`. Never claimed again: a send cut short stays 'sending',
    as on DuckDB, rather than risk a second copy of the message."""
    key = (f"email:{name}:{period_start_ms}", attempt, 0)
    return key in claim(connection, [key], holder, now_ms)
