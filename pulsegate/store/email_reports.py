"""SQL for scheduled email reports: the schedules, and one row per schedule and period sent."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

import duckdb

from pulsegate.domain.email_reports import Schedule
from pulsegate.store.transactions import transaction

_COLUMNS = ("name", "project", "recipients", "every", "day", "hour", "tz", "model")


def schedule_rows(connection: duckdb.DuckDBPyConnection) -> list[tuple[Schedule, bool, datetime]]:
    """Every schedule by name, whether the config file declares it, and when it was stored."""
    found = connection.execute(
        f"SELECT {', '.join(_COLUMNS)}, from_config, created_at FROM email_reports ORDER BY name"
    ).fetchall()
    return [(Schedule(*row[:2], tuple(row[2]), *row[3:8]), row[8], row[9]) for row in found]


def upsert_schedule(
    connection: duckdb.DuckDBPyConnection, schedule: Schedule, now: datetime, *, from_config: bool = False
) -> None:
    """Store a schedule, or replace the one of that name."""
    # A schedule changed keeps its creation time: the period due now is still its to send.
    updated = ", ".join(f"{column} = excluded.{column}" for column in (*_COLUMNS[1:], "from_config"))
    connection.execute(
        f"INSERT INTO email_reports ({', '.join(_COLUMNS)}, from_config, created_at) "
        f"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET {updated}",
        [schedule.name, schedule.project, list(schedule.recipients), schedule.every, schedule.day,
         schedule.hour, schedule.tz, schedule.model, from_config, now],
    )  # fmt: skip


def replace_config_schedules(
    connection: duckdb.DuckDBPyConnection, schedules: list[Schedule], now: datetime
) -> None:
    """Make the schedules the config file declares exactly `schedules` (one of the same name added
    with `reports add` gives way), in one transaction; no write when they already are."""
    current = sorted(
        (s for s, from_config, _ in schedule_rows(connection) if from_config), key=lambda s: s.name
    )
    if current == sorted(schedules, key=lambda s: s.name):
        return
    with transaction(connection):
        wanted = [schedule.name for schedule in schedules]
        connection.execute(
            "DELETE FROM email_reports WHERE from_config AND NOT list_contains(?, name)", [wanted]
        )
        for schedule in schedules:  # those kept keep their creation time (upsert_schedule)
            upsert_schedule(connection, schedule, now, from_config=True)


def delete_schedule(connection: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Remove a schedule (its sends stay, as a record); False when there was none of that name."""
    existed = connection.execute("SELECT count(*) FROM email_reports WHERE name = ?", [name]).fetchall()[0][0]
    connection.execute("DELETE FROM email_reports WHERE name = ?", [name])
    return bool(existed)


class SendRow(NamedTuple):
    """One row of `email_report_sends`."""

    name: str
    period_start: datetime
    period_end: datetime
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    sent_at: datetime | None
    message_id: str


_SEND_COLUMNS = ", ".join(SendRow._fields)


def find_send(connection: duckdb.DuckDBPyConnection, name: str, period_start: datetime) -> SendRow | None:
    """The send of `name` for the period starting at `period_start`, if any was tried."""
    found = connection.execute(
        f"SELECT {_SEND_COLUMNS} FROM email_report_sends WHERE name = ? AND period_start = ?",
        [name, period_start],
    ).fetchall()
    return SendRow(*found[0]) if found else None


def record_send(connection: duckdb.DuckDBPyConnection, send: SendRow) -> None:
    """Store (or update) a send's outcome."""
    # An upsert as the ClickHouse cursor knows it (INSERT OR REPLACE it does not).
    updated = ", ".join(f"{name} = excluded.{name}" for name in SendRow._fields[2:])
    connection.execute(
        f"INSERT INTO email_report_sends ({_SEND_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
        f"ON CONFLICT (name, period_start) DO UPDATE SET {updated}",
        list(send),
    )


def last_sends(connection: duckdb.DuckDBPyConnection) -> dict[str, SendRow]:
    """Each schedule's latest send (by period), by name."""
    found = connection.execute(
        f"SELECT {_SEND_COLUMNS} FROM email_report_sends "
        "QUALIFY row_number() OVER (PARTITION BY name ORDER BY period_start DESC) = 1"
    ).fetchall()
    return {row[0]: SendRow(*row) for row in found}
