"""CORS headers on every response, and one error shape for every failure."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from pulsegate.http.cors import CORS_HEADERS
from tests.helpers import app_cursor, break_runtime

EXPECTED_CORS = {name.decode(): value.decode() for name, value in CORS_HEADERS}


def assert_cors(response: Any) -> None:
    for name, value in EXPECTED_CORS.items():
        assert response.headers.get_list(name) == [value], name


def test_reference_values() -> None:
    assert EXPECTED_CORS == {
        "access-control-allow-origin": "*",
        "access-control-allow-methods": "GET, POST, OPTIONS",
        "access-control-allow-headers": "Content-Type, X-Fingerprint-ID, X-Visitor-ID, Authorization, X-API-Key",
        # Beyond the reference: lets a page's script read when a 429 ends.
        "access-control-expose-headers": "Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset",
    }


def test_preflights_may_be_cached_by_the_browser(client: TestClient[Any]) -> None:
    preflight = client.options(
        "/track/events/batch",
        headers={"Origin": "https://site.example", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-max-age"] == "7200"
    assert "access-control-max-age" not in client.get("/health").headers


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("POST", "/track/session/start", {"json": {"url": "https://e.com"}}, 200),
        ("GET", "/health", {}, 200),
        (
            "POST",
            "/track/session/start",
            {"content": b"{", "headers": {"content-type": "application/json"}},
            400,
        ),
        ("POST", "/track/event", {"json": {"session_id": "x", "type": "click"}}, 404),
        ("GET", "/no/such/path", {}, 404),
        ("POST", "/no/such/path", {}, 404),
        ("GET", "/track/session/start", {}, 405),
        (
            "POST",
            "/track/event",
            {"content": b"x" * 20_000, "headers": {"content-type": "application/json"}},
            413,
        ),
    ],
)
def test_every_response_has_cors_and_errors_have_the_error_body(
    client: TestClient[Any], method: str, path: str, kwargs: dict[str, Any], status: int
) -> None:
    response = client.request(method, path, **kwargs)
    assert response.status_code == status
    assert_cors(response)
    assert response.headers["content-type"].startswith("application/json")
    if status >= 400:
        body = response.json()
        assert list(body) == ["error"] and isinstance(body["error"], str) and body["error"]
        assert "Traceback" not in response.text


@pytest.mark.parametrize(
    "path", ["/track/session/start", "/track/event", "/track/events/batch", "/track/session/end"]
)
def test_preflight_answers_204_with_cors(client: TestClient[Any], path: str) -> None:
    response = client.options(
        path,
        headers={
            "Origin": "https://site.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, x-visitor-id",
        },
    )
    assert response.status_code == 204
    assert_cors(response)


def test_unexpected_errors_are_500_without_traceback(client: TestClient[Any]) -> None:
    # A real bug path: the service is broken, not mocked at the HTTP layer.
    break_runtime(client, tracking=None)
    response = client.post("/track/session/start", json={"url": "https://e.com"})
    assert response.status_code == 500
    assert response.json() == {"error": "Internal server error"}
    assert_cors(response)


def test_health_reports_ok_with_timestamp(client: TestClient[Any]) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and isinstance(body["timestamp"], int)


def test_health_is_503_when_the_database_refuses_writes(client: TestClient[Any]) -> None:
    with app_cursor(client) as cursor:
        cursor.execute("DROP TABLE meta")
    response = client.get("/health")
    assert response.status_code == 503
    assert "Database is not writable" in response.json()["error"]
    assert_cors(response)
