"""Rows and lookups for the leads and deliveries tables."""

from __future__ import annotations

from typing import Any

import duckdb
import msgspec

from pulsegate.domain.attribution import LeadOrigin
from pulsegate.domain.leads import LeadSubmission, StageEntry
from pulsegate.domain.timestamps import epoch_ms, utc_datetime
from pulsegate.store.writer import RowWrite

LEAD_COLUMNS = (
    "lead_id", "submission_id", "created_at", "project", "source", "session_id", "visitor_id",
    "traffic_source", "name", "email", "phone", "company", "message", "fields", "page_url",
    "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "is_spam", "status",
    "spam_reason", "content_key",
)  # fmt: skip
STAGE_COLUMNS = ("lead_id", "stage", "value", "currency", "happened_at", "received_at")
DELIVERY_COLUMNS = (
    "delivery_id",
    "subject_id",
    "target",
    "payload",
    "status",
    "next_attempt_at",
    "created_at",
)


class StoredLeadRef(msgspec.Struct, frozen=True):
    """Enough of a stored lead to answer a repeated submission."""

    lead_id: str
    submission_id: str
    session_id: str | None
    visitor_id: str | None
    created_ms: int


def new_lead_row(
    lead_id: str,
    submission: LeadSubmission,
    *,
    created_ms: int,
    origin: LeadOrigin,
    spam_reason: str | None,
    content_key: str | None = None,
) -> RowWrite:
    """The leads row of a new submission (its attribution is a row of its own:
    store/attribution.attribution_row)."""
    s = submission
    row = (
        lead_id, s.submission_id, utc_datetime(created_ms), s.project, s.source, s.session_id,
        origin.visitor_id, origin.traffic_source, s.name, s.email, s.phone, s.company, s.message,
        msgspec.json.encode(s.fields).decode() if s.fields else None, s.page_url, s.utm_source, s.utm_medium,
        s.utm_campaign, s.utm_term, s.utm_content, spam_reason is not None,
        "spam" if spam_reason else "new", spam_reason, content_key,
    )  # fmt: skip
    return RowWrite("leads", LEAD_COLUMNS, [row])


def new_delivery_row(
    delivery_id: str, subject_id: str, target: str, payload: bytes, created_ms: int
) -> RowWrite:
    """A delivery waiting for its first attempt, due now."""
    created = utc_datetime(created_ms)
    return RowWrite(
        "deliveries",
        DELIVERY_COLUMNS,
        [(delivery_id, subject_id, target, payload.decode(), "pending", created, created)],
    )


_REF_COLUMNS = "lead_id, submission_id, session_id, visitor_id, created_at"


def find_lead_by_content(cursor: duckdb.DuckDBPyConnection, key: str, since_ms: int) -> StoredLeadRef | None:
    """The lead an identical submission without an id made since `since_ms`, if any."""
    rows = cursor.execute(
        f"SELECT {_REF_COLUMNS} FROM leads WHERE created_at >= ? AND content_key = ? "
        "ORDER BY created_at DESC LIMIT 1",
        [utc_datetime(since_ms), key],
    ).fetchall()
    return _lead_ref(rows[0]) if rows else None


def find_lead_by_submission(
    cursor: duckdb.DuckDBPyConnection, submission_id: str | None
) -> StoredLeadRef | None:
    """The lead a submission id already made, if any."""
    rows = cursor.execute(
        f"SELECT {_REF_COLUMNS} FROM leads WHERE submission_id = ?", [submission_id]
    ).fetchall()
    return _lead_ref(rows[0]) if rows else None


def _lead_ref(row: tuple[Any, ...]) -> StoredLeadRef:
    lead_id, submission, session_id, visitor_id, created_at = row
    return StoredLeadRef(lead_id, submission, session_id, visitor_id, epoch_ms(created_at))


class LeadOutcome(msgspec.Struct, kw_only=True):
    """What the CRM has told about a lead so far."""

    lead_id: str
    crm_lead_id: str | None
    crm_synced_ms: int | None
    history: list[StageEntry]  # in the order they were reported


def lead_outcome(
    cursor: duckdb.DuckDBPyConnection, lead_id: str | None, crm_lead_id: str | None
) -> LeadOutcome | None:
    """The CRM's id and stages of the lead with this id (else with this CRM id), or None."""
    # Several leads may share a CRM record (a person who wrote twice): the latest answers.
    where, key = ("lead_id = ?", lead_id) if lead_id is not None else ("crm_lead_id = ?", crm_lead_id)
    found = cursor.execute(
        f"SELECT lead_id, crm_lead_id, crm_synced_at FROM leads WHERE {where} "
        "ORDER BY created_at DESC LIMIT 1",
        [key],
    ).fetchall()
    if not found:
        return None
    found_id, crm_id, synced_at = found[0]
    return LeadOutcome(
        lead_id=found_id,
        crm_lead_id=crm_id,
        crm_synced_ms=epoch_ms(synced_at) if synced_at else None,
        history=stage_history(cursor, found_id),
    )


def stage_history(cursor: duckdb.DuckDBPyConnection, lead_id: str) -> list[StageEntry]:
    """The stages the CRM reported for a lead, in the order they were reported."""
    rows = cursor.execute(
        "SELECT stage, value, currency, epoch_ms(happened_at) FROM lead_stages WHERE lead_id = ? "
        "ORDER BY received_at, rowid",
        [lead_id],
    ).fetchall()
    return [
        StageEntry(stage=stage, value=value, currency=currency, at=at) for stage, value, currency, at in rows
    ]


def stage_rows(lead_id: str, entry: StageEntry, received_ms: int, *, latest: bool) -> list[RowWrite]:
    """A stage entry, and when it is the latest, the lead's copy of it."""
    happened, received = utc_datetime(entry.at), utc_datetime(received_ms)
    row = (lead_id, entry.stage, entry.value, entry.currency, happened, received)
    writes = [RowWrite("lead_stages", STAGE_COLUMNS, [row])]
    if latest:
        writes.append(
            RowWrite(
                "leads",
                ("lead_id", "stage", "stage_value", "stage_currency", "stage_at"),
                [(lead_id, entry.stage, entry.value, entry.currency, utc_datetime(entry.at))],
                action="update",
                key=("lead_id",),
            )
        )
    return writes


def crm_synced_row(lead_id: str, crm_lead_id: str, synced_ms: int) -> RowWrite:
    """Record the CRM's id for a lead."""
    return RowWrite(
        "leads",
        ("lead_id", "crm_lead_id", "crm_synced_at", "status"),
        [(lead_id, crm_lead_id, utc_datetime(synced_ms), "synced")],
        action="update",
        key=("lead_id",),
    )
