"""Helpers for tests that depend on clock-aligned windows (rate limits, whole hours)."""

from __future__ import annotations

import time


def wait_for_fresh_window(window_seconds: int = 60, margin: float = 8.0) -> None:
    """Start near the beginning of a window, so a burst of requests stays inside one."""
    into_window = time.time() % window_seconds
    if into_window > window_seconds - margin:
        time.sleep(window_seconds - into_window + 0.05)
