"""Scheduled email reports (pure): a schedule and when it is due, and the message it sends.

A weekly report sent on Monday at 08:00 covers the week that ended at Monday 00:00 (Monday to
Sunday, in the schedule's time zone); a monthly one sent on the 1st covers the month before
(on the 3rd: still the calendar month before). The period is fixed by the send moment, so a send
retried hours later still reports the same days, and each (schedule, period) is sent once.

The message has a plain-text part and an HTML part that mail clients show as meant: tables and
inline styles only (no stylesheet, script, external image or SVG, which Gmail and Outlook drop),
the daily bars drawn as table cells.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, parseaddr
from typing import TYPE_CHECKING, Literal

import msgspec

from pulsegate.domain.goals import check_name
from pulsegate.domain.tracking import check_project
from pulsegate.errors import InvalidInput

if TYPE_CHECKING:  # the report engine and the time zones are imported where a schedule is checked
    # or run: the config that declares none (and every CLI command reading it) loads neither
    from zoneinfo import ZoneInfo

    from pulsegate.domain.attribution_reports import Model

Every = Literal["week", "month"]
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MAX_RECIPIENTS = 50
_ADDRESS = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;]+$")


class ScheduleOptions(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A schedule as a person declares it: a `[[reports]]` table of the config file, or the
    options of `pulsegate reports add` (the same names)."""

    name: str
    to: list[str]
    project: str | None = None  # None: every project
    every: str = "week"
    day: str | int = "monday"  # week: monday … sunday (or 1-7); month: 1-28
    hour: int = 8
    tz: str = "UTC"
    model: str = "last"  # the attribution model of "leads by campaign": first, last or linear

    def schedule(self) -> Schedule:
        """The checked schedule (InvalidInput names the option at fault)."""
        from pulsegate.domain.attribution_reports import parse_model
        from pulsegate.domain.periods import zone

        if self.every not in ("week", "month"):
            raise InvalidInput(f"--every: week or month (got {self.every!r})")
        if not 0 <= self.hour <= 23:
            raise InvalidInput(f"--hour: 0 to 23 (got {self.hour})")
        return Schedule(
            name=check_name(self.name),
            project=check_project(self.project, "--project") if self.project is not None else None,
            recipients=check_recipients(self.to),
            every=self.every,  # type: ignore[arg-type]
            day=_day(self.every, self.day),
            hour=self.hour,
            tz=zone(self.tz),
            model=parse_model(self.model),
        )


def _day(every: str, day: str | int) -> int:
    text = str(day).strip().lower()
    if every == "week":
        if text in WEEKDAYS:
            return WEEKDAYS.index(text) + 1
        if text.isdigit() and 1 <= int(text) <= 7:
            return int(text)
        raise InvalidInput(f"--day: for a weekly report a weekday, monday to sunday (got {day!r})")
    if text.isdigit() and 1 <= int(text) <= 28:
        return int(text)
    raise InvalidInput(f"--day: for a monthly report a day of the month, 1 to 28 (got {day!r})")


def check_recipients(addresses: Sequence[str]) -> tuple[str, ...]:
    """Each address plain (`name@example.com`), at least one, at most MAX_RECIPIENTS."""
    cleaned = tuple(dict.fromkeys(address.strip() for address in addresses if address.strip()))
    if not cleaned:
        raise InvalidInput("--to: give at least one address")
    if len(cleaned) > MAX_RECIPIENTS:
        raise InvalidInput(f"--to: at most {MAX_RECIPIENTS} addresses")
    for address in cleaned:
        if not _ADDRESS.match(address) or len(address) > 254:
            raise InvalidInput(f"--to: {address!r} is not an email address such as name@example.com")
    return cleaned


def check_sender(sender: str) -> str:
    """`from` as `reports@example.com` or `PulseGate <reports@example.com>`: one address."""
    _, address = parseaddr(sender)
    several = len(getaddresses([sender])) != 1
    if several or not address or not _ADDRESS.match(address) or "\n" in sender or "\r" in sender:
        raise InvalidInput(
            f"email.from: not an address such as PulseGate <reports@example.com> (got {sender!r})"
        )
    return sender


