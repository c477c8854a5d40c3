"""A database with a broken form: five weeks of steady traffic, and no leads for acme lately."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pulsegate.domain.timestamps import now_ms, utc_datetime
from pulsegate.store.database import Database

HOUR = timedelta(hours=1)


def seed_broken_form(database: Path) -> None:
    """Five weeks of steady traffic for acme with 1 lead in 20 sessions, and no leads at all in
    the last 6 hours; globex steady throughout."""
    now = utc_datetime(now_ms())
    this_hour = now.replace(minute=0, second=0, microsecond=0)
    sessions, leads = [], []
    for hours_back in range(1, 35 * 24):
        hour = this_hour - hours_back * HOUR
        for project in ("acme", "globex"):
            for n in range(40):
                sessions.append((f"{project}-{hours_back}-{n}", "v", project, hour + n * timedelta(seconds=30),
                                 hour, "https://e.com/", False, False))  # fmt: skip
            if project == "globex" or hours_back > 6:
                for n in range(2):
                    leads.append((f"l-{project}-{hours_back}-{n}", f"l-{project}-{hours_back}-{n}",
                                  hour + timedelta(minutes=10 + n), project, False))  # fmt: skip
    db = Database.open(database)
    try:
        appender = db.connection.appender(
            "sessions",
            columns=["session_id", "visitor_id", "project", "started_at", "last_seen_at", "entry_url", "is_bot",
                     "is_hosting"],
        )  # fmt: skip
        appender.append_rows(sessions)
        appender.flush()
        appender = db.connection.appender(
            "leads", columns=["lead_id", "submission_id", "created_at", "project", "is_spam"]
        )
        appender.append_rows(leads)
        appender.flush()
    finally:
        db.close()
