"""Scheduled email reports: what a report says (from the analytics answers), sending it over SMTP,
and the server's job that sends each schedule's report once per period, retrying failures."""

from __future__ import annotations

import asyncio
import logging
import smtplib
import socket
import ssl
from collections.abc import Awaitable, Callable
from datetime import datetime
from email.message import EmailMessage

import duckdb

from pulsegate.config import EmailSettings
from pulsegate.domain import email_reports as mail
from pulsegate.domain.attribution_reports import ATTRIBUTION_DIMENSIONS, ATTRIBUTION_METRICS, Model
from pulsegate.domain.periods import Paging, Window
from pulsegate.domain.reports import Order, ReportQuery, dimension, metrics_for
from pulsegate.domain.timestamps import now_ms, utc_datetime
from pulsegate.errors import NotConfigured
from pulsegate.services import reports
from pulsegate.services.anomalies import scan
from pulsegate.services.attribution_reports import attribution, forms
from pulsegate.store import email_reports as sql
from pulsegate.store.database import Database
from pulsegate.store.writer import Writer

logger = logging.getLogger("pulsegate.email_reports")
TOP_ROWS = 5
# Whether this process sends a report's try (name, period start ms, attempt): where several share it.
ClaimSend = Callable[[str, int, int], Awaitable[bool]]
MAX_RETRY_SECONDS = 86_400.0  # however many tries are allowed, a day apart at most
ANOMALY_HOURS = 72  # the anomaly scan's longest window: the last three days of the period


def gather(
    cursor: duckdb.DuckDBPyConnection,
    project: str | None,
    start_ms: int,
    end_ms: int,
    tz: str,
    model: Model = "last",
    dashboard_url: str = "",
    every: mail.Every = "week",
) -> mail.ReportContent:
    """Everything the report of `project` (None: every project) for [start_ms, end_ms) says,
    against the week or calendar month before."""
    projects = (project,) if project else None
    window = Window(start_ms, end_ms, tz)
    earlier = Window(*mail.previous_period(every, start_ms, tz), tz)
    now = reports.totals(cursor, ReportQuery(window, projects), window)
    before = reports.totals(cursor, ReportQuery(earlier, projects), earlier)
    headlines = [
        mail.Headline(label="Visitors", now=now.visitors, before=before.visitors),
        mail.Headline(label="Sessions", now=now.sessions, before=before.sessions),
        mail.Headline(label="Page views", now=now.page_views, before=before.page_views),
        mail.Headline(label="Average engaged time", now=now.average_engaged_ms,
                      before=before.average_engaged_ms, kind="duration"),
        mail.Headline(label="Leads", now=now.leads, before=before.leads),
    ]  # fmt: skip
    series = reports.timeseries(cursor, ReportQuery(window, projects), "day", metrics_for(["visitors"], None))
    daily = [(bucket["start"][:10], int(bucket["visitors"])) for bucket in series.buckets]
    plain = ReportQuery(window, projects)
    top = Paging(limit=TOP_ROWS, page=1)
    by_source = dimension("source")
    source_metrics = metrics_for(["visitors", "sessions", "leads"], by_source)
    sources = reports.breakdown(cursor, plain, by_source, source_metrics, Order("visitors", "desc"), top)
    by_page = dimension("page")
    pages = reports.breakdown(cursor, plain, by_page, metrics_for(["visitors", "pageviews"], by_page),
                              Order("visitors", "desc"), top)  # fmt: skip
    campaign_metrics = [ATTRIBUTION_METRICS[name] for name in ("leads", "qualified", "won")]
    campaigns = attribution(cursor, plain, model, ATTRIBUTION_DIMENSIONS["utm_campaign"], campaign_metrics,
                            Order("leads", "desc"), top)  # fmt: skip
    form_rows = forms(cursor, plain, None, None, Order("views", "desc"), top)
    found = scan(cursor, end_ms, ANOMALY_HOURS, "normal", projects)
    return mail.ReportContent(
        title=f"{project or 'All projects'}: {mail.period_title(start_ms, end_ms, tz)}",
        scope=project or "all projects",
        start_ms=start_ms,
        end_ms=end_ms,
        tz=tz,
        headlines=headlines,
        daily=daily,
        lists=[
            mail.Ranked(
                title="Top sources",
                columns=["Source", "Visitors", "Sessions", "Leads"],
                rows=[[r["value"], r["visitors"], r["sessions"], r["leads"]] for r in sources.rows],
            ),
            mail.Ranked(
                title="Top pages",
                columns=["Page", "Visitors", "Page views"],
                rows=[[r["value"], r["visitors"], r["pageviews"]] for r in pages.rows],
            ),
            mail.Ranked(
                title=f"Leads by campaign ({model} touch)"
                if model != "linear"
                else "Leads by campaign (shared by every touch)",
                columns=["Campaign", "Leads", "Qualified", "Won"],
                rows=[[r["value"], r["leads"], r["qualified"], r["won"]] for r in campaigns.rows],
                empty="No leads in this period.",
            ),
            mail.Ranked(
                title="Forms",
                columns=["Form", "Seen", "Started", "Sent", "Leads", "Conversion (%)"],
                rows=[
                    [r["value"], r["views"], r["starts"], r["submits"], r["leads"], r["conversion_rate"]]
                    for r in form_rows.rows
                ],
                empty="No form activity in this period.",
            ),
        ],
        anomalies=[finding.message for finding in found.findings],
        dashboard_url=dashboard_url or None,
    )


