"""Leads written straight into a database file, as lead capture stores them (for CLI tests)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from pulsegate.store.database import Database

NASTY = ["=SUM(A1:A9)", "+1 555", "-cmd", "@import", "\tdata", "\rline", "plain"]


def seed_leads(database: Path, count: int, *, nasty: bool = False) -> None:
    """Leads written straight into the file, as lead capture stores them."""
    db = Database.open(database)
    try:
        appender = db.connection.appender(
            "leads",
            columns=[
                "lead_id",
                "submission_id",
                "created_at",
                "project",
                "name",
                "email",
                "status",
                "is_spam",
            ],
        )
        start = datetime(2026, 1, 1)
        appender.append_rows(
            [
                (f"lead-{n:07d}", f"sub-{n:07d}", start + timedelta(minutes=n), ("acme", "globex")[n % 2],
                 NASTY[n % len(NASTY)] if nasty else f"Person {n}", f"p{n}@example.com",
                 "spam" if n % 10 == 9 else "new", n % 10 == 9)
                for n in range(count)
            ]
        )  # fmt: skip
        appender.flush()
    finally:
        db.close()
