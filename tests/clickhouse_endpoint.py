"""Starting the test ClickHouse HTTP endpoint (tests/clickhouse_http.py) in a process of its own:
chDB allows one store per process, and PulseGate's processes must reach it over the network."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tests.e2e.running_server import free_port

PASSWORD = "endpoint-secret"


@dataclass
class ClickHouseEndpoint:
    """A running endpoint: `url(database)` is a clickhouse.url for a database of the test's own."""

    process: subprocess.Popen[bytes]
    port: int
    store: Path  # the endpoint's chDB folder

    def url(self, database: str) -> str:
        return f"http://default:{PASSWORD}@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


def start_endpoint(folder: Path, timeout: float = 60.0) -> ClickHouseEndpoint:
    port = free_port()
    log = (folder / "endpoint.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.clickhouse_http", "--path", str(folder / "store"),
         "--port", str(port), "--password", PASSWORD],
        cwd=Path(__file__).resolve().parent.parent, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"The ClickHouse test endpoint exited: {(folder / 'endpoint.log').read_text()}"
            )
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=1) as answer:
                if answer.read() == b"Ok.\n":
                    return ClickHouseEndpoint(process, port, folder / "store")
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("The ClickHouse test endpoint did not answer /ping in time")
