"""Scheduled email reports through a real local SMTP server (aiosmtpd, STARTTLS with a certificate
the test makes, a login): the numbers of a sent report against the API's, the server's schedule
sending once per period, failures retried, a silent server that never blocks requests."""

from __future__ import annotations

import asyncio
import email
import re
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from litestar.testing import TestClient

from pulsegate.app import create_app
from pulsegate.config import load_settings
from pulsegate.domain import email_reports as mail
from pulsegate.ops.demo import SEED, SeedArgs
from pulsegate.ops.email_reports import ADD, AddSchedule
from pulsegate.ops.runner import run_operation
from pulsegate.services.email_reports import EmailReports
from pulsegate.services.stateless_leads import send_claims
from pulsegate.store.clickhouse.store import ClickHouseStore, ClickHouseWriter
from pulsegate.store.database import Database
from tests.e2e.running_server import free_port
from tests.helpers import app_cursor, app_rows, chdb_url, copy_everything, invoke, new_api_key, wait_for

pytestmark = pytest.mark.e2e
USER, PASSWORD = "reports", "s3cret-pass"


class Inbox:
    """What the SMTP server was given."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[list[str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(list(envelope.rcpt_tos))
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        return "250 OK"


def _login(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    good = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=good, handled=False)  # not handled: aiosmtpd answers 535 itself


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made with openssl."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def start_smtp(certificate: tuple[Path, Path], port: int) -> tuple[Controller, Inbox]:
    """aiosmtpd on `port`: STARTTLS required, and a login."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*map(str, certificate))
    inbox = Inbox()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True,
        authenticator=_login, auth_required=True,
    )  # fmt: skip
    controller.start()
    return controller, inbox


@pytest.fixture
def smtp(certificate: tuple[Path, Path]) -> Iterator[tuple[int, Inbox]]:
    port = free_port()
    controller, inbox = start_smtp(certificate, port)
    yield port, inbox
    controller.stop()


def email_settings(port: int, certificate: tuple[Path, Path], **more: Any) -> dict[str, Any]:
    return {"host": "127.0.0.1", "port": port, "security": "starttls", "username": USER, "password": PASSWORD,
            "from": "PulseGate <reports@example.com>", "ca_file": str(certificate[0]),
            "check_interval_seconds": 0.2, "first_retry_seconds": 0.5, **more}  # fmt: skip


def write_config(folder: Path, database: Path, email_table: dict[str, Any]) -> Path:
    lines = ["[storage]", f'database = "{database}"', "rollup_interval_seconds = 0", "[email]"]
    lines += [
        f"{key} = {value!r}" if isinstance(value, str) else f"{key} = {value}"
        for key, value in email_table.items()
    ]
    path = folder / "pulsegate.toml"
    path.write_text("\n".join(lines).replace("'", '"') + "\n", encoding="utf-8")
    return path


@pytest.fixture
def app(
    tmp_path: Path, smtp: tuple[int, Inbox], certificate: tuple[Path, Path]
) -> Iterator[tuple[TestClient[Any], Path]]:
    """A server with traffic of the last three weeks and [email] pointing at the test's SMTP server."""
    database = tmp_path / "pulsegate.duckdb"
    config = write_config(tmp_path, database, email_settings(smtp[0], certificate))
    settings = load_settings(config, environ={})
    run_operation(settings, SEED, SeedArgs(days=21, sessions=500, seed=3))
    with TestClient(create_app(settings)) as client:
        yield client, config