@dataclass(frozen=True, slots=True)
class Schedule:
    """A checked schedule."""

    name: str
    project: str | None
    recipients: tuple[str, ...]
    every: Every
    day: int  # week: 1 (Monday) to 7; month: 1 to 28
    hour: int
    tz: str
    model: Model = "last"

    def describe(self) -> str:
        """`every Monday at 08:00 Europe/Berlin`, for people."""
        when = WEEKDAYS[self.day - 1].capitalize() if self.every == "week" else f"month on day {self.day}"
        return f"every {when} at {self.hour:02d}:00 {self.tz}"


@dataclass(frozen=True, slots=True)
class Due:
    """One send of a schedule: the moment it is due and the period it reports (epoch ms)."""

    send_ms: int
    start_ms: int
    end_ms: int


def _zone_info(name: str) -> ZoneInfo:
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def _at(day: date, hour: int, tz: ZoneInfo) -> int:
    return int(datetime(day.year, day.month, day.day, hour, tzinfo=tz).timestamp() * 1000)


def _send_days_around(schedule: Schedule, today: date) -> list[date]:
    """The schedule's send days from about two periods before `today` to one after, in order."""
    if schedule.every == "week":
        monday = today - timedelta(days=today.weekday())
        return [monday + timedelta(days=schedule.day - 1 + 7 * n) for n in (-2, -1, 0, 1)]
    months = []
    year, month = today.year, today.month
    for offset in (-2, -1, 0, 1):
        y, m = divmod(month - 1 + offset, 12)
        months.append(date(year + y, m + 1, schedule.day))
    return months


def _period(schedule: Schedule, send_day: date, tz: ZoneInfo) -> tuple[int, int]:
    """The period a send on `send_day` reports: the whole week or calendar month before it."""
    return _period_before(schedule.every, send_day, tz)


def _period_before(every: Every, send_day: date, tz: ZoneInfo) -> tuple[int, int]:
    """The whole week (Monday to Sunday) or calendar month before the one holding `send_day`
    (sent on a Sunday, a weekly report covers the week before that Sunday's own)."""
    if every == "week":
        end = send_day - timedelta(days=send_day.weekday())  # the Monday that starts its week
        return _at(end - timedelta(days=7), 0, tz), _at(end, 0, tz)
    first = send_day.replace(day=1)
    previous = (first - timedelta(days=1)).replace(day=1)
    return _at(previous, 0, tz), _at(first, 0, tz)


def latest_due(schedule: Schedule, now_ms: int) -> Due:
    """The schedule's latest send moment at or before `now_ms`, with its period."""
    tz = _zone_info(schedule.tz)
    today = datetime.fromtimestamp(now_ms / 1000, tz).date()
    past = [day for day in _send_days_around(schedule, today) if _at(day, schedule.hour, tz) <= now_ms]
    day = past[-1]
    return Due(_at(day, schedule.hour, tz), *_period(schedule, day, tz))


def next_due(schedule: Schedule, now_ms: int) -> Due:
    """The schedule's first send moment after `now_ms`."""
    tz = _zone_info(schedule.tz)
    today = datetime.fromtimestamp(now_ms / 1000, tz).date()
    day = next(day for day in _send_days_around(schedule, today) if _at(day, schedule.hour, tz) > now_ms)
    return Due(_at(day, schedule.hour, tz), *_period(schedule, day, tz))


def period_for(every: Every, now_ms: int, tz: str) -> tuple[int, int]:
    """The last whole week (Monday to Sunday) or calendar month before `now_ms` (reports send now)."""
    zone_info = _zone_info(tz)
    return _period_before(every, datetime.fromtimestamp(now_ms / 1000, zone_info).date(), zone_info)


def previous_period(every: Every, start_ms: int, tz: str) -> tuple[int, int]:
    """The week or calendar month before the period that starts at `start_ms` (what a report
    compares with: the whole month before, not the same number of days)."""
    zone_info = _zone_info(tz)
    return _period_before(every, datetime.fromtimestamp(start_ms / 1000, zone_info).date(), zone_info)


def message_id(name: str, start_ms: int, sender: str) -> str:
    """The same Message-ID for every try of one schedule's one period (mail systems drop a repeat)."""
    digest = hashlib.sha256(f"{name}\0{start_ms}".encode()).hexdigest()[:24]
    return f"<report.{digest}@{_sender_domain(sender)}>"


def _sender_domain(sender: str) -> str:
    return parseaddr(sender)[1].rpartition("@")[2] or "pulsegate.local"


