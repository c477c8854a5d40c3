"""The lead service: validates, deduplicates, links and stores leads, queueing CRM delivery."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

import msgspec

from pulsegate.config import AttributionSettings, LeadSettings
from pulsegate.domain.attribution import ConvertingSession, LeadOrigin, Touch
from pulsegate.domain.ids import new_id
from pulsegate.domain.lead_forms import SAME_SUBMISSION_MS, content_key
from pulsegate.domain.leads import (
    CrmCallback,
    CrmSynced,
    LeadReceipt,
    LeadSubmission,
    StageEntry,
    check_callback,
    check_submission,
    latest,
    repeats,
    spam_reason,
)
from pulsegate.domain.sessions import OpenSessions
from pulsegate.domain.timestamps import now_ms, utc_datetime
from pulsegate.domain.tracking import Caller
from pulsegate.domain.visitor import visitor_id
from pulsegate.errors import NotFound, StorageUnavailable
from pulsegate.services.attribution import AttributionWrites, VisitorHistories, origin_now
from pulsegate.store import leads as rows
from pulsegate.store.database import Database
from pulsegate.store.deliveries import delivered_rows, open_crm_deliveries
from pulsegate.store.writer import RowWrite, Writer

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
    fields: dict[str, str | int | float | bool | None] | None
    page_url: str | None
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    utm_term: str | None
    utm_content: str | None
    session_id: str | None
    visitor_id: str | None
    # Where the lead came from, as HubSpot's "original source" and "latest source" (README).
    first_touch: Touch
    last_touch: Touch
    touches: int
    time_to_convert_ms: int
    converting_session: ConvertingSession | None


@dataclass(frozen=True, slots=True)
class NewLead:
    """A lead about to be stored: its id, its submission (with the id made for it, if the form
    had none), its origin and rows."""

    lead_id: str
    submission: LeadSubmission
    created_ms: int
    origin: LeadOrigin
    lead: RowWrite
    delivery: RowWrite | None

    def receipt(self) -> LeadReceipt:
        """The answer to the capture that stored it."""
        assert self.submission.submission_id is not None
        return LeadReceipt(
            lead_id=self.lead_id,
            submission_id=self.submission.submission_id,
            session_id=self.submission.session_id,
            visitor_id=self.origin.visitor_id,
            timestamp=self.created_ms,
        )


class LeadService:
    """Captures leads; answers only once the lead (and its queued delivery) is committed."""

    def __init__(
        self,
        database: Database,
        writer: Writer,
        settings: LeadSettings,
        *,
        forward_to_crm: bool,
        attribution: AttributionSettings | None = None,
        open_sessions: OpenSessions | None = None,
        histories: VisitorHistories | None = None,
        visitor_salt: str = "",
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self._database = database
        self._writer = writer
        self._settings = settings
        self._forward = forward_to_crm
        self._attribution = attribution or AttributionSettings()
        # Not `open_sessions or …`: an empty registry is falsy, and the server's starts empty.
        self._open_sessions = open_sessions if open_sessions is not None else OpenSessions()
        self.histories = histories  # what VisitorHistories read ahead (runtime.py gives it form starts)
        self._salt = visitor_salt
        self._clock = clock
        self._callbacks = asyncio.Lock()
        self._without_id = asyncio.Lock()
        # Readers of attribution wait on it (runtime.py); the server sweeps with it.
        self.attributions = AttributionWrites(database, writer, self._attribution, self._open_sessions, clock)

    async def capture(self, submission: LeadSubmission, caller: Caller | None = None) -> LeadReceipt:
        """Store a lead once per submission id; a repeat returns the first answer. Without an id,
        the same submission from the same visitor (`caller`) within ten minutes is one lead."""
        submission = check_submission(submission)
        if submission.submission_id is not None:
            return await self._capture(submission, None)
        visitor = caller_key(self._salt, caller) if caller is not None else ""
        key = content_key(self._salt, visitor, submission)
        # One id-less capture at a time: the second of two presses of Send must find the first
        # committed. They are rare (forms without JavaScript), so one lock for all of them is cheap.
        async with self._without_id:
            since = self._clock() - SAME_SUBMISSION_MS
            existing = await self._database.read(rows.find_lead_by_content, key, since)
            if existing is not None:
                return _receipt(existing)
            return await self._capture(submission, key)

    async def _capture(self, submission: LeadSubmission, key: str | None) -> LeadReceipt:
        created_ms = self._clock()
        hint = self._visitor_hint(submission)
        if key is None:
            # Whether the id was seen, beside the attribution's reads: a retry wastes those, a new
            # lead (most captures) does not wait for one read after the other (on two reader
            # threads at once they took less than one after the other on one: 3.3 ms, 4.5 ms).
            # The check is not left to the unique submission id at the commit: a repeat would
            # fail its whole commit group, every write of which then commits alone, so a client
            # repeating one id could multiply the writer's commits.
            existing, origin = await asyncio.gather(
                self._database.read(rows.find_lead_by_submission, submission.submission_id),
                self._origin(submission, created_ms, hint),
            )
            if existing is not None:
                return _receipt(existing)
        else:
            origin = await self._origin(submission, created_ms, hint)
        new = self._new_lead(submission, key, created_ms, origin)
        submission, lead_id = new.submission, new.lead_id
        writes = [new.lead.values_only()]  # RowWrite.values_only says why
        if new.delivery is not None:
            writes.append(new.delivery)
        # Held from before the lead's commit to its attribution's (AttributionWrites says why).
        place = self.attributions.expect()
        try:
            # The lead and its delivery commit together: no lead is ever acknowledged without
            # its delivery queued, and no delivery exists for a lead that was not stored.
            await self._writer.write(*writes)
        except StorageUnavailable:
            self.attributions.give_up(place)
            # Two identical submissions in one commit group: the second breaks the unique
            # submission id and fails alone. It is the same lead, so answer with the first.
            existing = await self._database.read(rows.find_lead_by_submission, submission.submission_id)
            if existing is None:
                raise
            return _receipt(existing)
        except BaseException:  # cancelled (the client went away) or failed: the sweep covers it
            self.attributions.give_up(place)
            raise
        # Queued before the answer, committed after it.
        self.attributions.queue(place, lead_id, origin)
        return new.receipt()

    def _new_lead(
        self, submission: LeadSubmission, key: str | None, created_ms: int, origin: LeadOrigin
    ) -> NewLead:
        """The rows of a lead about to be stored: its own, and its CRM delivery unless it is spam
        or nothing is forwarded."""
        lead_id = new_id(created_ms)
        if key is not None:  # the lead's own id stands in for the one the form did not make
            submission = msgspec.structs.replace(submission, submission_id=f"auto-{lead_id}")
        reason = spam_reason(submission, min_fill_ms=self._settings.min_fill_ms)
        lead = rows.new_lead_row(
            lead_id, submission, created_ms=created_ms, origin=origin, spam_reason=reason, content_key=key
        )
        delivery = None
        if reason is None and self._forward:
            payload = _payload(lead_id, submission, created_ms, origin)
            delivery = rows.new_delivery_row(new_id(created_ms), lead_id, "crm", payload, created_ms)
        if reason is not None:
            logger.info("Lead %s stored as spam (%s)", lead_id, reason)
        return NewLead(lead_id, submission, created_ms, origin, lead, delivery)

    async def record_crm_callback(self, callback: CrmCallback) -> CrmSynced:
        """Store the CRM's id for a lead and/or the stage it reached; a repeat changes nothing."""
        callback = check_callback(callback)
        async with self._callbacks:  # two copies of one callback at once must make one entry
            found = await self._database.read(rows.lead_outcome, callback.lead_id, callback.crm_lead_id)
            if found is None:
                raise NotFound(f"Unknown lead: {callback.lead_id or callback.crm_lead_id}")
            received_ms = self._clock()
            writes: list[RowWrite] = []
            crm_lead_id, synced_ms = found.crm_lead_id, found.crm_synced_ms
            new_id_told = crm_lead_id != callback.crm_lead_id or synced_ms is None
            if callback.crm_lead_id is not None and new_id_told:
                crm_lead_id, synced_ms = callback.crm_lead_id, received_ms
                writes.append(rows.crm_synced_row(found.lead_id, crm_lead_id, synced_ms))
                # The CRM has the lead: a delivery still pending (say its answer timed out) or
                # failed must not post it again.
                unfinished = await self._database.read(open_crm_deliveries, found.lead_id)
                if unfinished:
                    writes.append(delivered_rows(unfinished, utc_datetime(synced_ms)))
            history = found.history
            if callback.stage is not None and not repeats(history, callback):
                entry = StageEntry(
                    stage=callback.stage, value=callback.value, currency=callback.currency,
                    at=callback.at if callback.at is not None else received_ms,
                )  # fmt: skip
                history = [*history, entry]
                is_latest = latest(history) is entry
                writes.extend(rows.stage_rows(found.lead_id, entry, received_ms, latest=is_latest))
            if writes:
                await self._store_callback(found, callback, writes)
        current = latest(history) if history else None
        return CrmSynced(
            lead_id=found.lead_id,
            crm_lead_id=crm_lead_id,
            crm_synced_at=synced_ms,
            changed=bool(writes),
            stage=current.stage if current else None,
            stage_value=current.value if current else None,
            stage_currency=current.currency if current else None,
            stage_at=current.at if current else None,
        )

    async def _store_callback(
        self, found: rows.LeadOutcome, callback: CrmCallback, writes: list[RowWrite]
    ) -> None:
        """Store what a callback changed about `found`, all at once."""
        await self._writer.write(*writes)

    def _visitor_hint(self, submission: LeadSubmission) -> str | None:
        """The visitor the page says it is: the tracker's own id, as its X-Visitor-ID hashes."""
        if not submission.visitor_id:
            return None
        return visitor_id(self._salt, visitor_header=submission.visitor_id, fingerprint_header=None,
                          client_ip="", user_agent="")  # fmt: skip

    async def _origin(self, submission: LeadSubmission, created_ms: int, hint: str | None) -> LeadOrigin:
        """The visitor, traffic source and touches of the lead, from its session when known.

        The session row is on disk before its id ever reached the page, so it is there to read.
        """
        known = None
        session_id = submission.session_id
        # Read ahead when its form was started; used only while the session is open, so that its
        # summary comes from the open-session registry, as without it.
        if self.histories is not None and session_id is not None and session_id in self._open_sessions:
            known = self.histories.known(session_id)
        return await origin_now(
            self._database, self._open_sessions, submission, created_ms, self._attribution, hint, known
        )


