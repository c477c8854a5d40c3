"""Slow, stalled and endless clients against the real server: they are cut off, and nobody else waits."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.running_server import RunningServer

pytestmark = pytest.mark.e2e


@pytest.fixture
def strict_server(tmp_path: Path) -> Iterator[RunningServer]:
    env = {"PULSEGATE_SERVER__BODY_TIMEOUT_SECONDS": "1", "PULSEGATE_RATE_LIMITS__ENABLED": "false"}
    server = RunningServer(tmp_path / "p.duckdb", tmp_path, env=env).start()
    yield server
    server.stop()


def connect(server: RunningServer) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=10)


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    while len(body) < int(headers.get("content-length", "0")):
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(lines[0].split()[1]), headers, body


def test_a_stalled_body_is_answered_408_and_others_are_served_meanwhile(strict_server: RunningServer) -> None:
    stalled = connect(strict_server)
    stalled.sendall(b"POST /track/session/start HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    b"Content-Length: 200\r\n\r\n{\"url\": ")  # fmt: skip
    began = time.monotonic()
    # Someone else is not held up by it.
    assert (
        httpx.post(
            f"{strict_server.base_url}/track/session/start", json={"url": "https://e.com/"}
        ).status_code
        == 200
    )
    status, headers, body = read_response(stalled)
    assert status == 408 and 0.9 < time.monotonic() - began < 5
    assert json.loads(body)["error"] == "The request body did not arrive within 1 s"
    assert headers["access-control-allow-origin"] == "*"


def test_many_half_sent_requests_do_not_starve_real_ones(strict_server: RunningServer) -> None:
    idle = []
    for _ in range(200):
        sock = connect(strict_server)
        sock.sendall(b"POST /track/event HTTP/1.1\r\nHost: x\r\n")  # headers never finished
        idle.append(sock)
    try:
        with httpx.Client(base_url=strict_server.base_url) as http:
            for _ in range(20):
                began = time.perf_counter()
                assert http.get("/health").status_code == 200
                assert time.perf_counter() - began < 1.0
    finally:
        for sock in idle:
            sock.close()


def test_an_endless_body_is_refused_413_before_it_is_read(strict_server: RunningServer) -> None:
    sock = connect(strict_server)
    sock.sendall(b"POST /track/events/batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Transfer-Encoding: chunked\r\n\r\n")  # fmt: skip
    chunk = b"x" * 65536
    sent = 0
    sock.settimeout(0.05)
    answer = b""
    while sent < 50_000_000 and not answer:  # 50 MB would be the server reading it all
        try:
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sent += len(chunk)
            answer = sock.recv(65536)
        except TimeoutError:
            continue
        except (BrokenPipeError, ConnectionResetError):
            break
    sock.settimeout(5)
    if not answer:
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert sent < 2_000_000  # stopped near the 512 KiB cap, not at the end of the stream
    assert b"larger than this route's limit of 524288 bytes" in answer