def api(client: TestClient[Any], key: str, path: str, **params: Any) -> Any:
    response = client.get(path, params=params, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200, response.text
    return response.json()


def last_week() -> tuple[int, int]:
    return mail.period_for("week", int(time.time() * 1000), "UTC")


def test_a_report_sent_now_carries_the_api_s_numbers(
    app: tuple[TestClient[Any], Path], smtp: tuple[int, Inbox]
) -> None:
    client, config = app
    database = client.app.state["runtime"].settings.database_path
    key = new_api_key(load_settings(config, environ={}))
    name = api(client, key, "/analytics/projects")["values"][0]
    done = invoke(
        database, "reports", "send", "--project", name, "--to", "boss@example.com", "--config", str(config)
    )
    assert done.exit_code == 0, done.output
    _, inbox = smtp
    wait_for(lambda: inbox.messages, what="the report")
    message = inbox.messages[0]
    assert inbox.envelopes[0] == ["boss@example.com"] and message["From"] == "PulseGate <reports@example.com>"
    start, end = last_week()
    window = {"from": str(start), "to": str(end), "tz": "UTC", "project": name}
    overview = api(client, key, "/analytics/overview", **window)
    text = message.get_body(("plain",)).get_content()
    for label, field in (("Visitors", "visitors"), ("Sessions", "sessions"), ("Page views", "page_views"),
                         ("Leads", "leads")):  # fmt: skip
        line = next(line for line in text.splitlines() if line.startswith(label + " "))
        assert line.split()[len(label.split())] == f"{overview['current'][field]:,}", (line, overview)
    sources = api(
        client, key, "/analytics/breakdown", dimension="source", metrics="visitors", limit=5, **window
    )
    html_part = message.get_body(("html",)).get_content()
    table_rows = [re.findall(r">([^<>]*)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", html_part)]
    for row in sources["rows"]:  # the source's own table row holds its visitors
        cells = next(cells for cells in table_rows if cells and cells[0] == row["value"])
        assert cells[1] == f"{row['visitors']:,}", (cells, row)
    # Against the week before (not the same number of days before: for a month it differs).
    earlier_start, earlier_end = mail.previous_period("week", start, "UTC")
    before = api(
        client, key, "/analytics/overview", **{**window, "from": str(earlier_start), "to": str(earlier_end)}
    )
    visitors_line = next(line for line in text.splitlines() if line.startswith("Visitors "))
    now_count, before_count = overview["current"]["visitors"], before["current"]["visitors"]
    if before_count:
        assert (
            visitors_line.endswith(f"{(now_count - before_count) / before_count:+.0%}")
            or "no change" in visitors_line
        )
    assert "<script" not in html_part and "<svg" not in html_part


def test_the_server_sends_a_due_report_once_and_records_it(
    app: tuple[TestClient[Any], Path], smtp: tuple[int, Inbox]
) -> None:
    client, config = app
    _, inbox = smtp
    database = client.app.state["runtime"].settings.database_path
    added = invoke(database, "reports", "add", "weekly", "--to", "team@example.com", "--day",
                   datetime.now(UTC).strftime("%A").lower(), "--hour", "0", "--config", str(config))  # fmt: skip
    assert added.exit_code == 0, added.output
    time.sleep(1)
    assert inbox.messages == []  # stored today: its first report is the next one
    with app_cursor(client) as cursor:  # as if it had been added a week ago
        cursor.execute("UPDATE email_reports SET created_at = created_at - INTERVAL 8 DAY")
    wait_for(lambda: inbox.messages, what="the scheduled report")
    time.sleep(1.5)  # several more checks: none sends it again
    assert len(inbox.messages) == 1 and inbox.envelopes == [["team@example.com"]]
    rows = app_rows(client, "SELECT status, attempts, message_id FROM email_report_sends")
    assert rows[0][:2] == ("sent", 1) and rows[0][2] == inbox.messages[0]["Message-ID"]
    listed = invoke(database, "status", "--config", str(config))
    assert "Email report weekly" in listed.output and ": sent 20" in listed.output


def test_a_refused_send_is_tried_again_and_a_silent_server_blocks_nothing(
    tmp_path: Path, certificate: tuple[Path, Path]
) -> None:
    # A server that takes the connection and never answers: the send times out.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    port = silent.getsockname()[1]
    database = tmp_path / "pulsegate.duckdb"
    config = write_config(tmp_path, database, email_settings(port, certificate, timeout_seconds=2))
    settings = load_settings(config, environ={})
    run_operation(settings, SEED, SeedArgs(days=10, sessions=200, seed=4))
    with TestClient(create_app(settings)) as client:
        with app_cursor(client) as cursor:
            cursor.execute(
                "INSERT INTO email_reports VALUES ('daily-ish', NULL, ['a@example.com'], 'week', 1, 0, 'UTC', "
                "'last', false, ?)", [datetime.now(UTC).replace(tzinfo=None) - timedelta(days=30)],
            )  # fmt: skip
        wait_for(lambda: app_rows(client, "SELECT 1 FROM email_report_sends WHERE status = 'sending'"),
                 what="the send to start")  # fmt: skip
        slowest = 0.0
        for _ in range(15):  # while the send waits on the silent server, requests are answered
            started = time.perf_counter()
            assert client.get("/health").status_code == 200
            slowest = max(slowest, time.perf_counter() - started)
            time.sleep(0.1)
        assert slowest < 1.0
        failed = wait_for(lambda: app_rows(client, "SELECT status, attempts, last_error FROM email_report_sends"
                                                   " WHERE status = 'failed'"), what="a failed send")  # fmt: skip
        assert "did not answer in time" in failed[0][2]
        # The SMTP server comes up on that port: the next try sends it, once.
        silent.close()
        controller, inbox = start_smtp(certificate, port)
        try:
            wait_for(lambda: inbox.messages, timeout=30, what="the retried report")
            time.sleep(1)
            assert len(inbox.messages) == 1
            sent = app_rows(client, "SELECT status, attempts FROM email_report_sends")
            assert sent[0][0] == "sent" and sent[0][1] >= 2
        finally:
            controller.stop()


def test_a_dry_run_writes_the_message_and_sends_nothing(
    app: tuple[TestClient[Any], Path], smtp: tuple[int, Inbox], tmp_path: Path
) -> None:
    client, config = app
    database = client.app.state["runtime"].settings.database_path
    shown = invoke(database, "reports", "send", "--dry-run", "--config", str(config))
    assert shown.exit_code == 0 and "Subject: PulseGate: All projects:" in shown.output
    page = tmp_path / "report.html"
    assert (
        invoke(database, "reports", "send", "--dry-run", "-o", str(page), "--config", str(config)).exit_code
        == 0
    )
    assert page.read_text().startswith("<!DOCTYPE html>")
    whole = tmp_path / "report.eml"
    assert (
        invoke(database, "reports", "send", "--dry-run", "-o", str(whole), "--config", str(config)).exit_code
        == 0
    )
    parsed = email.message_from_bytes(whole.read_bytes(), policy=policy.default)
    assert parsed.get_body(("plain",)) is not None
    time.sleep(0.5)
    assert smtp[1].messages == []


def test_bad_input_and_a_wrong_password_are_one_line(
    app: tuple[TestClient[Any], Path], certificate: tuple[Path, Path], tmp_path: Path, smtp: tuple[int, Inbox]
) -> None:
    client, config = app
    database = client.app.state["runtime"].settings.database_path
    for args, said in (
        (["reports", "add", "x", "--to", "nobody"], "is not an email address"),
        (["reports", "add", "x", "--to", "a@example.com", "--every", "fortnight"], "--every"),
        (["reports", "send", "--project", "acme"], "--to"),
        (["reports", "remove", "never-added"], "No report"),
        (["reports", "send", "-o", str(tmp_path / "r.eml")], "only with --dry-run"),
    ):
        done = invoke(database, *args, "--config", str(config))
        assert done.exit_code == 2 and said in done.output and "Traceback" not in done.output, (
            args,
            done.output,
        )
    wrong = tmp_path / "wrong"
    wrong.mkdir()
    bad = write_config(wrong, database, email_settings(smtp[0], certificate, password="nope"))
    done = invoke(database, "reports", "send", "--to", "a@example.com", "--config", str(bad))
    assert (
        done.exit_code == 1
        and "Not sent: SMTPAuthenticationError" in done.output
        and "nope" not in done.output
    )
    untrusted = tmp_path / "untrusted"
    untrusted.mkdir()
    plain = write_config(untrusted, database, {**email_settings(smtp[0], certificate), "ca_file": ""})
    done = invoke(database, "reports", "send", "--to", "a@example.com", "--config", str(plain))
    assert done.exit_code == 1 and "CERTIFICATE_VERIFY_FAILED" in done.output


def test_refused_sends_are_retried_then_given_up_and_a_send_cut_short_is_never_repeated(
    tmp_path: Path, certificate: tuple[Path, Path]
) -> None:
    closed = free_port()  # nothing listens: every try is refused
    database = tmp_path / "pulsegate.duckdb"
    config = write_config(tmp_path, database, email_settings(closed, certificate, max_attempts=3,
                                                             first_retry_seconds=0.2))  # fmt: skip
    settings = load_settings(config, environ={})
    run_operation(settings, SEED, SeedArgs(days=10, sessions=200, seed=5))
    long_ago = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=30)
    with TestClient(create_app(settings)) as client:
        with app_cursor(client) as cursor:
            for name in ("refused", "cut-short"):
                cursor.execute(
                    "INSERT INTO email_reports VALUES (?, NULL, ['a@example.com'], 'week', 1, 0, 'UTC', 'last', "
                    "false, ?)", [name, long_ago],
                )  # fmt: skip
            # A send the server was in the middle of when it stopped, for the period due now.
            schedule = mail.ScheduleOptions(name="cut-short", to=["a@example.com"], day=1, hour=0).schedule()
            due = mail.latest_due(schedule, int(time.time() * 1000))
            cursor.execute(
                "INSERT INTO email_report_sends VALUES ('cut-short', ?, ?, 'sending', 1, NULL, NULL, NULL, '<x@y>')",
                [datetime.fromtimestamp(due.start_ms / 1000, UTC).replace(tzinfo=None),
                 datetime.fromtimestamp(due.end_ms / 1000, UTC).replace(tzinfo=None)],
            )  # fmt: skip
        given_up = wait_for(lambda: app_rows(client, "SELECT attempts, last_error FROM email_report_sends "
                                                     "WHERE name = 'refused' AND status = 'given_up'"),
                            timeout=30, what="the report to be given up")  # fmt: skip
        assert given_up[0][0] == 3 and "ConnectionRefusedError" in given_up[0][1]
        assert app_rows(
            client, "SELECT status, attempts FROM email_report_sends WHERE name = 'cut-short'"
        ) == [("sending", 1)]
        listed = invoke(database, "reports", "list", "--config", str(config))
        assert (
            "given up after 3 tries" in listed.output and "sending when the server stopped" in listed.output
        )


