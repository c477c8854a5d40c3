"""GET /dashboard and its files: served with a strict Content-Security-Policy the page can live with."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from litestar.testing import TestClient

from pulsegate.http.dashboard import CONTENT_SECURITY_POLICY
from pulsegate.resources import shipped_file

DASHBOARD = shipped_file("web_assets") / "dashboard"


def test_the_page_comes_with_security_headers(client: TestClient[Any]) -> None:
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"  # once, not twice
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY and "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-cache"
    assert client.get("/dashboard/").text == page.text
    again = client.get("/dashboard", headers={"If-None-Match": page.headers["etag"]})
    assert again.status_code == 304


@pytest.mark.parametrize(("name", "media_type"), [("dashboard.js", "javascript"), ("dashboard.css", "text/css"),
                                                  ("charts.js", "javascript"), ("favicon.svg", "image/svg+xml")])  # fmt: skip
def test_its_files_are_served(client: TestClient[Any], name: str, media_type: str) -> None:
    response = client.get(f"/dashboard/{name}")
    assert response.status_code == 200 and media_type in response.headers["content-type"]
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert response.content == (DASHBOARD / name).read_bytes()


def test_unknown_files_are_404_with_an_error_body(client: TestClient[Any]) -> None:
    for path in ("/dashboard/nope.js", "/dashboard/..%2Fpulse.js", "/dashboard/%2e%2e%2fconfig.py"):
        response = client.get(path)
        assert response.status_code == 404 and "error" in response.json(), path


class _InlineCode(HTMLParser):
    """Finds what a CSP without 'unsafe-inline' would block: inline scripts, styles and handlers."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if tag == "script" and "src" not in names:
            self._in_script = True
        if tag == "style" or "style" in names or any(name.startswith("on") for name in names):
            self.found.append(f"<{tag} {sorted(names)}>")

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.found.append(f"inline script: {data.strip()[:40]}")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False


def test_the_page_has_nothing_inline_that_its_policy_would_block() -> None:
    parser = _InlineCode()
    parser.feed((DASHBOARD / "index.html").read_text())
    assert parser.found == []


def test_the_scripts_insert_data_as_text_and_send_the_key_only_as_a_header() -> None:
    sources = {path.name: path.read_text() for path in DASHBOARD.glob("*.js")}
    for name, source in sources.items():
        assert not re.search(r"\.innerHTML|\.outerHTML|insertAdjacentHTML|document\.write", source), name
    api = sources["api.js"]
    assert '"X-API-Key"' in api and "sessionStorage" in api
    assert not any(
        'searchParams.set("key' in source or "localStorage" in source for source in sources.values()
    )
