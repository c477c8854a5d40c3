"""The real `pulsegate serve` over real HTTP: zero-config start, durability on kill -9, clean exits."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

import duckdb
import httpx
import pytest

from tests.e2e.running_server import RunningServer, free_port, pulsegate_command
from tests.e2e.traffic import Traffic

pytestmark = pytest.mark.e2e


def test_zero_config_start_creates_the_default_database(tmp_path: Path) -> None:
    server = RunningServer(None, tmp_path, cwd=tmp_path).start()
    try:
        response = httpx.post(
            f"{server.base_url}/track/session/start",
            json={"url": "https://example.com/", "referrer": "https://news.ycombinator.com/"},
        )
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == "*"
    finally:
        assert server.stop() == 0
    assert (tmp_path / "pulsegate-data" / "pulsegate.duckdb").is_file()


def test_session_lifecycle_over_http(server: RunningServer) -> None:
    with httpx.Client(base_url=server.base_url) as http:
        started = http.post("/track/session/start", json={"url": "https://example.com/"}).json()
        sid = started["session_id"]
        assert http.post("/track/event", json={"session_id": sid, "type": "pageview"}).json()["accepted"] == 1
        batch = {
            "session_id": sid,
            "events": [{"type": "scroll", "props": {"depth": d}} for d in (25, 50, 75)],
        }
        assert http.post("/track/events/batch", json=batch).json()["accepted"] == 3
        assert http.post("/track/session/end", json={"session_id": sid}).status_code == 200
        # The next page of the same tab carries the session on, and ends it again.
        assert http.post("/track/event", json={"session_id": sid, "type": "click"}).status_code == 200
        assert http.post("/track/session/end", json={"session_id": sid}).status_code == 200
        assert (
            http.post("/track/event", json={"session_id": "never-started", "type": "click"}).status_code
            == 404
        )
        assert http.get("/track/event").status_code == 405
        preflight = http.options(
            "/track/event", headers={"Origin": "https://a.example", "Access-Control-Request-Method": "POST"}
        )
        assert preflight.status_code == 204 and preflight.headers["access-control-allow-origin"] == "*"
    assert server.stop() == 0
    con = duckdb.connect(str(server.database), read_only=True)
    try:
        # landing page view + 1 event + 3 in the batch + the click after the first end
        assert con.execute("SELECT count(*) FROM events WHERE session_id = ?", [sid]).fetchone() == (6,)
        assert con.execute(
            "SELECT ended_at IS NOT NULL FROM sessions WHERE session_id = ?", [sid]
        ).fetchone() == (True,)
    finally:
        con.close()


def assert_nothing_lost_or_doubled(database: Path, traffic: Traffic) -> None:
    """Every acknowledged event, session and lead is on disk, once."""
    with duckdb.connect(str(database), read_only=True) as con:  # opens without any repair step
        stored_events = con.execute("SELECT session_id, name FROM events WHERE type = 'custom'").fetchall()
        stored_sessions = {row[0] for row in con.execute("SELECT session_id FROM sessions").fetchall()}
        stored_leads = [row[0] for row in con.execute("SELECT submission_id FROM leads").fetchall()]
    names = Counter(name for _, name in stored_events)
    assert not [name for name, count in names.items() if count > 1], "an event was stored twice"
    missing = set(traffic.acked_events) - set(stored_events)
    assert not missing, f"{len(missing)} acknowledged events were lost, e.g. {sorted(missing)[:3]}"
    assert set(traffic.acked_sessions) <= stored_sessions
    assert len(stored_leads) == len(set(stored_leads)), "a lead was stored twice"
    assert set(traffic.acked_leads) <= set(stored_leads), "an acknowledged lead was lost"


def test_acknowledged_writes_survive_kill_9(unlimited_server: RunningServer) -> None:
    with Traffic(unlimited_server.base_url) as traffic:
        time.sleep(1.5)
        unlimited_server.kill_hard()  # mid-traffic: requests are in flight
        acked_before_kill = len(traffic.acked_events)
    assert acked_before_kill > 100, "the test did not produce enough traffic to mean anything"

    unlimited_server.start()
    # The restarted server rebuilt its open sessions from disk: an acknowledged session still takes events.
    reopened = httpx.post(
        f"{unlimited_server.base_url}/track/event",
        json={"session_id": traffic.acked_sessions[0], "type": "click"},
    )
    assert reopened.status_code == 200
    assert unlimited_server.stop() == 0

    assert_nothing_lost_or_doubled(unlimited_server.database, traffic)


def test_ten_kill_9s_in_a_row_lose_and_double_nothing(unlimited_server: RunningServer) -> None:
    """The server killed mid-traffic ten times; clients keep sending (and resending leads) throughout."""
    unlimited_server.stop()
    counts = []
    with Traffic(unlimited_server.base_url) as traffic:
        for _ in range(10):
            unlimited_server.start()
            time.sleep(0.8)
            unlimited_server.kill_hard()
            counts.append(len(traffic.acked_events))
        unlimited_server.start()
        time.sleep(0.5)
    assert unlimited_server.stop() == 0
    assert counts[-1] > 500 and len(traffic.acked_leads) >= 5, (counts, len(traffic.acked_leads))
    assert "Traceback" not in unlimited_server.all_logs()
    assert_nothing_lost_or_doubled(unlimited_server.database, traffic)


def test_sigterm_commits_in_flight_work_and_checkpoints(unlimited_server: RunningServer) -> None:
    with Traffic(unlimited_server.base_url, threads=4) as traffic:
        time.sleep(1.0)
        assert unlimited_server.stop() == 0
    con = duckdb.connect(str(unlimited_server.database), read_only=True)
    try:
        stored = set(con.execute("SELECT session_id, name FROM events").fetchall())
    finally:
        con.close()
    assert traffic.acked_events and set(traffic.acked_events) <= stored
    wal = unlimited_server.database.with_name(unlimited_server.database.name + ".wal")
    assert not wal.exists() or wal.stat().st_size == 0, "shutdown should checkpoint the WAL away"


def test_port_in_use_is_a_one_line_error(server: RunningServer, tmp_path: Path) -> None:
    result = subprocess.run(
        pulsegate_command("serve", "--port", str(server.port), "--database", str(tmp_path / "other.duckdb")),
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert f"Port {server.port} on 127.0.0.1 is already in use" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_database_in_use_names_the_process(server: RunningServer) -> None:
    result = subprocess.run(
        pulsegate_command("serve", "--port", str(free_port()), "--database", str(server.database)),
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1
    assert "is in use by process" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_full_write_queue_answers_503_with_retry_after(tmp_path: Path) -> None:
    env = {"PULSEGATE_STORAGE__MAX_PENDING_ROWS": "100", "PULSEGATE_RATE_LIMITS__ENABLED": "false"}
    server = RunningServer(tmp_path / "q.duckdb", tmp_path, env=env).start()
    responses: list[httpx.Response] = []
    lock = threading.Lock()
    try:
        sid = httpx.post(f"{server.base_url}/track/session/start", json={"url": "https://e.com"}).json()[
            "session_id"
        ]
        batch = {"session_id": sid, "events": [{"type": "click"}] * 60}

        def hammer() -> None:
            # 60 rows each: a second batch queued behind a running commit overflows 100 rows.
            with httpx.Client(base_url=server.base_url, timeout=10) as http:
                deadline = time.monotonic() + 3
                while time.monotonic() < deadline:
                    response = http.post("/track/events/batch", json=batch)
                    with lock:
                        responses.append(response)
                    if response.status_code == 503:
                        return

        threads = [threading.Thread(target=hammer) for _ in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        assert server.stop() == 0
    statuses = Counter(response.status_code for response in responses)
    assert set(statuses) <= {200, 503}
    assert statuses[503] > 0, statuses
    busy = next(response for response in responses if response.status_code == 503)
    assert busy.headers["retry-after"] == "1"
    assert busy.headers["access-control-allow-origin"] == "*"
    assert "busy" in busy.json()["error"]
    con = duckdb.connect(str(server.database), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM events WHERE type = 'click'").fetchone() == (
            60 * statuses[200],
        )
    finally:
        con.close()


def test_head_through_granian_sends_headers_only_and_the_banner_names_the_dashboard(
    server: RunningServer,
) -> None:
    # Pipelined on one connection: a body sent after the HEAD answer would come before the next answer.
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
        connection.sendall(
            b"HEAD /tracker.js HTTP/1.1\r\nHost: t\r\n\r\n"
            b"HEAD /health HTTP/1.1\r\nHost: t\r\n\r\n"
            b"GET /dashboard HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
        )
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    script_head, rest = received.split(b"\r\n\r\n", 1)
    assert script_head.startswith(b"HTTP/1.1 200") and b"content-length: " in script_head.lower()
    assert rest.startswith(b"HTTP/1.1 200")  # the health answer, with nothing between
    _health_head, rest = rest.split(b"\r\n\r\n", 1)
    assert rest.startswith(b"HTTP/1.1 200") and b"<html" in rest.lower()
    assert f"Dashboard: http://127.0.0.1:{server.port}/dashboard" in server.log()
