"""Deployment files: the Docker build context holds everything the wheel needs, the examples agree with the code.

The image itself is built and run by tests/e2e/test_docker.py; this test does what its build
stage does without Docker (copy exactly what the Dockerfile copies, build the wheel) and checks
the wheel has the scripts, dashboard, demo and example config the server serves.
"""

from __future__ import annotations

import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import httpx
import pytest

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


UNIT = ROOT / "deploy" / "pulsegate.service"
PLACES = ("/var/lib/pulsegate", "/opt/pulsegate", "/etc/pulsegate", "/etc/systemd/system")


def install_steps() -> list[str]:
    """The install commands in the unit's header, in order."""
    return [
        line.removeprefix("#   ") for line in UNIT.read_text().splitlines() if line.startswith("#   sudo ")
    ]


def localised(text: str, base: Path, user: str) -> str:
    """A step or unit line with the system's places moved under `base` and the account renamed."""
    for place in PLACES:
        text = text.replace(place, f"{base}{place}")
    text = re.sub(
        r"(-o|-g|--owner|-u|^User=|^Group=) ?pulsegate\b",
        lambda m: m.group(0).replace("pulsegate", user),
        text,
        flags=re.M,
    )
    return re.sub(r" pulsegate$", f" {user}", text, flags=re.M)  # useradd's account name


def as_root_shell_would(command: str) -> list[str]:
    """`sudo -u U cmd` runs as U; `sudo cmd` as root, which these tests are."""
    words = shlex.split(command)
    assert words[0] == "sudo"
    if words[1] == "-u":
        return ["runuser", "-u", words[2], "--", *words[3:]]
    return words[1:]


@pytest.mark.e2e
@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("runuser"), reason="creates an account: needs root")
def test_the_install_steps_run_as_written_in_a_fresh_account() -> None:
    """Every step of the unit's header, in order, as root in a fresh account (places moved under a
    temporary folder); systemd itself does not run in a container, so the unit's service is then
    started as systemd would: its user, its folder, its environment, its ExecStart."""
    steps = install_steps()
    assert any("systemctl enable --now pulsegate" in step for step in steps)
    base = Path(tempfile.mkdtemp(prefix="pulsegate-deploy-", dir="/tmp"))
    os.chmod(base, 0o755)  # the service's account must reach its folders inside
    for folder in ("etc", "etc/systemd", "etc/systemd/system"):  # as on a real system: 0755
        (base / folder).mkdir(mode=0o755)
        os.chmod(base / folder, 0o755)  # whatever this process's umask
    user = f"pgdeploy{os.getpid() % 100_000}"
    # As sudo runs them: its secure_path (Debian's python3, not a user's own), root's usual umask.
    sudo_environment = {
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": "/root",
    }
    as_a_root_shell = {
        "preexec_fn": lambda: os.umask(0o022),
        "cwd": ROOT,
        "capture_output": True,
        "text": True,
        "env": sudo_environment,
    }
    server = None
    try:
        started_by_systemd = next(n for n, step in enumerate(steps) if "systemctl" in step)
        for step in steps[:started_by_systemd]:
            done = subprocess.run(
                as_root_shell_would(localised(step, base, user)), timeout=900, **as_a_root_shell
            )
            assert done.returncode == 0, f"{step}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        config = base / "etc" / "pulsegate" / "pulsegate.toml"
        assert (
            config.stat().st_uid == pwd.getpwnam(user).pw_uid and stat.S_IMODE(config.stat().st_mode) == 0o600
        )
        assert (base / "etc" / "systemd" / "system" / "pulsegate.service").read_text() == UNIT.read_text()
        unit = {key: value for key, _, value in (line.partition("=") for line in
                localised(UNIT.read_text(), base, user).splitlines()) if value and key in ("User", "WorkingDirectory", "ExecStart")}  # fmt: skip
        environment = dict(
            re.findall(r"^Environment=(\w+)=(.*)$", localised(UNIT.read_text(), base, user), flags=re.M)
        )
        port = free_port()
        environment["PULSEGATE_PORT"] = str(port)
        server = subprocess.Popen(["runuser", "-u", unit["User"], "--", *shlex.split(unit["ExecStart"])],
                                  cwd=unit["WorkingDirectory"], env={"PATH": os.environ["PATH"], **environment},
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
        wait_healthy(f"http://127.0.0.1:{port}", server)
        [keys_step] = [step for step in steps[started_by_systemd:] if "systemctl" not in step]
        created = subprocess.run(
            as_root_shell_would(localised(keys_step, base, user)), timeout=120, **as_a_root_shell
        )
        assert created.returncode == 0, created.stderr
        secret = next(word for word in created.stdout.split() if word.startswith("pgk_"))
        answer = httpx.get(
            f"http://127.0.0.1:{port}/analytics/overview", headers={"X-API-Key": secret}, timeout=10
        )
        assert answer.status_code == 200
        database = base / "var" / "lib" / "pulsegate" / "pulsegate.duckdb"
        assert (
            database.stat().st_uid == pwd.getpwnam(user).pw_uid
            and stat.S_IMODE(database.stat().st_mode) == 0o600
        )
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
        subprocess.run(["userdel", user], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_healthy(base_url: str, process: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"the service exited with {process.returncode}: {process.stdout.read() if process.stdout else ''}"
            )
        try:
            if httpx.get(f"{base_url}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("the service did not become healthy")
