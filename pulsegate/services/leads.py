"""The lead service: validates, deduplicates, links and stores leads, queueing CRM delivery."""

from __future__ import annotations

import logging
from collections.abc import Callable

import msgspec

from pulsegate.config import LeadSettings
from pulsegate.domain.ids import new_id
from pulsegate.domain.leads import (
    CrmCallback,
    CrmSynced,
    LeadReceipt,
    LeadSubmission,
    check_submission,
    spam_reason,
)
from pulsegate.domain.timestamps import now_ms, utc_datetime
from pulsegate.errors import NotFound, StorageUnavailable
from pulsegate.store import leads as rows
from pulsegate.store.database import Database
from pulsegate.store.deliveries import delivered_rows, open_crm_deliveries
from pulsegate.store.writer import Writer

logger = logging.getLogger(__name__)


class CrmPayload(msgspec.Struct, kw_only=True):
    """What the CRM webhook receives for a lead."""

    lead_id: str
    submission_id: str
    created_at: int  # epoch ms
    project: str | None
    source: str | None
    traffic_source: str | None
    name: str | None
    email: str | None
    phone: str | None
    company: str | None
    message: str | None
    fields: dict[str, object] | None
    page_url: str | None
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    utm_term: str | None
    utm_content: str | None
    session_id: str | None
    visitor_id: str | None


class LeadService:
    """Captures leads; answers only once the lead (and its queued delivery) is committed."""

    def __init__(
        self,
        database: Database,
        writer: Writer,
        settings: LeadSettings,
        *,
        forward_to_crm: bool,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self._database = database
        self._writer = writer
        self._settings = settings
        self._forward = forward_to_crm
        self._clock = clock

    async def capture(self, submission: LeadSubmission) -> LeadReceipt:
        """Store a lead once per submission id; a repeat returns the first answer."""
        submission = check_submission(submission)
        existing = await self._database.read(rows.find_lead_by_submission, submission.submission_id)
        if existing is not None:
            return _receipt(existing)
        created_ms = self._clock()
        lead_id = new_id(created_ms)
        visitor_id, traffic_source = await self._link(submission)
        reason = spam_reason(submission, min_fill_ms=self._settings.min_fill_ms)
        writes = [
            rows.new_lead_row(
                lead_id,
                submission,
                created_ms=created_ms,
                visitor_id=visitor_id,
                traffic_source=traffic_source,
                spam_reason=reason,
            )
        ]
        if reason is None and self._forward:
            payload = _payload(lead_id, submission, created_ms, visitor_id, traffic_source)
            writes.append(rows.new_delivery_row(new_id(created_ms), lead_id, "crm", payload, created_ms))
        if reason is not None:
            logger.info("Lead %s stored as spam (%s)", lead_id, reason)
        try:
            # The lead and its delivery commit together: no lead is ever acknowledged without
            # its delivery queued, and no delivery exists for a lead that was not stored.
            await self._writer.write(*writes)
        except StorageUnavailable:
            # Two identical submissions in one commit group: the second breaks the unique
            # submission id and fails alone. It is the same lead, so answer with the first.
            existing = await self._database.read(rows.find_lead_by_submission, submission.submission_id)
            if existing is None:
                raise
            return _receipt(existing)
        return LeadReceipt(
            lead_id=lead_id,
            submission_id=submission.submission_id,
            session_id=submission.session_id,
            visitor_id=visitor_id,
            timestamp=created_ms,
        )

    async def record_crm_id(self, callback: CrmCallback) -> CrmSynced:
        """Store the CRM's id for a lead; the same id again changes nothing."""
        current = await self._database.read(rows.crm_link, callback.lead_id)
        if current is None:
            raise NotFound(f"Unknown lead: {callback.lead_id}")
        crm_lead_id, synced_ms = current
        if crm_lead_id == callback.crm_lead_id and synced_ms is not None:
            return CrmSynced(
                lead_id=callback.lead_id, crm_lead_id=crm_lead_id, crm_synced_at=synced_ms, changed=False
            )
        synced_ms = self._clock()
        writes = [rows.crm_synced_row(callback.lead_id, callback.crm_lead_id, synced_ms)]
        # The CRM has the lead: a delivery still pending (say its answer timed out) or failed
        # must not post it again.
        unfinished = await self._database.read(open_crm_deliveries, callback.lead_id)
        if unfinished:
            writes.append(delivered_rows(unfinished, utc_datetime(synced_ms)))
        await self._writer.write(*writes)
        return CrmSynced(
            lead_id=callback.lead_id, crm_lead_id=callback.crm_lead_id, crm_synced_at=synced_ms, changed=True
        )

    async def _link(self, submission: LeadSubmission) -> tuple[str | None, str | None]:
        """The visitor and traffic source of the session the lead came from, when known.

        The session row is on disk before its id ever reached the page, so one read suffices.
        """
        if submission.session_id is None:
            return submission.visitor_id, None
        stored = await self._database.read(rows.session_link, submission.session_id, self._clock())
        if stored is None:  # an unknown session id: keep what the page said
            return submission.visitor_id, None
        return stored


def _receipt(stored: rows.StoredLeadRef) -> LeadReceipt:
    return LeadReceipt(
        lead_id=stored.lead_id,
        submission_id=stored.submission_id,
        session_id=stored.session_id,
        visitor_id=stored.visitor_id,
        timestamp=stored.created_ms,
    )


def _payload(
    lead_id: str, s: LeadSubmission, created_ms: int, visitor_id: str | None, traffic_source: str | None
) -> bytes:
    return msgspec.json.encode(
        CrmPayload(
            lead_id=lead_id, submission_id=s.submission_id, created_at=created_ms, project=s.project,
            source=s.source, traffic_source=traffic_source, name=s.name, email=s.email, phone=s.phone,
            company=s.company, message=s.message, fields=s.fields, page_url=s.page_url,
            utm_source=s.utm_source, utm_medium=s.utm_medium, utm_campaign=s.utm_campaign,
            utm_term=s.utm_term, utm_content=s.utm_content, session_id=s.session_id, visitor_id=visitor_id,
        )
    )  # fmt: skip
