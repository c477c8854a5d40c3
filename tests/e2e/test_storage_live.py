"""Compaction and backup inside a running server, while events keep arriving."""

from __future__ import annotations

import time
from pathlib import Path

import duckdb
import pytest

from tests.e2e.running_server import RunningServer
from tests.e2e.traffic import Traffic
from tests.helpers import cli

pytestmark = pytest.mark.e2e


def test_compaction_during_ingest_loses_nothing(unlimited_server: RunningServer, tmp_path: Path) -> None:
    server = unlimited_server
    with Traffic(server.base_url, threads=4) as traffic:
        time.sleep(1.0)
        compacted = cli("storage", "compact", database=server.database)
        backup = cli("backup", str(tmp_path / "copy.duckdb"), database=server.database)
        time.sleep(1.0)  # traffic goes on against the new file
    assert compacted.returncode == 0, compacted.stderr
    assert "Compacted" in compacted.stdout
    assert backup.returncode == 0, backup.stderr
    assert server.stop() == 0
    con = duckdb.connect(str(server.database), read_only=True)
    try:
        stored = set(con.execute("SELECT session_id, name FROM events WHERE type = 'custom'").fetchall())
    finally:
        con.close()
    acknowledged = set(traffic.acked_events)
    assert len(acknowledged) > 200
    missing = acknowledged - stored
    assert not missing, f"{len(missing)} acknowledged events were lost across the compaction"
    copy = duckdb.connect(str(tmp_path / "copy.duckdb"), read_only=True)
    try:
        assert copy.execute("SELECT count(*) FROM events").fetchall()[0][0] > 0
    finally:
        copy.close()
