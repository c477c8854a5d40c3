"""The whole CRM loop against a real server: capture, signed delivery, Make.com's callback, and
deliveries that outlive a server restart."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import duckdb
import httpx
import pytest

from tests.crm_receiver import CrmReceiver
from tests.e2e.running_server import RunningServer, pulsegate_command
from tests.helpers import wait_for

pytestmark = pytest.mark.e2e
LEAD = {"submission_id": "sub-e2e-0001", "name": "Bo", "email": "bo@example.com", "elapsed_ms": 9000}


def crm_env(url: str) -> dict[str, str]:
    return {
        "PULSEGATE_CRM__WEBHOOK_URL": url,
        "PULSEGATE_CRM__SIGNING_SECRET": "sign-me",
        "PULSEGATE_CRM__CALLBACK_SECRET": "call-me-back",
        "PULSEGATE_CRM__FIRST_RETRY_SECONDS": "0.2",
    }


def stored(database: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(database), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_capture_delivery_and_callback(tmp_path: Path) -> None:
    with CrmReceiver(callback_secret="call-me-back") as crm:
        server = RunningServer(tmp_path / "p.duckdb", tmp_path, env=crm_env(crm.url))
        crm.callback_url = f"{server.base_url}/lead.capture/crm-callback"
        server.start()
        try:
            lead = httpx.post(f"{server.base_url}/lead.capture", json=LEAD).json()
            wait_for(lambda: crm.callbacks)
        finally:
            assert server.stop() == 0
    assert crm.callbacks == [200]
    assert stored(server.database, "SELECT lead_id, crm_lead_id, status FROM leads") == [
        (lead["lead_id"], f"crm-{lead['lead_id'][:8]}", "synced")
    ]
    assert stored(server.database, "SELECT status, attempts FROM deliveries") == [("delivered", 1)]


def test_pending_deliveries_resume_after_a_restart(tmp_path: Path) -> None:
    with CrmReceiver(fail_first=10_000) as crm:
        server = RunningServer(tmp_path / "p.duckdb", tmp_path, env=crm_env(crm.url)).start()
        httpx.post(f"{server.base_url}/lead.capture", json=LEAD)
        wait_for(lambda: len(crm.received) >= 1)  # it tried, and the CRM was down
        server.kill_hard()
        crm.fail_first = 0  # the CRM comes back while PulseGate is down
        server.start()
        try:
            wait_for(lambda: len(crm.received) >= 2)  # resumed from the outbox table
            time.sleep(0.5)  # the outcome is written right after the CRM's answer
        finally:
            assert server.stop() == 0
    assert stored(server.database, "SELECT status FROM deliveries") == [("delivered",)]
    assert stored(server.database, "SELECT status FROM leads") == [("forwarded",)]
    assert len({r.body for r in crm.received}) == 1  # every attempt sent the same bytes


@pytest.mark.parametrize(
    ("fault", "receiver"),
    [
        ("slow", CrmReceiver(slow_first=1, slow_seconds=4.0)),  # longer than crm.timeout_seconds
        ("garbage", CrmReceiver(garbage_first=2)),
        ("down", CrmReceiver(fail_first=3, fail_status=503)),
    ],
)
def test_a_faulty_crm_slows_no_capture_and_deliveries_resume(
    tmp_path: Path, fault: str, receiver: CrmReceiver
) -> None:
    key = subprocess.run(pulsegate_command("keys", "create", "k", "--quiet", "--database", str(tmp_path / "p.duckdb")),
                         capture_output=True, text=True, check=True, timeout=60).stdout.strip()  # fmt: skip
    with receiver as crm:
        env = {**crm_env(crm.url), "PULSEGATE_CRM__TIMEOUT_SECONDS": "1"}
        server = RunningServer(tmp_path / "p.duckdb", tmp_path, env=env).start()
        try:
            took = []
            for n in range(5):
                began = time.perf_counter()
                lead = {**LEAD, "submission_id": f"sub-{fault}-{n:04d}"}
                assert httpx.post(f"{server.base_url}/lead.capture", json=lead, timeout=10).status_code == 200
                took.append(time.perf_counter() - began)
            # Captures answer from the disk, not from the CRM: none waited for it.
            assert max(took) < 0.5, took

            def forwarded() -> int:
                answer = httpx.get(f"{server.base_url}/analytics/leads", params={"status": "forwarded"},
                                   headers={"X-API-Key": key})  # fmt: skip
                return answer.json()["total"]

            wait_for(lambda: forwarded() == 5, timeout=30)
            assert len(crm.received) > 5  # the fault was met: some posts were tried again
            delivered = "SELECT count(*) FROM deliveries WHERE status = 'delivered'"
        finally:
            assert server.stop() == 0
        assert stored(tmp_path / "p.duckdb", delivered) == [(5,)], fault
        assert "Traceback" not in server.log()
