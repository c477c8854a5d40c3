"""A real `pulsegate serve` process on a free port, for end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

PULSEGATE = Path(sys.executable).with_name("pulsegate")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def pulsegate_command(*args: str) -> list[str]:
    """The installed console script, or `python -m cli` where it is not on disk beside Python."""
    if PULSEGATE.exists():
        return [str(PULSEGATE), *args]
    return [sys.executable, "-m", "cli", *args]


class RunningServer:
    """Starts, waits for, kills and restarts one `pulsegate serve` process."""

    def __init__(
        self,
        database: Path | None,
        log_dir: Path,
        *,
        port: int | None = None,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        serve_args: tuple[str, ...] = (),
    ) -> None:
        self.database = database
        self.port = port or free_port()
        self.cwd = cwd
        self.env = env or {}
        self.serve_args = serve_args
        self.log_dir = log_dir
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> RunningServer:
        """Start the server and return once /health answers 200."""
        self.starts += 1
        log = (self.log_dir / f"server-{self.port}-{self.starts}.log").open("wb")
        args = ["serve", "--port", str(self.port), *self.serve_args]
        if self.database is not None:  # None: the zero-configuration default
            args += ["--database", str(self.database)]
        self.process = subprocess.Popen(
            pulsegate_command(*args),
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.cwd,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **self.env},
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"pulsegate serve exited with {self.process.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.base_url}/health", timeout=1.0).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"pulsegate serve did not become healthy in {timeout}s:\n{self.log()}")

    def log(self) -> str:
        """The log of the latest start."""
        return (self.log_dir / f"server-{self.port}-{self.starts}.log").read_text(errors="replace")

    def all_logs(self) -> str:
        """The logs of every start, in order."""
        return "".join(
            (self.log_dir / f"server-{self.port}-{n}.log").read_text(errors="replace")
            for n in range(1, self.starts + 1)
        )

    def kill_hard(self) -> None:
        """SIGKILL the main process, as `kill -9 <pid>` would, and wait until the port is free."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self._wait_port_released()

    def stop(self, timeout: float = 60.0) -> int:
        """SIGTERM and wait for a graceful exit; returns the exit code."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=timeout)
        self._wait_port_released()
        return code

    def _wait_port_released(self, timeout: float = 10.0) -> None:
        # The worker dies with the main process (PR_SET_PDEATHSIG); once nothing accepts on the
        # port, no process holds the database either.
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    pass
            except OSError:
                return
            time.sleep(0.05)
        raise RuntimeError(f"something still listens on port {self.port} after the server stopped")