def test_a_schedule_changed_keeps_its_pending_retry(app: tuple[TestClient[Any], Path]) -> None:
    client, config = app
    database = client.app.state["runtime"].settings.database_path
    assert (
        invoke(
            database, "reports", "add", "weekly", "--to", "a@example.com", "--config", str(config)
        ).exit_code
        == 0
    )
    with app_cursor(client) as cursor:
        cursor.execute("UPDATE email_reports SET created_at = created_at - INTERVAL 30 DAY")
        (before,) = cursor.execute("SELECT created_at FROM email_reports").fetchall()[0]
    changed = invoke(database, "reports", "add", "weekly", "--to", "a@example.com", "--to", "b@example.com",
                     "--config", str(config))  # fmt: skip
    assert changed.exit_code == 0, changed.output
    assert app_rows(client, "SELECT created_at, recipients FROM email_reports") == [
        (before, ["a@example.com", "b@example.com"])
    ]


def test_a_server_that_drops_the_connection_is_a_failed_try(
    tmp_path: Path, certificate: tuple[Path, Path]
) -> None:
    """It takes the connection and closes it at once: the try fails, the reason is said, and the
    report waits for the next one."""
    dropping = socket.socket()
    dropping.bind(("127.0.0.1", 0))
    dropping.listen()
    stop = threading.Event()

    def drop_each() -> None:
        dropping.settimeout(0.2)
        while not stop.is_set():
            try:
                connection, _ = dropping.accept()
            except TimeoutError:
                continue
            connection.close()

    dropper = threading.Thread(target=drop_each, daemon=True)
    dropper.start()
    database = tmp_path / "pulsegate.duckdb"
    port = dropping.getsockname()[1]
    config = write_config(tmp_path, database, email_settings(port, certificate, first_retry_seconds=60))
    settings = load_settings(config, environ={})
    run_operation(settings, SEED, SeedArgs(days=10, sessions=200, seed=6))
    try:
        with TestClient(create_app(settings)) as client:
            with app_cursor(client) as cursor:
                cursor.execute(
                    "INSERT INTO email_reports VALUES ('dropped', NULL, ['a@example.com'], 'week', 1, 0, 'UTC', "
                    "'last', false, ?)", [datetime.now(UTC).replace(tzinfo=None) - timedelta(days=30)],
                )  # fmt: skip
            failed = wait_for(lambda: app_rows(client, "SELECT status, attempts, last_error, next_attempt_at "
                                                       "FROM email_report_sends WHERE status != 'sending'"), what="a failed try")  # fmt: skip
            status, attempts, error, retry_at = failed[0]
            assert (status, attempts) == ("failed", 1) and "SMTPServerDisconnected" in error
            assert retry_at > datetime.now(UTC).replace(tzinfo=None) + timedelta(seconds=30)
    finally:
        stop.set()
        dropper.join()
        dropping.close()


