"""HEAD where monitors ask it, and the server's root address leading a person to the dashboard."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from tests.helpers import app_rows

READABLE = ("/health", "/tracker.js", "/form.js", "/pulse.js", "/dashboard", "/dashboard/dashboard.js")


@pytest.mark.parametrize("path", READABLE)
def test_head_answers_like_get_without_a_body(client: TestClient[Any], path: str) -> None:
    got = client.get(path, headers={"Accept-Encoding": "identity"})
    head = client.head(path, headers={"Accept-Encoding": "identity"})
    assert got.status_code == 200 and head.status_code == 200  # not 405: uptime checkers read that as down
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
    if path != "/health":  # the health answer carries the time of its own check
        assert head.headers["content-length"] == got.headers["content-length"] == str(len(got.content))
        assert head.headers["etag"] == got.headers["etag"]


def test_head_on_health_checks_the_database_too(client: TestClient[Any]) -> None:
    assert client.head("/health").status_code == 200
    assert app_rows(client, "SELECT count(*) FROM meta WHERE key = 'last_health_check'") == [(1,)]


def test_the_root_address_redirects_to_the_dashboard(client: TestClient[Any]) -> None:
    for method in ("GET", "HEAD"):
        response = client.request(method, "/", follow_redirects=False)
        assert response.status_code == 302 and response.headers["location"] == "/dashboard"
    assert client.get("/").url.path == "/dashboard"


def test_post_to_the_root_still_captures_a_lead(client: TestClient[Any]) -> None:
    response = client.post("/", json={"submission_id": "root-0001", "email": "a@example.com"})
    assert response.status_code == 200 and response.headers["deprecation"] == "true"
    assert app_rows(client, "SELECT submission_id FROM leads") == [("root-0001",)]


def test_the_schema_lists_each_operation_once(client: TestClient[Any]) -> None:
    paths = client.get("/schema/openapi.json").json()["paths"]
    assert list(paths["/health"]) == ["get"] and list(paths["/tracker.js"]) == ["get"]
    assert list(paths["/"]) == ["post"]  # the redirect is for people, not for the API