class LastSend(msgspec.Struct, kw_only=True):
    """A schedule's latest send: `sent`, `failed` (tried again at `next_attempt_ms`), `given_up`,
    or `sending` (the server stopped during it: never sent again by itself)."""

    status: str
    period_start_ms: int
    period_end_ms: int
    attempts: int
    sent_ms: int | None
    next_attempt_ms: int | None
    error: str | None


class ScheduleInfo(msgspec.Struct, kw_only=True):
    """A schedule as `reports list` and `status` show it."""

    name: str
    project: str | None
    to: list[str]
    every: str
    day: int
    hour: int
    tz: str
    model: str
    description: str  # every Monday at 08:00 Europe/Berlin
    declared_in: str  # cli or config
    last_send: LastSend | None
    next_send_ms: int


# ---- the message ----------------------------------------------------------------------------


class Headline(msgspec.Struct, kw_only=True):
    """One number of the period and the period before."""

    label: str
    now: float | None
    before: float | None
    kind: Literal["count", "duration", "percent"] = "count"


class Ranked(msgspec.Struct, kw_only=True):
    """One ranked list of the report: a title, its columns and rows of cells."""

    title: str
    columns: list[str]
    rows: list[list[str | float | int | None]]
    empty: str = "Nothing in this period."


class ReportContent(msgspec.Struct, kw_only=True):
    """Everything one report says, gathered from the analytics answers."""

    title: str  # "acme: week of 3 to 9 March 2026"
    scope: str  # "acme" or "all projects"
    start_ms: int
    end_ms: int
    tz: str
    headlines: list[Headline]
    daily: list[tuple[str, int]]  # (day, visitors)
    lists: list[Ranked]
    anomalies: list[str]
    dashboard_url: str | None = None


def period_title(start_ms: int, end_ms: int, tz: str) -> str:
    """`3 to 9 March 2026` (the last day is the day before `end_ms`)."""
    zone_info = _zone_info(tz)
    first = datetime.fromtimestamp(start_ms / 1000, zone_info).date()
    last = datetime.fromtimestamp((end_ms - 1) / 1000, zone_info).date()
    if first.month == last.month and first.year == last.year:
        return f"{first.day} to {last.day} {last:%B %Y}"
    return f"{first.day} {first:%B} to {last.day} {last:%B %Y}"


def formatted(value: float | None, kind: str = "count") -> str:
    """A number as the report shows it: 1,234 · 2m 05s · 12.5%; a dash when unknown."""
    if value is None:
        return "-"
    if kind == "duration":
        seconds = round(value / 1000)
        return f"{seconds // 60}m {seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"
    if kind == "percent":
        return f"{value:.1f}%"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def change(headline: Headline) -> str:
    """`+12%`, `-3%`, `new` or `no change` against the period before."""
    now, before = headline.now, headline.before
    if now is None or before is None:
        return ""
    if before == 0:
        return "new" if now else "no change"
    ratio = (now - before) / before
    if abs(ratio) < 0.005:
        return "no change"
    return f"{ratio:+.0%}"


def render_text(content: ReportContent) -> str:
    """The plain-text part."""
    lines = [content.title, "=" * len(content.title), ""]
    for headline in content.headlines:
        moved = change(headline)
        lines.append(f"{headline.label:<22} {formatted(headline.now, headline.kind):>12}  {moved}".rstrip())
    lines.append("")
    for ranked in content.lists:
        lines += [ranked.title, "-" * len(ranked.title)]
        if not ranked.rows:
            lines.append(ranked.empty)
        for row in ranked.rows:
            cells = [formatted(c) if isinstance(c, int | float) else (c or "(none)") for c in row]
            lines.append("  " + " | ".join(str(cell) for cell in cells))
        lines.append("")
    lines.append("Anomalies")
    lines.append("---------")
    lines += [f"- {sentence}" for sentence in content.anomalies] or ["None found."]
    if content.dashboard_url:
        lines += ["", f"Dashboard: {content.dashboard_url}"]
    return "\n".join(lines) + "\n"


_CELL = "padding:4px 8px;border-bottom:1px solid #e3e7ee;font-size:14px;"
_NUMBER = _CELL + "text-align:right;font-variant-numeric:tabular-nums;"


