"""Rows and lookups for the leads and deliveries tables."""

from __future__ import annotations

import duckdb
import msgspec

from pulsegate.domain.leads import LeadSubmission
from pulsegate.domain.timestamps import epoch_ms, utc_datetime
from pulsegate.store.tracking import session_match
from pulsegate.store.writer import RowWrite

LEAD_COLUMNS = (
    "lead_id", "submission_id", "created_at", "project", "source", "session_id", "visitor_id",
    "traffic_source", "name", "email", "phone", "company", "message", "fields", "page_url",
    "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "is_spam", "status",
    "spam_reason",
)  # fmt: skip
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
    visitor_id: str | None,
    traffic_source: str | None,
    spam_reason: str | None,
) -> RowWrite:
    """The leads row of a new submission."""
    s = submission
    row = (
        lead_id, s.submission_id, utc_datetime(created_ms), s.project, s.source, s.session_id, visitor_id,
        traffic_source, s.name, s.email, s.phone, s.company, s.message,
        msgspec.json.encode(s.fields).decode() if s.fields else None, s.page_url, s.utm_source, s.utm_medium,
        s.utm_campaign, s.utm_term, s.utm_content, spam_reason is not None,
        "spam" if spam_reason else "new", spam_reason,
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


def find_lead_by_submission(cursor: duckdb.DuckDBPyConnection, submission_id: str) -> StoredLeadRef | None:
    """The lead a submission id already made, if any."""
    rows = cursor.execute(
        "SELECT lead_id, submission_id, session_id, visitor_id, created_at FROM leads "
        "WHERE submission_id = ?",
        [submission_id],
    ).fetchall()
    if not rows:
        return None
    lead_id, submission, session_id, visitor_id, created_at = rows[0]
    return StoredLeadRef(lead_id, submission, session_id, visitor_id, epoch_ms(created_at))


def session_link(cursor: duckdb.DuckDBPyConnection, session_id: str, now_ms: int) -> tuple[str, str] | None:
    """(visitor_id, source) of a stored session, to link a lead to how its visitor arrived."""
    condition, params = session_match(session_id, now_ms)
    rows = cursor.execute(f"SELECT visitor_id, source FROM sessions WHERE {condition}", params).fetchall()
    return (rows[0][0], rows[0][1]) if rows else None


def crm_link(cursor: duckdb.DuckDBPyConnection, lead_id: str) -> tuple[str | None, int | None] | None:
    """(crm_lead_id, crm_synced_at ms) of a lead, or None for an unknown lead."""
    rows = cursor.execute(
        "SELECT crm_lead_id, crm_synced_at FROM leads WHERE lead_id = ?", [lead_id]
    ).fetchall()
    if not rows:
        return None
    crm_lead_id, synced_at = rows[0]
    return crm_lead_id, epoch_ms(synced_at) if synced_at else None


def crm_synced_row(lead_id: str, crm_lead_id: str, synced_ms: int) -> RowWrite:
    """Record the CRM's id for a lead."""
    return RowWrite(
        "leads",
        ("lead_id", "crm_lead_id", "crm_synced_at", "status"),
        [(lead_id, crm_lead_id, utc_datetime(synced_ms), "synced")],
        action="update",
        key=("lead_id",),
    )
