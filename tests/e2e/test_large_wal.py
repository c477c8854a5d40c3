"""A restart after kill -9 with a large write-ahead log: replayed within the memory cap, nothing lost.

DuckDB users report a large WAL that, replayed after a crash, exceeds the memory limit and
crash-loops the service. PulseGate checkpoints every few seconds so its own WAL stays small;
this test builds the worst case anyway (a writer that never checkpointed, killed with ~60 MB of
WAL) and starts `pulsegate serve` on it with the default 64 MB DuckDB memory limit.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import httpx
import pytest

from pulsegate.store.database import Database
from tests.e2e.running_server import RunningServer

pytestmark = pytest.mark.e2e
ROWS = 500_000
CRASHING_WRITER = """
import os, signal, sys
from datetime import datetime, timedelta
import duckdb
from pulsegate.store.tracking import EVENT_COLUMNS
connection = duckdb.connect(sys.argv[1])
connection.execute("SET checkpoint_threshold = '10GB'")  # never fold the WAL
appender = connection.appender("events", columns=list(EVENT_COLUMNS))
base = datetime(2026, 11, 1)
for group in range(int(sys.argv[2]) // 500):  # 500-row commits, each logged in the WAL
    appender.append_rows([(base + timedelta(milliseconds=group * 500 + i), f"s{i}", f"v{i}", "acme", "click",
                           f"button-{group}-{i}", f"https://example.com/p/{i}", f"/p/{i}", "Title", None,
                           '{"k":"v"}', None, None, False) for i in range(500)])
    appender.flush()
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_large_wal_left_by_kill_9_is_replayed_under_the_memory_cap(tmp_path: Path) -> None:
    database = tmp_path / "p.duckdb"
    Database.open(database).close()  # the schema
    crashed = subprocess.run([sys.executable, "-c", CRASHING_WRITER, str(database), str(ROWS)], timeout=120)
    assert crashed.returncode == -9
    wal = database.with_name(database.name + ".wal")
    assert wal.stat().st_size > 40_000_000  # a WAL far larger than usual

    server = RunningServer(database, tmp_path).start(timeout=60)
    try:
        assert (
            httpx.post(f"{server.base_url}/track/session/start", json={"url": "https://e.com/"}).status_code
            == 200
        )
    finally:
        assert server.stop() == 0
    assert "Traceback" not in server.log()
    assert wal.stat().st_size < 1_000_000 if wal.exists() else True  # folded into the file
    with duckdb.connect(str(database), read_only=True) as connection:
        assert connection.execute("SELECT count(*) FROM events WHERE type = 'click'").fetchone() == (ROWS,)
