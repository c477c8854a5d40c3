"""`pulsegate serve` on ClickHouse, as real processes: a session started by one process is continued
and ended by another with the same answers one DuckDB server gives, two processes serve one
session's requests in turn, and a process killed with -9 mid-traffic loses no acknowledged row
(events, sessions, leads)."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from pulsegate.domain.clickhouse_target import parse_target
from pulsegate.store.clickhouse.connection import connect
from tests.clickhouse_endpoint import ClickHouseEndpoint
from tests.e2e.running_server import RunningServer, pulsegate_command
from tests.e2e.traffic import Traffic
from tests.helpers import clickhouse_environ, wait_for

pytestmark = pytest.mark.e2e

# One visit, request by request: (what, body without the session id).
VISIT: list[tuple[str, dict[str, Any]]] = [
    ("/track/event", {"type": "pageview", "url": "https://acme.test/pricing"}),
    (
        "/track/events/batch",
        {
            "events": [
                {"type": "scroll", "props": {"depth": 62.5}},
                {"type": "engagement", "props": {"engaged_ms": 41_000}},
                {"type": "click"},
            ]
        },
    ),
    ("/track/session/end", {"engaged_ms": 9_000, "max_scroll": 70}),
    # The next page of the tab carries the session on.
    ("/track/event", {"type": "pageview", "url": "https://acme.test/signup"}),
    (
        "/track/events/batch",
        {"events": [{"type": "form_start", "name": "signup"}, {"type": "form_submit", "name": "signup"}]},
    ),
    ("/track/session/end", {"events": [{"type": "custom", "name": "done"}], "engaged_ms": 4_000}),
    ("/track/session/end", {}),  # ended already: the stored end
]


def clickhouse_env(url: str) -> dict[str, str]:
    return {**clickhouse_environ(url), "PULSEGATE_PRIVACY__VISITOR_SALT": "one-salt-for-every-process"}


def play(servers: list[RunningServer]) -> list[tuple[int, Any, Any]]:
    """The visit, its requests sent to `servers` in turn; each answer's status, accepted, score."""
    start = {"url": "https://acme.test/", "referrer": "https://news.example/"}
    started = httpx.post(f"{servers[0].base_url}/track/session/start", json=start)
    assert started.status_code == 200
    session_id = started.json()["session_id"]
    answers = []
    for n, (path, body) in enumerate(VISIT, start=1):
        answer = httpx.post(
            f"{servers[n % len(servers)].base_url}{path}", json={"session_id": session_id, **body}
        )
        fields = answer.json()
        answers.append((answer.status_code, fields.get("accepted"), fields.get("engagement_score")))
    return answers


@pytest.fixture
def duckdb_answers(tmp_path: Path) -> list[tuple[int, Any, Any]]:
    server = RunningServer(tmp_path / "one.duckdb", tmp_path).start()
    try:
        return play([server])
    finally:
        server.stop()


def test_a_session_is_continued_and_ended_by_a_process_started_afterwards(
    tmp_path: Path, duckdb_answers: list[tuple[int, Any, Any]]
) -> None:
    url = f"chdb://{tmp_path / 'ch'}"
    first = RunningServer(None, tmp_path, env=clickhouse_env(url), cwd=tmp_path).start()
    start = {"url": "https://acme.test/", "referrer": "https://news.example/"}
    session_id = httpx.post(f"{first.base_url}/track/session/start", json=start).json()["session_id"]
    first.stop()  # chDB is one process's at a time: the next one starts after
    answers = []
    # A process for the first page (up to its end), another for the next page and the ends after it
    # (each request by another process: test_two_processes_serve_one_session_in_turn).
    for part in (VISIT[:3], VISIT[3:]):
        server = RunningServer(None, tmp_path, env=clickhouse_env(url), cwd=tmp_path).start()
        for path, body in part:
            answer = httpx.post(f"{server.base_url}{path}", json={"session_id": session_id, **body})
            fields = answer.json()
            answers.append((answer.status_code, fields.get("accepted"), fields.get("engagement_score")))
        server.stop()
    assert answers == duckdb_answers
    assert answers[-1][2] is not None and answers[-1][2] > 0


def test_two_processes_serve_one_session_in_turn(
    tmp_path: Path,
    clickhouse_endpoint: ClickHouseEndpoint,
    unique_database: str,
    duckdb_answers: list[tuple[int, Any, Any]],
) -> None:
    env = clickhouse_env(clickhouse_endpoint.url(unique_database))
    servers = [RunningServer(None, tmp_path, env=env, cwd=tmp_path).start() for _ in range(2)]
    try:
        assert play(servers) == duckdb_answers
    finally:
        for server in servers:
            server.stop()


