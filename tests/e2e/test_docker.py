"""The Docker image, built from the Dockerfile and run as a user runs it: healthy, not root, its
data in a volume that outlives the container, the CLI through `docker exec`, a clean stop.

CI sets Docker up first (.ci/docker-local-base: Debian's docker.io and a local stand-in for the
python:3.11-slim base, since no registry is reachable); without an engine the test is skipped
outside CI and fails in it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
IMAGE = "pulsegate-e2e"
STOPPED = "Database committed, checkpointed and closed"  # the server's last log line (app.py)
BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/124.0.0.0 Safari/537.36"}  # fmt: skip


def docker(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    if check:
        assert done.returncode == 0, f"docker {' '.join(args)}: {done.stderr[-2000:]}"
    return done


def _engine_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=30).returncode == 0


@pytest.fixture(scope="module")
def image() -> str:
    if not _engine_answers():
        if os.environ.get("CI"):
            pytest.fail("CI builds and runs the image: .ci/run sets Docker up with .ci/docker-local-base")
        pytest.skip("no Docker engine here (.ci/docker-local-base sets one up)")
    docker("build", "--network", "host", "-q", "-t", IMAGE, str(ROOT), timeout=900)
    return IMAGE


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(condition: Any, what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if found := condition():
                return found
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def names() -> Iterator[tuple[str, str]]:
    name = f"pulsegate-e2e-{uuid.uuid4().hex[:8]}"
    yield name, name
    docker("rm", "-f", name, check=False)
    docker("volume", "rm", "-f", name, check=False)


def _run(image: str, name: str, volume: str, port: int) -> str:
    """A container of the image on the volume, its port on loopback, checked for health every second."""
    docker("run", "-d", "--name", name, "-p", f"127.0.0.1:{port}:8787", "-v", f"{volume}:/data",
           "--health-interval", "1s", "--health-start-period", "30s", image)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    _wait(lambda: httpx.get(f"{base}/health", timeout=2).status_code == 200, "/health")
    return base


def _page_views(base: str, key: str) -> int:
    answer = httpx.get(f"{base}/analytics/overview", params={"period": "7d"}, headers={"X-API-Key": key})
    assert answer.status_code == 200, answer.text
    return int(answer.json()["current"]["page_views"])


def test_the_image_serves_keeps_its_data_and_stops_cleanly(image: str, names: tuple[str, str]) -> None:
    name, volume = names
    port = _free_port()
    base = _run(image, name, volume, port)

    # Not root: the server (PID 1) and `docker exec` run as the image's user.
    assert docker("exec", name, "id", "-u").stdout.strip() == "10001"
    status = docker("exec", name, "cat", "/proc/1/status").stdout
    assert any(line.split()[:2] == ["Uid:", "10001"] for line in status.splitlines())
    health = "{{.State.Health.Status}}"
    _wait(lambda: docker("inspect", "--format", health, name).stdout.strip() == "healthy", "HEALTHCHECK")

    # The CLI inside the container works against the running server (its control socket).
    key = docker("exec", name, "pulsegate", "keys", "create", "ci", "--quiet").stdout.strip()
    assert key.startswith("pgk_")
    pages = 3
    with httpx.Client(base_url=base, headers=BROWSER) as http:
        session = http.post("/track/session/start", json={"url": "https://a.example/"}).json()["session_id"]
        for n in range(1, pages):
            sent = http.post("/track/event", json={"session_id": session, "type": "pageview",
                                                   "url": f"https://a.example/p{n}"})  # fmt: skip
            assert sent.status_code == 200, sent.text
    assert _page_views(base, key) == pages  # the session's first page, then one per event

    # Every row outlives the container: stopped (cleanly, within its grace period), removed, and
    # a new container on the same volume.
    docker("stop", "-t", "40", name, timeout=60)
    assert docker("inspect", "--format", "{{.State.ExitCode}}", name).stdout.strip() == "0"
    logs = docker("logs", name)
    assert STOPPED in logs.stdout + logs.stderr
    docker("rm", name)
    base = _run(image, name, volume, port)
    assert _page_views(base, key) == pages


def test_compose_runs_it_on_its_volume(image: str) -> None:
    """compose.yaml as the README uses it (`up -d`, `exec … keys create`, `down`), on a port of
    the test's choosing (PULSEGATE_HOST_PORT) and its own project name."""
    if shutil.which("docker-compose") is None:
        if os.environ.get("CI"):
            pytest.fail("CI runs compose.yaml: .ci/run installs Debian's docker-compose")
        pytest.skip("no docker-compose here")
    docker("tag", image, "pulsegate")  # the compose file's image name; built above, not again
    port = _free_port()
    project = f"pulsegate-e2e-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "PULSEGATE_HOST_PORT": str(port)}

    def compose(*args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(["docker-compose", "-p", project, "-f", str(ROOT / "compose.yaml"), *args],
                              capture_output=True, text=True, timeout=180, env=env)  # fmt: skip
        assert done.returncode == 0, f"docker-compose {' '.join(args)}: {done.stderr[-2000:]}"
        return done

    try:
        compose("up", "-d", "--no-build")
        base = f"http://127.0.0.1:{port}"
        _wait(lambda: httpx.get(f"{base}/health", timeout=2).status_code == 200, "/health")
        key = compose(
            "exec", "-T", "pulsegate", "pulsegate", "keys", "create", "compose", "--quiet"
        ).stdout.strip()
        assert _page_views(base, key) == 0
        volumes = docker("volume", "ls", "--format", "{{.Name}}").stdout.split()
        assert f"{project}_pulsegate-data" in volumes
    finally:
        subprocess.run(["docker-compose", "-p", project, "-f", str(ROOT / "compose.yaml"), "down", "-v"],
                       capture_output=True, timeout=120, env=env)  # fmt: skip
