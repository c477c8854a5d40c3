"""Debian's Chromium, driven by Playwright, launched as this machine needs it."""

from __future__ import annotations

import shutil
from pathlib import Path

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps dialling Google's hosts, which a closed
# network refuses; headless runs as root need --no-sandbox.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Analytics leave out bots, and a headless browser says "HeadlessChrome" in its user agent: the
# tests browse as the desktop Chrome a visitor would use.
DESKTOP_CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"
)


def chromium_path() -> str:
    """Where Chromium is, or an error saying how to get it (.ci/run installs it)."""
    if not Path(CHROMIUM).exists():
        raise RuntimeError("Chromium is missing: apt-get install -y chromium (.ci/run does this)")
    return CHROMIUM
