"""What a started server has imported (issue 21, memory): no library for a feature it does not use.

Not measured (bench/sustained.py measures the resident memory): a real process opens the
runtime as `pulsegate serve`'s worker does, and the modules it has loaded are checked, so a
module-level import of psycopg (9 MB resident, for `import umami` only) or httpx (7 MB with the
rich and click its CLI brings, for webhooks only) fails here.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROBE = """
import asyncio, sys
from pulsegate.config import load_settings
from pulsegate.runtime import open_runtime

overrides = {"storage": {"database": sys.argv[1]}}
if sys.argv[2]:
    overrides["crm"] = {"webhook_url": sys.argv[2], "signing_secret": "s" * 32}

async def main():
    async with open_runtime(load_settings(None, environ={}, overrides=overrides)):
        import pulsegate.app  # the ASGI app's routes, as the worker imports them
        print("MODULES", " ".join(sorted(sys.modules)))

asyncio.run(main())
"""


def modules_of_a_started_server(tmp_path: Path, webhook_url: str = "") -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path / "data" / "pulsegate.duckdb"), webhook_url],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return set(result.stdout.rpartition("MODULES ")[2].split())


def test_a_server_without_a_webhook_loads_neither_psycopg_nor_httpx(tmp_path: Path) -> None:
    modules = modules_of_a_started_server(tmp_path)
    assert "pulsegate.runtime" in modules and "litestar" in modules  # the probe did start a server
    assert sorted(m for m in ("psycopg", "httpx", "rich", "click") if m in modules) == []


def test_a_configured_webhook_loads_httpx(tmp_path: Path) -> None:
    assert "httpx" in modules_of_a_started_server(tmp_path, "http://127.0.0.1:9/crm")