def deliver(settings: EmailSettings, message: EmailMessage) -> None:
    """Send `message` through the configured SMTP server (blocking: call it off the event loop).
    OSError or smtplib.SMTPException when the server refuses, drops or does not answer in time."""
    if not settings.host:
        raise NotConfigured(
            "email.host: no SMTP server is configured ([email] host and from in the config file)"
        )
    context = ssl.create_default_context(cafile=settings.ca_file or None)
    client: smtplib.SMTP
    if settings.security == "tls":
        client = smtplib.SMTP_SSL(
            settings.host, settings.port, timeout=settings.timeout_seconds, context=context
        )
    else:
        client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_seconds)
    with client:
        if settings.security == "starttls":
            client.starttls(context=context)
        if settings.username:
            client.login(settings.username, settings.password)
        client.send_message(message)


def describe_failure(exc: BaseException) -> str:
    """One line for `status` and the log (never the password: smtplib does not put it in errors)."""
    # smtplib reports a timeout in the greeting as "Connection unexpectedly closed: timed out".
    if isinstance(exc, socket.timeout | TimeoutError) or str(exc).endswith("timed out"):
        return "the SMTP server did not answer in time"
    if isinstance(exc, UnicodeEncodeError):
        return "the username or password has a character SMTP logins cannot carry (use ASCII)"
    return f"{type(exc).__name__}: {exc}"[:300]


class EmailReports:
    """The server's scheduled sends: every minute, each schedule whose latest period has not been
    sent is gathered, sent and recorded; a failure is tried again with backoff. A send is
    recorded as 'sending' just before the SMTP conversation, so a crash in it never sends it
    twice (the row stays 'sending' and `reports list` says so)."""

    def __init__(
        self,
        database: Database,
        writer: Writer,
        settings: EmailSettings,
        *,
        clock: Callable[[], int] = now_ms,
        claim: ClaimSend | None = None,
    ) -> None:
        self._database = database
        self._writer = writer
        self._settings = settings
        self._clock = clock
        # On ClickHouse every process checks the schedules: a try is claimed before it is
        # recorded as 'sending', so one process sends it (services/stateless_leads.send_claims).
        self._claim = claim

    async def send_due(self) -> int:
        """Send every report that is due now; returns how many were sent."""
        if not self._settings.host:
            return 0
        sent = 0
        for schedule, _, created_at in await self._database.read(sql.schedule_rows):
            if await self._send_if_due(schedule, created_at):
                sent += 1
        return sent

    async def _send_if_due(self, schedule: mail.Schedule, created_at: datetime) -> bool:
        now = self._clock()
        due = mail.latest_due(schedule, now)
        start = utc_datetime(due.start_ms)
        previous = await self._database.read(sql.find_send, schedule.name, start)
        if previous is None and utc_datetime(due.send_ms) < created_at:
            return False  # the schedule did not exist then: its first report is the next one
        if previous is not None and (
            previous.status != "failed"  # sent, given up, or 'sending' left by a crash: never again
            or (previous.next_attempt_at is not None and utc_datetime(now) < previous.next_attempt_at)
        ):
            return False
        attempts = (previous.attempts if previous else 0) + 1
        sender = self._settings.sender
        identifier = mail.message_id(schedule.name, due.start_ms, sender)
        sending = sql.SendRow(
            schedule.name, start, utc_datetime(due.end_ms), "sending", attempts, None, None, None, identifier
        )
        try:
            # The message is made before the send is recorded as 'sending': only the SMTP
            # conversation lies between that record and its outcome.
            content = await self._database.read(
                gather, schedule.project, due.start_ms, due.end_ms, schedule.tz, schedule.model,
                self._settings.dashboard_url, schedule.every,
            )  # fmt: skip
            message = mail.build_message(content, sender, schedule.recipients, identifier, now)
            if self._claim is not None and not await self._claim(schedule.name, due.start_ms, attempts):
                return False  # another process took this try
            await self._writer.run(lambda connection: sql.record_send(connection, sending))
            await asyncio.to_thread(deliver, self._settings, message)
        except Exception as exc:  # any failure (SMTP, the database, the message) is a try to retry
            failed = self._failed(sending, exc)
            await self._writer.run(lambda connection: sql.record_send(connection, failed))
            logger.warning(
                "Email report %s not sent (try %d): %s", schedule.name, attempts, failed.last_error
            )
            return False
        done = sending._replace(status="sent", sent_at=utc_datetime(self._clock()))
        await self._writer.run(lambda connection: sql.record_send(connection, done))
        logger.info("Email report %s sent to %d recipients", schedule.name, len(schedule.recipients))
        return True

    def _failed(self, sending: sql.SendRow, exc: BaseException) -> sql.SendRow:
        settings = self._settings
        if sending.attempts >= settings.max_attempts:
            return sending._replace(status="given_up", last_error=describe_failure(exc))
        doubled = settings.first_retry_seconds * 2 ** min(sending.attempts - 1, 20)
        delay_ms = int(min(doubled, MAX_RETRY_SECONDS) * 1000)
        return sending._replace(
            status="failed",
            last_error=describe_failure(exc),
            next_attempt_at=utc_datetime(self._clock() + delay_ms),
        )
