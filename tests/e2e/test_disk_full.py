"""A disk that fills up: writes are refused with 503 before it is full, reads go on, writes resume.

Runs on a real tmpfs of 48 MB (mounting needs root, as in CI; elsewhere the test is skipped).
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.running_server import RunningServer, pulsegate_command

pytestmark = pytest.mark.e2e
MB = 1024 * 1024


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", str(mount_point)],
                             capture_output=True, text=True)  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def free_mb(folder: Path) -> float:
    stats = os.statvfs(folder)
    return stats.f_bavail * stats.f_frsize / MB


def test_a_filling_disk_refuses_writes_keeps_reads_and_recovers(small_disk: Path, tmp_path: Path) -> None:
    database = small_disk / "p.duckdb"
    key = subprocess.run(pulsegate_command("keys", "create", "k", "--quiet", "--database", str(database)),
                         capture_output=True, text=True, check=True, timeout=60).stdout.strip()  # fmt: skip
    server = RunningServer(database, tmp_path, env={"PULSEGATE_STORAGE__MIN_FREE_DISK_MB": "16"}).start()
    try:
        # A browser, not a bot, so analytics count the session.
        browser = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0"}
        with httpx.Client(base_url=server.base_url, timeout=10, headers=browser) as http:
            start = {"url": "https://site.example/"}
            assert http.post("/track/session/start", json=start).status_code == 200
            # Something else fills the disk until less than the margin is left.
            filler = small_disk / "filler"
            with filler.open("wb") as out:
                out.write(b"\0" * int((free_mb(small_disk) - 8) * MB))
            time.sleep(1.1)  # the guard measures once a second
            refused = http.post("/track/session/start", json=start)
            assert refused.status_code == 503
            assert "nearly full" in refused.json()["error"] and refused.headers["retry-after"] == "30"
            assert refused.headers["access-control-allow-origin"] == "*"
            assert http.get("/health").status_code == 503
            lead = http.post("/lead.capture", json={"submission_id": "disk-full-1", "email": "a@b.example"})
            assert lead.status_code == 503
            # Reads go on.
            overview = http.get("/analytics/overview", headers={"X-API-Key": key})
            assert overview.status_code == 200 and overview.json()["current"]["sessions"] == 1
            # Space returns: writes resume by themselves.
            filler.unlink()
            time.sleep(1.1)
            assert http.post("/track/session/start", json=start).status_code == 200
            assert http.get("/health").status_code == 200
            assert server.process.poll() is None  # never crashed
    finally:
        assert server.stop() == 0
    assert "Traceback" not in server.log()
