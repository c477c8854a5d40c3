"""Deployment files: the Docker build context holds everything the wheel needs, the examples agree with the code.

No Docker engine runs on these machines, so the image itself is not built here; this test does
what its build stage does (copy exactly what the Dockerfile copies, build the wheel) and checks
the wheel has the scripts, dashboard, demo and example config the server serves.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_docker_build_stage_makes_a_complete_wheel(tmp_path: Path) -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    build_stage = dockerfile.split("FROM ", 2)[1]  # the first stage
    copies = re.findall(r"^COPY (?!--from)(.+?) \S+$", build_stage, flags=re.M)
    context = tmp_path / "context"
    context.mkdir()
    for line in copies:
        for name in line.split():
            source = ROOT / name
            target = context / name
            shutil.copytree(source, target) if source.is_dir() else shutil.copy(source, target)
    out = tmp_path / "wheels"
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(context)],
                           capture_output=True, text=True, timeout=300)  # fmt: skip
    assert built.returncode == 0, built.stderr[-2000:]
    [wheel] = out.glob("pulsegate-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("pulsegate/web_assets/tracker.js", "pulsegate/web_assets/dashboard/index.html",
                   "pulsegate/demo/index.html", "pulsegate/config.example.toml", "cli/main.py"):  # fmt: skip
        assert needed in names, needed


def test_the_image_runs_as_a_user_on_a_volume_with_a_healthcheck() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^USER pulsegate$", dockerfile, flags=re.M)
    assert 'VOLUME ["/data"]' in dockerfile and "PULSEGATE_HOST=0.0.0.0" in dockerfile
    assert "HEALTHCHECK" in dockerfile and "/health" in dockerfile
    assert dockerfile.count("FROM ") == 2  # build stage, then a slim runtime without build tools


def test_the_systemd_unit_gives_the_server_time_to_checkpoint() -> None:
    unit = (ROOT / "deploy" / "pulsegate.service").read_text()
    stop = int(re.search(r"^TimeoutStopSec=(\d+)$", unit, flags=re.M).group(1))
    server = (ROOT / "pulsegate" / "server.py").read_text()
    kill_timeout = int(re.search(r"workers_kill_timeout=(\d+)", server).group(1))
    assert stop > kill_timeout  # systemd must not SIGKILL before the worker's own deadline
    assert "ExecStart=/opt/pulsegate/bin/pulsegate serve" in unit and "User=pulsegate" in unit
    assert "PULSEGATE_HOST=127.0.0.1" in unit  # behind the proxy, loopback only
