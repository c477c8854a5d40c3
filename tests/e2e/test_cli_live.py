"""The CLI against a live server on the same database: keys over the control socket, status, and
clear errors when the file is held by something that does not answer."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
import pytest

from pulsegate.control.protocol import control_socket_path
from tests.e2e.running_server import RunningServer, pulsegate_command
from tests.helpers import cli

pytestmark = pytest.mark.e2e


def test_keys_created_while_the_server_runs_work_at_once(server: RunningServer) -> None:
    created = cli("keys", "create", "dashboard", "--quiet", database=server.database)
    assert created.returncode == 0, created.stderr
    secret = created.stdout.strip()
    assert secret.startswith("pgk_") and len(secret) > 40
    overview = httpx.get(
        f"{server.base_url}/analytics/overview", headers={"Authorization": f"Bearer {secret}"}
    )
    assert overview.status_code == 200
    socket_path = control_socket_path(server.database)
    assert stat.S_IMODE(socket_path.stat().st_mode) == 0o600

    status = cli("status", database=server.database)
    assert status.returncode == 0
    assert f"Server running: pid {server.process.pid} (worker " in status.stdout
    assert "1 live API keys" in status.stdout and "MB resident" in status.stdout

    # --json: the numbers a monitoring script or a benchmark samples, from the serving process.
    facts = json.loads(cli("status", "--json", database=server.database).stdout)
    worker = facts["server"]["pid"]
    resident_mb = int(Path(f"/proc/{worker}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6
    assert abs(facts["server"]["rss_mb"] - resident_mb) < 0.25 * resident_mb  # read from the worker
    assert 0 < facts["duckdb_memory"]["used_mb"] < facts["server"]["rss_mb"]
    assert facts["duckdb_memory"]["limit"] and facts["counts"]["api_keys"] == 1

    listed = cli("keys", "list", database=server.database)
    key_id = next(line.split()[1] for line in listed.stdout.splitlines() if "dashboard" in line)
    revoked = cli("keys", "revoke", key_id, database=server.database)
    assert revoked.returncode == 0 and f"Revoked {key_id}" in revoked.stdout
    refused = httpx.get(f"{server.base_url}/analytics/overview", headers={"X-API-Key": secret})
    assert refused.status_code == 401

    assert server.stop() == 0
    assert not socket_path.exists()
    offline = cli("keys", "list", database=server.database)
    row = next(line for line in offline.stdout.splitlines() if "dashboard" in line)
    # Opened without the server: the key's batched last use was written at shutdown, and it is revoked.
    assert row.count("20") >= 3, row  # created, last used and revoked dates all present
    assert "No server is running" in cli("status", database=server.database).stdout


def test_a_stale_socket_after_kill_9_is_not_mistaken_for_a_server(server: RunningServer) -> None:
    server.kill_hard()
    assert control_socket_path(server.database).exists()  # left behind by the killed server
    result = cli("keys", "create", "after-crash", database=server.database)
    assert result.returncode == 0, result.stderr
    assert "Created API key" in result.stdout
    server.start()  # replaces the stale socket
    assert "Server running" in cli("status", database=server.database).stdout


def test_a_held_database_that_does_not_answer_is_named(tmp_path: Path) -> None:
    database = tmp_path / "held.duckdb"
    assert cli("keys", "create", "first", database=database).returncode == 0  # creates and migrates it
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, time; c = duckdb.connect({str(database)!r}); print('held', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        result = cli("keys", "list", database=database)
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode == 1
    assert f"held by process {holder.pid}" in result.stderr
    assert "does not answer on the control socket" in result.stderr
    assert "Traceback" not in result.stderr


def test_leads_export_and_show_while_the_server_runs(server: RunningServer, tmp_path: Path) -> None:
    lead = httpx.post(
        f"{server.base_url}/lead.capture",
        json={
            "submission_id": "live-000001",
            "email": "live@example.com",
            "name": "=HYPERLINK(1)",
            "elapsed_ms": 5000,
        },
    ).json()
    out = tmp_path / "live.csv"
    exported = cli("leads", "export", "--csv", "-o", str(out), database=server.database)
    assert exported.returncode == 0, exported.stderr
    text = out.read_text()
    assert lead["lead_id"] in text and "'=HYPERLINK(1)" in text
    shown = cli("leads", "show", lead["lead_id"], database=server.database)
    assert shown.returncode == 0 and "live@example.com" in shown.stdout
    retried = cli("leads", "retry", "--failed", database=server.database)
    assert retried.returncode == 0 and "0 deliveries due now" in retried.stdout


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can act as another user to try the socket")
def test_the_control_socket_refuses_other_users(tmp_path: Path) -> None:
    # A folder everyone may enter, so only the socket's own mode (0600) stands in the way.
    folder = Path(tempfile.mkdtemp(prefix="pulsegate-socket-", dir="/tmp"))
    folder.chmod(0o755)
    server = RunningServer(folder / "p.duckdb", tmp_path).start()
    try:
        socket_path = control_socket_path(server.database)
        probe = (
            "import socket, sys\n"
            "s = socket.socket(socket.AF_UNIX)\n"
            "try:\n    s.connect(sys.argv[1])\nexcept PermissionError:\n    print('refused')\n"
            "else:\n    print('connected')\n"
        )
        # The system's Python: the test's own may live where `nobody` cannot run it.
        python = shutil.which("python3", path="/usr/bin:/bin") or sys.executable
        as_nobody = subprocess.run([python, "-c", probe, str(socket_path)], capture_output=True, text=True,
                                   timeout=30, user=65534, group=65534)  # fmt: skip
        assert as_nobody.stdout.strip() == "refused", as_nobody.stderr
        as_owner = subprocess.run(
            [sys.executable, "-c", probe, str(socket_path)], capture_output=True, text=True, timeout=30
        )
        assert as_owner.stdout.strip() == "connected"  # the same probe can succeed: the refusal is the mode's
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def test_bad_output_paths_are_refused_live_before_any_work(server: RunningServer, tmp_path: Path) -> None:
    folder = tmp_path / "a-folder"
    folder.mkdir()
    for args in (
        ("backup", str(folder), "--force"),
        ("leads", "export", "--parquet", "-o", str(tmp_path / "missing" / "out.parquet")),
        ("leads", "export", "-o", str(tmp_path / "missing" / "out.csv")),
    ):
        done = cli(*args, database=server.database)
        assert done.returncode == 2, done.stdout + done.stderr
        assert done.stderr.startswith("Error:") and len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert "Internal error" not in done.stderr and "Traceback" not in done.stderr
    assert list(folder.iterdir()) == [] and not (tmp_path / "missing").exists()
    assert not list(tmp_path.glob("*.partial"))
    assert "Traceback" not in server.log()


def test_the_snippet_names_the_address_the_running_server_listens_on(server: RunningServer) -> None:
    # The config's default is 127.0.0.1:8787; this server listens on another port.
    done = cli("snippet", "--project", "acme", database=server.database)
    assert done.returncode == 0, done.stderr
    assert f'src="http://127.0.0.1:{server.port}/pulse.js"' in done.stdout
    assert "Warning:" in done.stderr  # and it is this machine's own address


def test_demo_seed_s_next_steps_run_as_printed(tmp_path: Path) -> None:
    database = tmp_path / "elsewhere" / "demo.duckdb"
    seeded = cli("demo", "seed", "--sessions", "30", "--days", "2", database=database)
    assert seeded.returncode == 0, seeded.stderr
    commands = re.findall(r"`(pulsegate [^`]+)`", seeded.stdout)
    assert [command.split()[1] for command in commands] == ["keys", "serve"]
    for command in commands:
        assert f"--database {database}" in command
    keys_create = shlex.split(commands[0])[1:]
    created = subprocess.run(
        pulsegate_command(*keys_create), capture_output=True, text=True, timeout=60, cwd="/"
    )
    assert created.returncode == 0, created.stderr
    listed = json.loads(cli("keys", "list", "--json", database=database).stdout)
    assert [key["name"] for key in listed] == ["dashboard"]


def test_report_reads_the_running_server_s_traffic(server: RunningServer) -> None:
    headers = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0"}
    for url in ("https://e.com/?utm_source=news", "https://e.com/a?utm_source=news", "https://e.com/b"):
        started = httpx.post(f"{server.base_url}/track/session/start", json={"url": url}, headers=headers)
        assert started.status_code == 200, started.text
    answer = json.loads(cli_output_live(server, "report", "utm_source", "-m", "sessions", "--json"))
    assert {row["value"]: row["sessions"] for row in answer["rows"]} == {"news": 2, None: 1}
    pages = cli_output_live(
        server, "report", "entry_page", "--filter", "utm_source==news", "-m", "sessions", "--csv"
    )
    assert pages.splitlines() == ["value,sessions", "/,1", "/a,1"]


def cli_output_live(server: RunningServer, *args: str) -> str:
    done = cli(*args, database=server.database)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_goals_are_managed_through_the_running_server(server: RunningServer) -> None:
    added = cli("goals", "add", "Signup", "--event", "Signup", "--prop", "plan=pro", database=server.database)
    # The server holds the file: this works only through its control socket.
    assert added.returncode == 0, added.stderr
    listed = json.loads(cli_output_live(server, "goals", "list", "--json"))
    assert [info["goal"]["name"] for info in listed] == ["Signup"]
    # A funnel on the goal, saved live, is at once in the API.
    saved = cli("funnels", "add", "Pricing", "--step", "page:/pricing", "--step", "goal:Signup",
                database=server.database)  # fmt: skip
    assert saved.returncode == 0, saved.stderr
    secret = cli("keys", "create", "goals", "--quiet", database=server.database).stdout.strip()
    headers = {"Authorization": f"Bearer {secret}"}
    funnels = httpx.get(f"{server.base_url}/analytics/funnels", headers=headers).json()["funnels"]
    assert [f["name"] for f in funnels] == ["Pricing"]
    goals = httpx.get(f"{server.base_url}/analytics/goals", headers=headers).json()["goals"]
    assert [(g["name"], g["conversions"]) for g in goals] == [("Signup", 0)]
    assert cli("funnels", "remove", "Pricing", database=server.database).returncode == 0
    assert cli("goals", "remove", "Signup", database=server.database).returncode == 0
    assert json.loads(cli_output_live(server, "goals", "list", "--json")) == []
