"""Lead capture on the ClickHouse store: any PulseGate process may take any submission, callback
or delivery, and two taking the same one at once still make one lead, one stage entry, one post.

On DuckDB one process holds the leads, and a unique submission id tells a repeat. Here a retry may
reach another machine while the first request is still being answered. So a lead's insert carries
a deduplication token made from its submission id: ClickHouse keeps the first insert of a token
and drops the others, and each capture then reads which lead was kept and answers with it. What
belongs to a lead (its attribution and its CRM delivery) is stored just before it, so a stored lead
always has them (DuckDB commits the three together); those of a capture that lost are deleted, and
a CRM delivery is sent only once its lead is stored (store/deliveries.due_deliveries).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from pulsegate.config import AttributionSettings, LeadSettings
from pulsegate.domain.attribution import LeadOrigin
from pulsegate.domain.ids import new_id
from pulsegate.domain.lead_forms import SAME_SUBMISSION_MS, content_key
from pulsegate.domain.leads import CrmCallback, LeadReceipt, LeadSubmission, check_submission
from pulsegate.domain.timestamps import now_ms
from pulsegate.domain.tracking import Caller
from pulsegate.services.attribution import lead_origin, stored_origin
from pulsegate.services.delivery import Claim
from pulsegate.services.email_reports import ClaimSend
from pulsegate.services.leads import LeadService, _receipt, caller_key
from pulsegate.store import attribution as attribution_rows
from pulsegate.store import leads as rows
from pulsegate.store.clickhouse import once
from pulsegate.store.clickhouse.cursor import ClickHouseCursor
from pulsegate.store.clickhouse.store import ClickHouseStore, ClickHouseWriter
from pulsegate.store.clickhouse.tracking import SessionState, session_state
from pulsegate.store.deliveries import DueDelivery
from pulsegate.store.writer import RowWrite

logger = logging.getLogger(__name__)
# A claimed delivery attempt is claimed again after this long (its holder died before writing the
# outcome), at least three of the webhook's timeouts: a live holder has written it by then.
MIN_CLAIM_MS = 120_000

FindLead = Callable[[ClickHouseCursor], "rows.StoredLeadRef | None"]


class StatelessLeadService(LeadService):
    """Captures leads and records CRM callbacks on the ClickHouse store (LeadService's interface)."""

    def __init__(
        self,
        store: ClickHouseStore,
        writer: ClickHouseWriter,
        settings: LeadSettings,
        *,
        forward_to_crm: bool,
        attribution: AttributionSettings | None = None,
        visitor_salt: str = "",
        clock: Callable[[], int] = now_ms,
    ) -> None:
        super().__init__(
            store, writer, settings, forward_to_crm=forward_to_crm,  # type: ignore[arg-type]  # as Database
            attribution=attribution, visitor_salt=visitor_salt, clock=clock,
        )  # fmt: skip
        self._store = store
        self._inserts = writer

    async def capture(self, submission: LeadSubmission, caller: Caller | None = None) -> LeadReceipt:
        """Store a lead once per submission id; a repeat, on any process, returns the first answer.
        Without an id, the same submission from the same visitor within ten minutes is one lead."""
        submission = check_submission(submission)
        key = None
        if submission.submission_id is not None:
            submission_id = submission.submission_id

            def first(connection: ClickHouseCursor) -> rows.StoredLeadRef | None:
                return rows.find_lead_by_submission(connection, submission_id)

            token = once.token("lead", submission_id)
        else:
            visitor = caller_key(self._salt, caller) if caller is not None else ""
            key = content_key(self._salt, visitor, submission)
            now = self._clock()
            since = now - SAME_SUBMISSION_MS

            def first(connection: ClickHouseCursor) -> rows.StoredLeadRef | None:
                return rows.find_lead_by_content(connection, key, since)

            # Two presses of Send at once, on two processes, in the same ten minutes: one lead. (A
            # pair that straddles the turn of the ten minutes makes two; the read just below
            # catches every press that comes after the first one was stored.)
            token = once.token("lead-content", key, now // SAME_SUBMISSION_MS)
        existing = await self._store.read(first)
        if existing is not None:
            return _receipt(existing)
        return await self._capture_once(submission, key, first, token)

    async def _capture_once(
        self, submission: LeadSubmission, key: str | None, first: FindLead, token: str
    ) -> LeadReceipt:
        created_ms = self._clock()
        origin = await self._origin_on_store(submission, created_ms)
        new = self._new_lead(submission, key, created_ms, origin)
        ahead = [attribution_rows.attribution_row(new.lead_id, origin)]
        if new.delivery is not None:
            ahead.append(new.delivery)
        await self._writer.write(*ahead)  # batched with other requests' rows
        await self._inserts.insert_once(new.lead, token)  # alone: the token is this lead's
        kept = await self._store.read(first)
        if kept is None:  # the token's lead was deleted since (erased): this one is a new lead
            await self._inserts.insert_once(new.lead, once.token(token, new.lead_id))
        elif kept.lead_id != new.lead_id:  # another process stored this submission's lead first
            await self._forget(new.lead_id)
            return _receipt(kept)
        return new.receipt()

    async def _forget(self, lead_id: str) -> None:
        """Delete the rows written ahead of a lead that was not kept; they harm nothing if left
        (no delivery goes out without its lead), so a failure is only logged."""
        try:
            await self._inserts.run(lambda connection: once.forget_lead(connection, lead_id))
        except Exception as exc:
            logger.warning("Could not delete the rows of lead %s, a repeat of another: %s", lead_id, exc)

    async def _origin_on_store(self, submission: LeadSubmission, created_ms: int) -> LeadOrigin:
        """The lead's origin, as on DuckDB; its session's running totals are the summary every
        process's rows fold into (store/clickhouse/tracking.session_state), not a process's memory."""
        hint = self._visitor_hint(submission)
        session_id = submission.session_id
        stored, state = await asyncio.gather(
            stored_origin(self._store, submission, created_ms, self._attribution, hint),  # type: ignore[arg-type]
            self._store.read(_state_of, session_id, created_ms),
        )
        running = None
        if state is not None and stored.session is not None and not state.summary_is_current:
            running = state.session  # still open, or carried on after its end: its totals so far
        return lead_origin(stored, submission, created_ms, self._attribution, running)

    async def _store_callback(
        self, found: rows.LeadOutcome, callback: CrmCallback, writes: list[RowWrite]
    ) -> None:
        """A stage entry is inserted alone, with a token naming its place in the lead's history: two
        copies of one callback taken at once by two processes (each read the same history) keep one
        entry, as one process taking them in turn would. Then the lead's own columns."""
        updates = [write for write in writes if write.table != "lead_stages"]
        for write in writes:
            if write.table == "lead_stages":
                said = (callback.stage, callback.value, callback.currency, callback.at)
                await self._inserts.insert_once(
                    write, once.token("stage", found.lead_id, len(found.history), *said)
                )
        if updates:
            await self._writer.write(*updates)


def _state_of(connection: ClickHouseCursor, session_id: str | None, now_ms: int) -> SessionState | None:
    return session_state(connection, session_id, now_ms) if session_id else None  # type: ignore[arg-type]


def delivery_claims(
    writer: ClickHouseWriter, timeout_seconds: float, clock: Callable[[], int] = now_ms
) -> Claim:
    """The DeliveryWorker's `claim` on ClickHouse: of the due deliveries, those this process won.

    Each attempt is claimed with an insert whose token names it (store/clickhouse/once.py), so of
    the processes that poll while it is due one sends it; the others leave it."""
    holder = new_id(clock())
    claim_ms = max(MIN_CLAIM_MS, int(3_000 * timeout_seconds))

    async def claim(due: list[DueDelivery]) -> list[DueDelivery]:
        now = clock()
        return await writer.run(
            lambda connection: once.claim_deliveries(connection, due, holder, now, claim_ms)
        )  # type: ignore[no-any-return]

    return claim


def send_claims(writer: ClickHouseWriter, clock: Callable[[], int] = now_ms) -> ClaimSend:
    """EmailReports' `claim` on ClickHouse: whether this process sends a report's try."""
    holder = new_id(clock())

    async def claim(name: str, period_start_ms: int, attempt: int) -> bool:
        now = clock()
        return await writer.run(  # type: ignore[no-any-return]
            lambda connection: once.claim_send(connection, name, period_start_ms, attempt, holder, now)
        )

    return claim
