"""The outbox on ClickHouse with two real `pulsegate serve` processes: a submission sent to both at
once is one lead with one attribution and one CRM post, a CRM callback sent to both at once is one
stage entry, a lead captured by one process links the session another process started, and an
anomaly both processes find is posted once."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from pulsegate.domain.clickhouse_target import parse_target
from pulsegate.store.clickhouse.connection import connect
from pulsegate.store.database import Database
from tests.api.anomaly_fixture import seed_broken_form
from tests.clickhouse_endpoint import ClickHouseEndpoint
from tests.crm_receiver import CrmReceiver
from tests.e2e.running_server import RunningServer
from tests.e2e.test_clickhouse_serve import clickhouse_env
from tests.helpers import copy_everything
from tests.windows import wait_for_fresh_window

pytestmark = pytest.mark.e2e
SUBMISSIONS = 12
CALLBACK = "callback-secret-for-the-e2e-test"


@pytest.fixture
def crm() -> Iterator[CrmReceiver]:
    with CrmReceiver() as receiver:
        yield receiver


@pytest.fixture
def two_servers(
    tmp_path: Path, clickhouse_endpoint: ClickHouseEndpoint, unique_database: str, crm: CrmReceiver
) -> Iterator[tuple[str, list[RunningServer]]]:
    url = clickhouse_endpoint.url(unique_database)
    env = {**clickhouse_env(url), "PULSEGATE_CRM__WEBHOOK_URL": crm.url,
           "PULSEGATE_CRM__SIGNING_SECRET": "s" * 32, "PULSEGATE_CRM__CALLBACK_SECRET": CALLBACK,
           "PULSEGATE_RATE_LIMITS__ENABLED": "false"}  # fmt: skip
    servers = [RunningServer(None, tmp_path, env=env, cwd=tmp_path).start() for _ in range(2)]
    try:
        yield url, servers
    finally:
        for server in servers:
            server.stop()


def at_once(
    servers: list[RunningServer], path: str, body: dict[str, Any], **headers: str
) -> list[httpx.Response]:
    """`body` posted to every server at the same moment."""
    barrier = threading.Barrier(len(servers))

    def post(server: RunningServer) -> httpx.Response:
        barrier.wait()
        return httpx.post(f"{server.base_url}{path}", json=body, headers=headers, timeout=30)

    with ThreadPoolExecutor(len(servers)) as pool:
        return list(pool.map(post, servers))


def rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    connection = connect(parse_target(url))
    try:
        return connection.query(sql)
    finally:
        connection.close()


def test_a_submission_sent_to_two_processes_at_once_is_one_lead_posted_once(
    two_servers: tuple[str, list[RunningServer]], crm: CrmReceiver
) -> None:
    url, servers = two_servers
    start = {"url": "https://acme.test/?utm_source=newsletter&utm_campaign=autumn"}
    session = httpx.post(f"{servers[0].base_url}/track/session/start", json=start).json()
    lead_ids = set()
    for n in range(SUBMISSIONS):
        lead = {"submission_id": f"twice-{n:04d}", "email": f"p{n}@example.com", "elapsed_ms": 9000,
                "session_id": session["session_id"]}  # fmt: skip
        answers = at_once(servers, "/lead.capture", lead)
        assert [answer.status_code for answer in answers] == [200, 200], [a.text for a in answers]
        first, second = (answer.json() for answer in answers)
        assert first == second  # both processes answer with the lead that was kept
        assert first["visitor_id"] == session["visitor_id"]  # the session another process started
        lead_ids.add(first["lead_id"])
    assert len(lead_ids) == SUBMISSIONS
    stored = rows(url, "SELECT lead_id, traffic_source FROM leads")
    assert sorted(lead_id for lead_id, _ in stored) == sorted(lead_ids)
    assert {source for _, source in stored} == {"newsletter"}
    attributed = rows(url, "SELECT lead_id, touches FROM lead_attribution")
    assert sorted(lead_id for lead_id, _ in attributed) == sorted(lead_ids)  # the losers' are gone
    deadline = time.monotonic() + 30
    while (
        time.monotonic() < deadline
        and len({p.headers["idempotency-key"] for p in crm.received}) < SUBMISSIONS
    ):
        time.sleep(0.2)
    time.sleep(2 * 1.0)  # two more polls of both workers: a second post would arrive now
    posted = Counter(post.headers["idempotency-key"] for post in crm.received)
    assert set(posted) == lead_ids and set(posted.values()) == {1}, posted
    assert {msgspec.json.decode(post.body)["utm_campaign"] is None for post in crm.received} == {True}
    assert {msgspec.json.decode(post.body)["first_touch"]["utm_campaign"] for post in crm.received} == {
        "autumn"
    }
    assert rows(url, "SELECT DISTINCT status FROM deliveries") == [("delivered",)]


def test_a_callback_sent_to_two_processes_at_once_is_one_stage_entry(
    two_servers: tuple[str, list[RunningServer]],
) -> None:
    url, servers = two_servers
    lead = httpx.post(f"{servers[0].base_url}/lead.capture",
                      json={"submission_id": "called-back-1", "email": "c@example.com", "elapsed_ms": 9000}).json()  # fmt: skip
    auth = {"Authorization": f"Bearer {CALLBACK}"}
    at = lead["timestamp"] - 1_000  # before the "won" below, which happens when it is received
    said = [{"stage": "qualified", "at": at}, {"stage": "won", "value": 900, "currency": "EUR"},
            {"stage": "won", "value": 900, "currency": "EUR"}, {"stage": "qualified", "at": at}]  # fmt: skip
    for body in said:
        answers = at_once(servers, "/lead.capture/crm-callback", {"lead_id": lead["lead_id"], **body}, **auth)
        assert [answer.status_code for answer in answers] == [200, 200], [a.text for a in answers]
    # As one process taking them in turn: each first copy is an entry, the second a repeat; the
    # third says again what the latest entry says, and the fourth what the first said.
    stages = rows(url, f"SELECT stage, value FROM lead_stages WHERE lead_id = '{lead['lead_id']}' "
                       "ORDER BY received_at")  # fmt: skip
    assert stages == [("qualified", None), ("won", 900.0)]
    assert rows(url, "SELECT stage, stage_value FROM leads") == [("won", 900.0)]


def test_an_anomaly_both_processes_find_is_posted_once(
    tmp_path: Path, clickhouse_endpoint: ClickHouseEndpoint, unique_database: str
) -> None:
    wait_for_fresh_window(3600, margin=30)
    seeded_file = tmp_path / "seeded.duckdb"
    seed_broken_form(seeded_file)
    url = clickhouse_endpoint.url(unique_database)
    seeded = Database.open(seeded_file)
    try:
        copy_everything(seeded.connection, url)
    finally:
        seeded.close()
    with CrmReceiver() as hook:
        env = {**clickhouse_env(url), "PULSEGATE_ALERTS__WEBHOOK_URL": hook.url,
               "PULSEGATE_ALERTS__SCAN_INTERVAL_SECONDS": "1"}  # fmt: skip
        servers = [RunningServer(None, tmp_path, env=env, cwd=tmp_path).start() for _ in range(2)]
        try:
            deadline = time.monotonic() + 20
            while not hook.received and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(4)  # a few more scans of both: the same finding must not be posted again
        finally:
            for server in servers:
                server.stop()
    assert [msgspec.json.decode(post.body)["finding"]["kind"] for post in hook.received] == [
        "submission_drop"
    ]
    assert rows(url, "SELECT target, subject_id, status FROM deliveries") == [
        ("alerts", "submission_drop:acme", "delivered")
    ]