def test_on_clickhouse_two_processes_checking_at_once_send_a_due_report_once(
    tmp_path: Path, smtp: tuple[int, Inbox], certificate: tuple[Path, Path], unique_database: str
) -> None:
    """Two processes' email-report checks on one ClickHouse store (chDB), at the same moment: the
    report due is sent once, and recorded sent."""
    seeded = tmp_path / "seeded.duckdb"
    run_operation(load_settings(None, environ={}, overrides={"storage": {"database": str(seeded)}}),
                  SEED, SeedArgs(days=21, sessions=200, seed=3))  # fmt: skip
    url = chdb_url(unique_database)
    database = Database.open(seeded)
    try:
        copy_everything(database.connection, url)
    finally:
        database.close()
    settings = load_settings(None, environ={}, overrides={
        "storage": {"engine": "clickhouse", "rollup_interval_seconds": 0}, "clickhouse": {"url": url},
        "email": email_settings(smtp[0], certificate),
    })  # fmt: skip
    today = datetime.now(UTC).strftime("%A").lower()
    run_operation(settings, ADD, AddSchedule(name="weekly", to=["team@example.com"], day=today, hour=0))
    store = ClickHouseStore.open(settings.clickhouse_target)
    # As if it had been added a week ago: the period due now is its to send.
    store.connection.command("UPDATE email_reports SET created_at = created_at - INTERVAL 8 DAY WHERE 1")

    async def check_twice_at_once() -> list[int]:
        writer = ClickHouseWriter(store.connection)
        writer.start()
        processes = [EmailReports(store, writer, settings.email, claim=send_claims(writer)) for _ in range(2)]  # type: ignore[arg-type]
        try:
            return list(await asyncio.gather(*(process.send_due() for process in processes)))
        finally:
            await writer.stop()

    try:
        sent = asyncio.run(check_twice_at_once())
        recorded = store.connection.query("SELECT status, attempts FROM email_report_sends")
    finally:
        store.close()
    _, inbox = smtp
    wait_for(lambda: inbox.messages, what="the scheduled report")
    time.sleep(0.5)
    assert sorted(sent) == [0, 1] and len(inbox.messages) == 1 and inbox.envelopes == [["team@example.com"]]
    assert recorded == [("sent", 1)]
