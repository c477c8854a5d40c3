"""The API documentation at /schema renders in Chromium from this server alone (no CDN, no fonts)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.e2e.running_server import RunningServer

pytestmark = pytest.mark.e2e


def test_the_documentation_renders_with_nothing_from_outside(
    server: RunningServer, browser_context: Any
) -> None:
    page = browser_context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{server.base_url}/schema")
    # Redoc has drawn the document: the API's title, the route groups, the first operation.
    page.get_by_text("Download OpenAPI specification").wait_for(timeout=20_000)
    assert page.get_by_role("heading", name="PulseGate (0.1.0)").is_visible()
    assert page.get_by_text("/lead.capture").first.is_visible()
    assert page.locator("label", has_text="tracking").count() >= 1 or "tracking" in page.inner_text("body")
    origins = {urlsplit(url).netloc for url in requested if urlsplit(url).scheme in ("http", "https")}
    assert origins == {urlsplit(server.base_url).netloc}, requested
