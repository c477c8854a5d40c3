"""The lead service on a real database: idempotent capture under concurrency."""

from __future__ import annotations

import asyncio
from pathlib import Path

import msgspec

from pulsegate.config import LeadSettings
from pulsegate.domain.leads import LeadSubmission
from pulsegate.domain.tracking import Caller
from pulsegate.services.leads import LeadService
from pulsegate.store.database import Database
from pulsegate.store.writer import Writer
from tests.helpers import file_rows


def test_identical_submissions_at_once_make_one_lead(tmp_path: Path) -> None:
    path = tmp_path / "p.duckdb"

    async def scenario() -> list[str]:
        database = Database.open(path)
        writer = Writer(database.connection)
        writer.start()
        leads = LeadService(database, writer, LeadSettings(), forward_to_crm=False)
        submission = LeadSubmission(submission_id="twice-0001", email="a@example.com")
        try:
            # Both pass the "seen before?" check, then meet in one commit group.
            receipts = await asyncio.gather(leads.capture(submission), leads.capture(submission))
        finally:
            await writer.stop()
            database.close()
        return [receipt.lead_id for receipt in receipts]

    first, second = asyncio.run(scenario())
    assert first == second
    assert file_rows(path, "SELECT count(*) FROM leads") == [(1,)]


def test_without_an_id_the_same_submission_within_ten_minutes_is_one_lead(tmp_path: Path) -> None:
    path = tmp_path / "p.duckdb"
    clock = [1_800_000_000_000]
    ann = Caller(client_ip="203.0.113.5", user_agent="Firefox")
    bob = Caller(client_ip="203.0.113.6", user_agent="Firefox")

    async def scenario() -> list[str]:
        database = Database.open(path)
        writer = Writer(database.connection)
        writer.start()
        leads = LeadService(database, writer, LeadSettings(), forward_to_crm=False, visitor_salt="s",
                            clock=lambda: clock[0])  # fmt: skip
        form = LeadSubmission(email="a@example.com", message="Call me", elapsed_ms=9000)
        try:
            ids = [(await leads.capture(form, ann)).lead_id]
            # Pressed twice at once, and again with another fill time and honeypot: the same lead.
            pressed = await asyncio.gather(leads.capture(form, ann), leads.capture(form, ann))
            ids += [receipt.lead_id for receipt in pressed]
            refilled = msgspec.structs.replace(form, elapsed_ms=20_000)
            ids.append((await leads.capture(refilled, ann)).lead_id)
            ids.append((await leads.capture(form, bob)).lead_id)  # another visitor: another lead
            changed = msgspec.structs.replace(form, message="Call me today")
            ids.append((await leads.capture(changed, ann)).lead_id)  # other words: another lead
            clock[0] += 10 * 60_000 + 1  # ten minutes later the same words are a new lead
            ids.append((await leads.capture(form, ann)).lead_id)
        finally:
            await writer.stop()
            database.close()
        return ids

    ids = asyncio.run(scenario())
    assert len(set(ids[:4])) == 1
    assert len(set(ids)) == 4
    assert file_rows(path, "SELECT count(*), count(DISTINCT submission_id) FROM leads") == [(4, 4)]
