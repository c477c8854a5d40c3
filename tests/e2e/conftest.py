"""Fixtures that run the real server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.running_server import RunningServer


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    """A running `pulsegate serve` on a temporary database; stopped after the test."""
    running = RunningServer(tmp_path / "data" / "pulsegate.duckdb", tmp_path).start()
    yield running
    if running.process is not None and running.process.poll() is None:
        running.stop()


@pytest.fixture
def unlimited_server(tmp_path: Path) -> Iterator[RunningServer]:
    """A running server with rate limits off, for tests that need sustained traffic from one address."""
    env = {"PULSEGATE_RATE_LIMITS__ENABLED": "false"}
    running = RunningServer(tmp_path / "data" / "pulsegate.duckdb", tmp_path, env=env).start()
    yield running
    if running.process is not None and running.process.poll() is None:
        running.stop()
