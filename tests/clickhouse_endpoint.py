"""Starting the test ClickHouse HTTP endpoint (tests/clickhouse_http.py) in a process of its own:
chDB allows one store per process, and PulseGate's processes must reach it over the network."""

from __future__ import annotations

import ssl
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
    scheme: str = "http"

    def url(self, database: str) -> str:
        return f"{self.scheme}://default:{PASSWORD}@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


def start_endpoint(
    folder: Path, timeout: float = 60.0, *, tls_cert: Path | None = None, ca_file: Path | None = None
) -> ClickHouseEndpoint:
    """The endpoint on a free port; with `tls_cert` (key and chain, PEM) over HTTPS, its /ping
    checked against `ca_file`."""
    port = free_port()
    log = (folder / "endpoint.log").open("wb")
    tls = ["--tls-cert", str(tls_cert)] if tls_cert else []
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.clickhouse_http", "--path", str(folder / "store"),
         "--port", str(port), "--password", PASSWORD, *tls],
        cwd=Path(__file__).resolve().parent.parent, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    scheme = "https" if tls_cert else "http"
    context = ssl.create_default_context(cafile=str(ca_file)) if ca_file else None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"The ClickHouse test endpoint exited: {(folder / 'endpoint.log').read_text()}"
            )
        try:
            ping = f"{scheme}://127.0.0.1:{port}/ping"
            with urllib.request.urlopen(ping, timeout=1, context=context) as answer:
                if answer.read() == b"Ok.\n":
                    return ClickHouseEndpoint(process, port, folder / "store", scheme)
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("The ClickHouse test endpoint did not answer /ping in time")