def test_a_process_killed_mid_traffic_loses_no_acknowledged_row(
    tmp_path: Path, clickhouse_endpoint: ClickHouseEndpoint, unique_database: str
) -> None:
    url = clickhouse_endpoint.url(unique_database)
    env = {**clickhouse_env(url), "PULSEGATE_RATE_LIMITS__ENABLED": "false"}
    doomed, survivor = (RunningServer(None, tmp_path, env=env, cwd=tmp_path).start() for _ in range(2))
    with Traffic(doomed.base_url, threads=3) as on_doomed, \
         Traffic(survivor.base_url, threads=3) as on_survivor:  # fmt: skip
        # Killed once both have acknowledged a fair share (on a busy machine that takes longer).
        wait_for(lambda: min(len(on_doomed.acked_events), len(on_survivor.acked_events)) > 50, timeout=30,
                 what="traffic on both")  # fmt: skip
        doomed.kill_hard()  # requests in flight on it
        time.sleep(0.5)
    survivor.stop()
    assert len(on_doomed.acked_events) > 50 and len(on_survivor.acked_events) > 50
    connection = connect(parse_target(url))
    try:
        stored = connection.query("SELECT session_id, name FROM events WHERE type = 'custom'")
        sessions = {row[0] for row in connection.query("SELECT session_id FROM sessions")}
        leads = [row[0] for row in connection.query("SELECT submission_id FROM leads")]
        attributed = connection.query(
            "SELECT count() FROM leads WHERE lead_id NOT IN (SELECT lead_id FROM lead_attribution)"
        )
    finally:
        connection.close()
    counted = Counter(stored)
    assert not [row for row, count in counted.items() if count > 1], "an event was stored twice"
    for traffic in (on_doomed, on_survivor):
        missing = set(traffic.acked_events) - set(counted)
        assert not missing, f"{len(missing)} acknowledged events were lost"
        assert set(traffic.acked_sessions) <= sessions
        assert set(traffic.acked_leads) <= set(leads), "an acknowledged lead was lost"
    assert len(leads) == len(set(leads)), "a lead was stored twice"
    assert on_survivor.acked_leads and attributed == [(0,)]  # a stored lead has its attribution


def cli_on(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        pulsegate_command(*args), capture_output=True, text=True, timeout=120,
        env={**os.environ, **clickhouse_env(url), "COLUMNS": "200"},
    )  # fmt: skip


def admitted(server: RunningServer, page: str) -> int:
    return httpx.post(f"{server.base_url}/track/session/start", json={"url": page}).status_code


def test_the_cli_changes_keys_and_projects_for_every_server(
    tmp_path: Path, clickhouse_endpoint: ClickHouseEndpoint, unique_database: str
) -> None:
    url = clickhouse_endpoint.url(unique_database)
    env = {**clickhouse_env(url), "PULSEGATE_CLICKHOUSE__RELOAD_SECONDS": "0.5"}
    servers = [RunningServer(None, tmp_path, env=env, cwd=tmp_path).start() for _ in range(2)]
    try:
        assert [admitted(server, "https://other.test/") for server in servers] == [200, 200]
        added = cli_on(url, "projects", "add", "acme", "--domain", "acme.test")
        assert added.returncode == 0, added.stderr
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(admitted(s, "https://other.test/") != 403 for s in servers):
            time.sleep(0.2)
        assert [admitted(server, "https://other.test/") for server in servers] == [403, 403]
        assert [admitted(server, "https://acme.test/a") for server in servers] == [200, 200]
    finally:
        for server in servers:
            server.stop()
    created = cli_on(url, "keys", "create", "reports", "--quiet")
    assert created.returncode == 0 and created.stdout.startswith("pgk_"), created.stderr
    listed = cli_on(url, "keys", "list", "--json")
    (key,) = json.loads(listed.stdout)
    assert key["name"] == "reports" and created.stdout.strip() not in listed.stdout
    assert cli_on(url, "keys", "revoke", key["key_id"]).returncode == 0
    assert json.loads(cli_on(url, "keys", "list", "--json").stdout)[0]["revoked_ms"] is not None
    # What is for the DuckDB file says so, and what to do instead.
    compact = cli_on(url, "storage", "compact")
    assert compact.returncode == 2 and "is for the DuckDB file" in compact.stderr, compact.stderr
    seed = cli_on(url, "demo", "seed")
    assert seed.returncode == 2 and "pulsegate storage copy" in seed.stderr and "Traceback" not in seed.stderr
