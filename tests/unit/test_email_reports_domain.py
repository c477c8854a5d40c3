"""Email report schedules (when each is due, which period it reports) and the message's parts."""

from __future__ import annotations

import email
from datetime import datetime
from email import policy
from zoneinfo import ZoneInfo

import pytest

from pulsegate.domain import email_reports as mail
from pulsegate.errors import InvalidInput

BERLIN = ZoneInfo("Europe/Berlin")


def ms(*parts: int, tz: ZoneInfo = BERLIN) -> int:
    return int(datetime(*parts, tzinfo=tz).timestamp() * 1000)


def weekly(**options: object) -> mail.Schedule:
    given = {"name": "weekly", "to": ["team@example.com"], "tz": "Europe/Berlin", **options}
    return mail.ScheduleOptions(**given).schedule()  # type: ignore[arg-type]


def test_a_weekly_report_is_due_on_its_day_and_reports_the_week_before() -> None:
    schedule = weekly(day="monday", hour=8)
    # Wednesday 11 March 2026: the latest send was Monday the 9th at 08:00, for 2 to 9 March.
    due = mail.latest_due(schedule, ms(2026, 3, 11, 12))
    assert (due.send_ms, due.start_ms, due.end_ms) == (ms(2026, 3, 9, 8), ms(2026, 3, 2), ms(2026, 3, 9))
    # At 07:59 on the Monday, the send before is still the latest.
    assert mail.latest_due(schedule, ms(2026, 3, 9, 7, 59)).send_ms == ms(2026, 3, 2, 8)
    assert mail.next_due(schedule, ms(2026, 3, 9, 7, 59)).send_ms == ms(2026, 3, 9, 8)
    # Sent on a Wednesday, it still reports Monday to Sunday.
    wednesday = mail.latest_due(weekly(day=3, hour=0), ms(2026, 3, 12, 9))
    assert (wednesday.start_ms, wednesday.end_ms) == (ms(2026, 3, 2), ms(2026, 3, 9))


def test_the_week_of_a_clock_change_is_167_hours() -> None:
    # Clocks go forward in Berlin on 29 March 2026.
    due = mail.latest_due(weekly(), ms(2026, 3, 30, 9))
    assert due.end_ms - due.start_ms == 167 * 3_600_000


def test_a_monthly_report_reports_the_calendar_month_before() -> None:
    schedule = weekly(every="month", day=3, hour=6)
    due = mail.latest_due(schedule, ms(2026, 1, 20))
    assert (due.send_ms, due.start_ms, due.end_ms) == (ms(2026, 1, 3, 6), ms(2025, 12, 1), ms(2026, 1, 1))
    assert mail.next_due(schedule, ms(2026, 1, 20)).send_ms == ms(2026, 2, 3, 6)
    assert mail.period_for("month", ms(2026, 3, 15), "Europe/Berlin") == (ms(2026, 2, 1), ms(2026, 3, 1))


@pytest.mark.parametrize(
    ("options", "said"),
    [
        ({"to": []}, "--to: give at least one address"),
        ({"to": ["not-an-address"]}, "is not an email address"),
        ({"to": ["a@example.com\nBcc: x@evil.test"]}, "is not an email address"),
        ({"every": "day"}, "--every: week or month"),
        ({"day": "someday"}, "--day"),
        ({"every": "month", "day": 31}, "1 to 28"),
        ({"hour": 24}, "--hour"),
        ({"tz": "Mars/Base"}, "unknown time zone"),
        ({"model": "best"}, "model"),
        ({"project": "no spaces"}, "--project"),
    ],
)
def test_bad_schedules_are_refused_naming_the_option(options: dict[str, object], said: str) -> None:
    with pytest.raises(InvalidInput, match=said.replace("(", r"\(")):
        weekly(**options)


def content(**changes: object) -> mail.ReportContent:
    base = mail.ReportContent(
        title="acme: 2 to 8 March 2026", scope="acme", start_ms=ms(2026, 3, 2), end_ms=ms(2026, 3, 9),
        tz="Europe/Berlin",
        headlines=[mail.Headline(label="Visitors", now=1200, before=1000),
                   mail.Headline(label="Average engaged time", now=65_000, before=None, kind="duration")],
        daily=[("2026-03-02", 100), ("2026-03-03", 0)],
        lists=[mail.Ranked(title="Top pages", columns=["Page", "Visitors"], rows=[["/<script>", 7]]),
               mail.Ranked(title="Forms", columns=["Form"], rows=[], empty="No form activity.")],
        anomalies=["Traffic dropped & <b>vanished</b>"],
    )  # fmt: skip
    return mail.ReportContent(**{**{f: getattr(base, f) for f in base.__struct_fields__}, **changes})  # type: ignore[arg-type]


def test_the_message_has_a_text_part_and_an_html_part_that_escapes_every_value() -> None:
    message = mail.build_message(
        content(), "PulseGate <r@example.com>", ["a@example.com"], "<x@example.com>", 0
    )
    parsed = email.message_from_bytes(message.as_bytes(), policy=policy.default)
    assert (
        parsed["Subject"] == "PulseGate: acme: 2 to 8 March 2026"
        and parsed["Auto-Submitted"] == "auto-generated"
    )
    text = parsed.get_body(("plain",)).get_content()
    assert "Visitors" in text and "1,200  +20%" in text and "1m 05s" in text and "No form activity." in text
    page = parsed.get_body(("html",)).get_content()
    assert "/&lt;script&gt;" in page and "<script" not in page and "&lt;b&gt;vanished" in page
    assert "<svg" not in page and "<style" not in page and "http" not in page.split("<body", 1)[1]


def test_numbers_and_changes_read_as_people_write_them() -> None:
    assert (
        mail.formatted(1234) == "1,234"
        and mail.formatted(None) == "-"
        and mail.formatted(12.5, "percent") == "12.5%"
    )
    assert mail.change(mail.Headline(label="x", now=5, before=0)) == "new"
    assert mail.change(mail.Headline(label="x", now=0, before=0)) == "no change"
    assert mail.change(mail.Headline(label="x", now=90, before=100)) == "-10%"
    assert (
        mail.period_title(ms(2026, 1, 26), ms(2026, 2, 2), "Europe/Berlin") == "26 January to 1 February 2026"
    )


def test_a_report_compares_with_the_whole_period_before() -> None:
    # March against February (28 days), not against the 31 days before 1 March.
    assert mail.previous_period("month", ms(2026, 3, 1), "Europe/Berlin") == (ms(2026, 2, 1), ms(2026, 3, 1))
    assert mail.previous_period("week", ms(2026, 3, 30), "Europe/Berlin") == (
        ms(2026, 3, 23),
        ms(2026, 3, 30),
    )


def test_the_sender_is_one_address() -> None:
    assert mail.check_sender("PulseGate <r@example.com>") == "PulseGate <r@example.com>"
    for bad in ("r@example.com, x@example.com", "nobody", "PulseGate <r@example.com>\nBcc: x@example.com"):
        with pytest.raises(InvalidInput):
            mail.check_sender(bad)
