"""`pulsegate reports …`: scheduled email reports, and one composed now (offline or in the server).

Composing reads the database where it is (inside the server: between two group commits, like
`pulsegate report`); sending is the CLI's own SMTP conversation (`reports send`) or the server's
scheduled job (services/email_reports.py), never on the writer's thread.
"""

from __future__ import annotations

import secrets
import smtplib
from datetime import datetime
from email.message import EmailMessage

import msgspec

from pulsegate.config import EmailSettings
from pulsegate.domain import email_reports as mail
from pulsegate.domain.attribution_reports import parse_model
from pulsegate.domain.periods import zone
from pulsegate.domain.timestamps import epoch_ms, now_ms, utc_datetime
from pulsegate.domain.tracking import check_project
from pulsegate.errors import DeliveryFailed, InvalidInput, UnknownId
from pulsegate.ops.context import NoArguments, OpContext
from pulsegate.ops.operation import Operation
from pulsegate.services.email_reports import deliver, describe_failure, gather
from pulsegate.store import email_reports as sql

# `reports add` takes what a `[[reports]]` table of the config file takes.
AddSchedule = mail.ScheduleOptions


class RemoveSchedule(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Arguments of `reports remove`."""

    name: str


class ComposeArgs(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Arguments of `reports send`: a schedule's report, or one of a project (or all) for the last
    whole week or month."""

    name: str | None = None
    project: str | None = None
    period: str = "week"
    tz: str = "UTC"
    model: str = "last"
    dashboard_url: str = ""


class Composed(msgspec.Struct, kw_only=True):
    """A report's content, and who its schedule sends it to (none for an unscheduled one)."""

    content: mail.ReportContent
    recipients: list[str]


def add_schedule(context: OpContext, args: AddSchedule) -> mail.ScheduleInfo:
    """Store a schedule (again with the same name: replace it, keeping its place in time)."""
    checked = args.schedule()
    check_known_project(context, checked.project)
    _refuse_config_schedule(context, checked.name, "change it there")
    sql.upsert_schedule(context.connection, checked, utc_datetime(now_ms()))
    return next(info for info in list_schedules(context, NoArguments()) if info.name == checked.name)


def list_schedules(context: OpContext, args: NoArguments) -> list[mail.ScheduleInfo]:
    """Every schedule, with its latest send and the next."""
    now = now_ms()
    last = sql.last_sends(context.connection)
    return [
        mail.ScheduleInfo(
            name=schedule.name,
            project=schedule.project,
            to=list(schedule.recipients),
            every=schedule.every,
            day=schedule.day,
            hour=schedule.hour,
            tz=schedule.tz,
            model=schedule.model,
            description=schedule.describe(),
            declared_in="config" if from_config else "cli",
            last_send=_last_send(last.get(schedule.name)),
            next_send_ms=mail.next_due(schedule, now).send_ms,
        )
        for schedule, from_config, _ in sql.schedule_rows(context.connection)
    ]


def _last_send(row: sql.SendRow | None) -> mail.LastSend | None:
    if row is None:
        return None
    return mail.LastSend(
        status=row.status, period_start_ms=epoch_ms(row.period_start), period_end_ms=epoch_ms(row.period_end),
        attempts=row.attempts, sent_ms=_ms(row.sent_at), next_attempt_ms=_ms(row.next_attempt_at),
        error=row.last_error,
    )  # fmt: skip


def _ms(moment: datetime | None) -> int | None:
    return epoch_ms(moment) if moment is not None else None


def _refuse_config_schedule(context: OpContext, name: str, what: str) -> None:
    """The config file's schedules are changed in the file: each start writes them again."""
    if any(s.name == name and from_config for s, from_config, _ in sql.schedule_rows(context.connection)):
        raise InvalidInput(f"The report {name!r} is declared in the config file ([[reports]]): {what}")


def remove_schedule(context: OpContext, args: RemoveSchedule) -> list[mail.ScheduleInfo]:
    """Remove a schedule (its sends stay on record); returns the schedules left."""
    _refuse_config_schedule(context, args.name, "remove it there")
    if not sql.delete_schedule(context.connection, args.name):
        raise UnknownId(f"No report {args.name!r}; `pulsegate reports list` shows them")
    return list_schedules(context, NoArguments())


def compose(context: OpContext, args: ComposeArgs) -> Composed:
    """The content of a report of the last whole period, as its schedule (or the options) say."""
    now = now_ms()
    if args.name is not None:
        found = [s for s, _, _ in sql.schedule_rows(context.connection) if s.name == args.name]
        if not found:
            raise UnknownId(f"--name: no report {args.name!r}; `pulsegate reports list` shows them")
        schedule = found[0]
        due = mail.latest_due(schedule, now)
        content = gather(
            context.connection, schedule.project, due.start_ms, due.end_ms, schedule.tz, schedule.model,
            args.dashboard_url, schedule.every,
        )  # fmt: skip
        return Composed(content=content, recipients=list(schedule.recipients))
    if args.period not in ("week", "month"):
        raise InvalidInput(f"--period: week or month (got {args.period!r})")
    project = check_known_project(context, args.project)
    tz = zone(args.tz)
    every: mail.Every = "month" if args.period == "month" else "week"
    start, end = mail.period_for(every, now, tz)
    content = gather(
        context.connection, project, start, end, tz, parse_model(args.model), args.dashboard_url, every
    )
    return Composed(content=content, recipients=[])


def check_known_project(context: OpContext, project: str | None) -> str | None:
    """`project` when it is registered or has traffic (a typo would mail zeros every week)."""
    if project is None:
        return None
    check_project(project, "--project")
    registered = context.connection.execute("SELECT count(*) FROM projects WHERE name = ?", [project])
    tracked = context.connection.execute("SELECT count(*) FROM sessions WHERE project = ? LIMIT 1", [project])
    if not registered.fetchall()[0][0] and not tracked.fetchall()[0][0]:
        raise InvalidInput(
            f"--project: no project {project!r} is registered or has traffic (pulsegate projects list)"
        )
    return project


ADD = Operation("reports.add", add_schedule, AddSchedule, mail.ScheduleInfo, on_clickhouse=True)
LIST = Operation("reports.list", list_schedules, NoArguments, list[mail.ScheduleInfo], on_clickhouse=True)
REMOVE = Operation(
    "reports.remove", remove_schedule, RemoveSchedule, list[mail.ScheduleInfo], on_clickhouse=True
)
COMPOSE = Operation("reports.compose", compose, ComposeArgs, Composed, on_clickhouse=True)


def message_of(composed: Composed, settings: EmailSettings, recipients: list[str]) -> EmailMessage:
    """The email `reports send` sends (or shows with --dry-run)."""
    sender = settings.sender or "PulseGate <pulsegate@localhost>"
    sent = now_ms()
    # A message of its own: a report sent by hand is not a try of a scheduled one.
    identifier = mail.message_id(f"by hand {secrets.token_hex(8)}", sent, sender)
    return mail.build_message(composed.content, sender, recipients, identifier, sent)


def send_now(settings: EmailSettings, message: EmailMessage) -> None:
    """Send through the configured SMTP server from this process (the CLI's, not the server's
    writer); DeliveryFailed saying why when it is not taken, NotConfigured without a server."""
    try:
        deliver(settings, message)
    except (OSError, smtplib.SMTPException, UnicodeError) as exc:
        raise DeliveryFailed(f"Not sent: {describe_failure(exc)}") from None