def _receipt(stored: rows.StoredLeadRef) -> LeadReceipt:
    return LeadReceipt(
        lead_id=stored.lead_id,
        submission_id=stored.submission_id,
        session_id=stored.session_id,
        visitor_id=stored.visitor_id,
        timestamp=stored.created_ms,
    )


def _payload(lead_id: str, s: LeadSubmission, created_ms: int, origin: LeadOrigin) -> bytes:
    attribution = origin.attribution
    return msgspec.json.encode(
        CrmPayload(
            lead_id=lead_id, submission_id=s.submission_id or lead_id, created_at=created_ms,
            project=s.project,
            source=s.source, traffic_source=origin.traffic_source, name=s.name, email=s.email,
            phone=s.phone, company=s.company, message=s.message, fields=s.fields, page_url=s.page_url,
            utm_source=s.utm_source, utm_medium=s.utm_medium, utm_campaign=s.utm_campaign,
            utm_term=s.utm_term, utm_content=s.utm_content, session_id=s.session_id,
            visitor_id=origin.visitor_id, first_touch=attribution.first_touch,
            last_touch=attribution.last_touch, touches=len(attribution.touches),
            time_to_convert_ms=attribution.time_to_convert_ms, converting_session=origin.converting,
        )
    )  # fmt: skip


def caller_key(salt: str, caller: Caller) -> str:
    """Who sent a capture, as the tracker's visitor id is made (never kept raw)."""
    return visitor_id(
        salt,
        visitor_header=caller.visitor_header,
        fingerprint_header=caller.fingerprint_header,
        client_ip=caller.client_ip,
        user_agent=caller.user_agent,
    )
