"""The lead service on a real database: idempotent capture under concurrency."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pulsegate.config import LeadSettings
from pulsegate.domain.leads import LeadSubmission
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
