"""Files that hold contact details: created private, and compaction keeps the owner and mode."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import httpx
import pytest

from pulsegate.process import umask_for
from tests.e2e.running_server import RunningServer, pulsegate_command
from tests.helpers import file_rows

NOBODY = 65534


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize(
    ("file_mode", "umask"), [(0o600, 0o077), (0o640, 0o027), (0o644, 0o022), (0o660, 0o007)]
)
def test_the_umask_gives_files_the_mode_and_folders_their_search_bits(file_mode: int, umask: int) -> None:
    assert umask_for(file_mode) == umask
    assert 0o666 & ~umask == file_mode  # what open() makes of 0666
    assert 0o777 & ~umask == file_mode | ((file_mode & 0o444) >> 2)  # what mkdir makes of 0777


def run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(pulsegate_command(*args), cwd=cwd, capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})  # fmt: skip


def test_a_new_database_and_its_folder_are_private(tmp_path: Path) -> None:
    created = run("keys", "create", "first", "--database", "data/p.duckdb", cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    assert mode(tmp_path / "data") == 0o700 and mode(tmp_path / "data" / "p.duckdb") == 0o600


def test_the_config_can_let_the_group_read(tmp_path: Path) -> None:
    env = {"PULSEGATE_STORAGE__FILE_MODE": "0640"}
    assert run("keys", "create", "first", "--database", "p.duckdb", cwd=tmp_path, env=env).returncode == 0
    assert mode(tmp_path / "p.duckdb") == 0o640


@pytest.mark.e2e
def test_the_running_server_writes_its_wal_privately(tmp_path: Path) -> None:
    server = RunningServer(
        tmp_path / "data" / "p.duckdb", tmp_path, env={"PULSEGATE_STORAGE__CHECKPOINT_INTERVAL_SECONDS": "0"}
    )
    server.start()
    try:
        httpx.post(f"{server.base_url}/track/session/start", json={"url": "https://e.com/"}, timeout=10)
        wal = tmp_path / "data" / "p.duckdb.wal"
        assert wal.exists() and mode(wal) == 0o600
        assert mode(tmp_path / "data" / "p.duckdb") == 0o600 and mode(tmp_path / "data") == 0o700
    finally:
        assert server.stop() == 0


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root, as an operator running compaction by hand")
def test_compaction_as_root_keeps_the_service_users_owner_and_mode(tmp_path: Path) -> None:
    database = tmp_path / "p.duckdb"
    assert run("keys", "create", "first", "--database", str(database), cwd=tmp_path).returncode == 0
    os.chown(database, NOBODY, NOBODY)
    os.chmod(database, 0o640)
    done = run("storage", "compact", "--database", str(database), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    details = database.stat()
    assert (details.st_uid, details.st_gid, stat.S_IMODE(details.st_mode)) == (NOBODY, NOBODY, 0o640)
    assert file_rows(database, "SELECT count(*) FROM api_keys") == [(1,)]