def render_html(content: ReportContent) -> str:
    """The HTML part: tables and inline styles only."""
    e = html.escape
    parts = [
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>", e(content.title), "</title></head>",
        '<body style="margin:0;padding:16px;background:#f5f7fa;font-family:Arial,Helvetica,sans-serif;'
        'color:#1d2430;">',
        '<table role="presentation" width="100%" style="max-width:640px;margin:0 auto;background:#ffffff;'
        'border:1px solid #e3e7ee;border-collapse:collapse;"><tr><td style="padding:20px;">',
        f'<h1 style="font-size:20px;margin:0 0 4px;">{e(content.title)}</h1>',
        '<p style="margin:0 0 16px;color:#5d6878;font-size:13px;">',
        f"Against the period before; times in {e(content.tz)}.</p>",
        '<table role="presentation" width="100%" style="border-collapse:collapse;margin-bottom:16px;">',
    ]  # fmt: skip
    for headline in content.headlines:
        moved = change(headline)
        good = moved.startswith("+")  # every headline is better higher
        colour = "#5d6878" if moved in ("", "no change", "new") else ("#1a7f37" if good else "#c0392b")
        parts.append(
            f'<tr><td style="{_CELL}">{e(headline.label)}</td>'
            f'<td style="{_NUMBER}font-weight:bold;">{e(formatted(headline.now, headline.kind))}</td>'
            f'<td style="{_NUMBER}color:{colour};">{e(moved)}</td></tr>'
        )
    parts.append("</table>")
    parts.append(_daily_bars(content.daily))
    for ranked in content.lists:
        parts.append(f'<h2 style="font-size:16px;margin:20px 0 6px;">{e(ranked.title)}</h2>')
        if not ranked.rows:
            parts.append(f'<p style="margin:0;color:#5d6878;font-size:14px;">{e(ranked.empty)}</p>')
            continue
        parts.append('<table role="presentation" width="100%" style="border-collapse:collapse;"><tr>')
        parts += [f'<th style="{_CELL}text-align:left;color:#5d6878;font-weight:normal;">{e(c)}</th>'
                  for c in ranked.columns]  # fmt: skip
        parts.append("</tr>")
        for row in ranked.rows:
            cells = []
            for cell in row:
                if isinstance(cell, int | float):
                    cells.append(f'<td style="{_NUMBER}">{e(formatted(cell))}</td>')
                else:
                    cells.append(f'<td style="{_CELL}">{e(cell or "(none)")}</td>')
            parts.append("<tr>" + "".join(cells) + "</tr>")
        parts.append("</table>")
    parts.append('<h2 style="font-size:16px;margin:20px 0 6px;">Anomalies</h2>')
    if content.anomalies:
        parts.append('<ul style="margin:0;padding-left:20px;font-size:14px;">')
        parts += [f"<li>{e(sentence)}</li>" for sentence in content.anomalies]
        parts.append("</ul>")
    else:
        parts.append('<p style="margin:0;color:#5d6878;font-size:14px;">None found.</p>')
    if content.dashboard_url:
        parts.append(f'<p style="margin:20px 0 0;font-size:14px;"><a href="{e(content.dashboard_url)}">'
                     "Open the dashboard</a></p>")  # fmt: skip
    parts.append("</td></tr></table></body></html>")
    return "".join(parts)


def _daily_bars(daily: list[tuple[str, int]]) -> str:
    """Visitors per day as a row of table cells whose heights are the bars (no image, no SVG)."""
    if not daily:
        return ""
    top = max((value for _, value in daily), default=0) or 1
    cells = []
    for day, value in daily:
        height = max(1, round(60 * value / top)) if value else 1
        cells.append(
            f'<td valign="bottom" title="{html.escape(day)}: {value:,}" style="padding:0 1px;">'
            f'<div style="height:{height}px;background:#3b6fd8;font-size:0;line-height:0;">&nbsp;</div></td>'
        )
    return (
        '<p style="margin:0 0 4px;color:#5d6878;font-size:13px;">Visitors per day</p>'
        '<table role="presentation" width="100%" style="border-collapse:collapse;height:62px;"><tr>'
        + "".join(cells)
        + "</tr></table>"
    )


def build_message(
    content: ReportContent, sender: str, recipients: Sequence[str], message_id: str, sent_ms: int
) -> EmailMessage:
    """The email: headers, a plain-text part and its HTML alternative."""
    message = EmailMessage()
    message["Subject"] = f"PulseGate: {content.title}"
    message["From"] = sender
    message["To"] = ", ".join(recipients) if recipients else "undisclosed-recipients:;"
    message["Date"] = format_datetime(datetime.fromtimestamp(sent_ms / 1000, UTC))
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to a report
    message.set_content(render_text(content))
    message.add_alternative(render_html(content), subtype="html")
    return message
