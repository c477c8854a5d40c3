"""Fixtures that run the real server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.browser import CHROMIUM_ARGS, DESKTOP_CHROME, chromium_path
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


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """One headless Chromium per test module (each test gets its own context)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_context(chromium: Any) -> Iterator[Any]:
    """A fresh browser profile (empty storage) that fails the test on any error thrown in a page."""
    context = chromium.new_context(user_agent=DESKTOP_CHROME)
    page_errors: list[str] = []
    context.on("page", lambda page: page.on("pageerror", lambda error: page_errors.append(str(error))))
    yield context
    context.close()
    assert page_errors == [], f"errors thrown in the page: {page_errors}"
