"""Ingest quality over real HTTP: proxy-aware enrichment, rate limits with their headers, spoofing."""

from __future__ import annotations

from pathlib import Path

import duckdb
import httpx
import pytest

from tests.e2e.running_server import RunningServer
from tests.windows import wait_for_fresh_window

pytestmark = pytest.mark.e2e
FIREFOX = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:132.0) Gecko/20100101 Firefox/132.0"
HEADLESS = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36"


def start(http: httpx.Client, ip: str, user_agent: str = FIREFOX) -> httpx.Response:
    return http.post(
        "/track/session/start",
        json={"url": "https://shop.example.com/", "referrer": "https://www.google.com/"},
        headers={"X-Forwarded-For": ip, "User-Agent": user_agent},
    )


def test_eleventh_session_start_in_a_minute_is_429_with_headers(server: RunningServer) -> None:
    wait_for_fresh_window()
    with httpx.Client(base_url=server.base_url) as http:
        answers = [start(http, "198.51.100.10") for _ in range(11)]
        other_client = start(http, "198.51.100.11")
    assert [a.status_code for a in answers[:10]] == [200] * 10
    assert [int(a.headers["x-ratelimit-remaining"]) for a in answers[:10]] == list(range(9, -1, -1))
    assert all(1 <= int(a.headers["x-ratelimit-reset"]) <= 60 for a in answers)
    refused = answers[10]
    assert refused.status_code == 429
    assert refused.headers["x-ratelimit-remaining"] == "0"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.headers["retry-after"] == refused.headers["x-ratelimit-reset"]
    assert refused.headers["access-control-allow-origin"] == "*"
    assert "Too many requests to /track/session/start" in refused.json()["error"]
    assert other_client.status_code == 200  # limits are per client address


def test_enrichment_through_a_trusted_proxy_and_bots_flagged(server: RunningServer) -> None:
    with httpx.Client(base_url=server.base_url) as http:
        hetzner = start(http, "5.9.0.1").json()["session_id"]
        google = start(http, "8.8.8.8", HEADLESS).json()["session_id"]
        ended = http.post(
            "/track/session/end", json={"session_id": hetzner, "engaged_ms": 60_000, "max_scroll": 50}
        )
    assert ended.status_code == 200
    assert ended.json()["engagement_score"] == 28  # 35 * 60/120 + 20 * 0.5 = 27.5 -> 28
    assert server.stop() == 0
    con = duckdb.connect(str(server.database), read_only=True)
    try:
        rows = dict(
            (row[0], row[1:])
            for row in con.execute(
                "SELECT session_id, country, as_organisation, is_hosting, source, device, is_bot FROM sessions"
            ).fetchall()
        )
    finally:
        con.close()
    assert rows[hetzner] == ("DE", "Hetzner Online GmbH", True, "Google", "desktop", False)
    assert rows[google] == ("US", "GOOGLE", True, "Google", "bot", True)


def test_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored(tmp_path: Path) -> None:
    # Loopback is not trusted here, so the test client is an ordinary visitor.
    env = {"PULSEGATE_NETWORK__TRUSTED_PROXIES": '["10.0.0.0/8"]'}
    server = RunningServer(tmp_path / "s.duckdb", tmp_path, env=env).start()
    try:
        wait_for_fresh_window()
        with httpx.Client(base_url=server.base_url) as http:
            # A different claimed address each time: if believed, none would hit the limit.
            answers = [start(http, f"203.0.113.{n}") for n in range(11)]
    finally:
        assert server.stop() == 0
    assert [a.status_code for a in answers] == [200] * 10 + [429]
    con = duckdb.connect(str(server.database), read_only=True)
    try:
        countries = {row[0] for row in con.execute("SELECT country FROM sessions").fetchall()}
    finally:
        con.close()
    assert countries == {None}  # attributed to 127.0.0.1, not to the claimed addresses
