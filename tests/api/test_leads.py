"""Lead capture over HTTP (in process): stored before the answer, idempotent, spam-flagged,
linked to its session, rate limited, and the deprecated aliases with their headers; on both
engines (ClickHouse through chDB)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from pulsegate.app import create_app
from pulsegate.config import Settings
from pulsegate.domain.ids import id_time_ms
from tests.engines import make_settings_on_both_engines  # noqa: F401  (the fixture)
from tests.helpers import app_rows
from tests.windows import wait_for_fresh_window


@pytest.fixture
def client(make_settings: Callable[..., Settings]) -> Iterator[TestClient[Any]]:
    with TestClient(create_app(make_settings())) as test_client:
        yield test_client


LEAD = {"submission_id": "sub-000001", "name": "Ann Lee", "email": "ann@example.com", "elapsed_ms": 8000}


def leads_in(client: TestClient[Any]) -> list[tuple]:
    return app_rows(
        client,
        "SELECT submission_id, email, status, is_spam, spam_reason, session_id, visitor_id, traffic_source "
        "FROM leads ORDER BY created_at",
    )


def test_capture_is_stored_and_answers_the_lead_id(client: TestClient[Any]) -> None:
    response = client.post("/lead.capture", json=LEAD)
    assert response.status_code == 200
    body = response.json()
    assert body["submission_id"] == "sub-000001" and len(body["lead_id"]) == 36
    assert leads_in(client) == [("sub-000001", "ann@example.com", "new", False, None, None, None, None)]
    assert response.headers["access-control-allow-origin"] == "*"


def test_same_submission_twice_is_one_lead(client: TestClient[Any]) -> None:
    first = client.post("/lead.capture", json=LEAD).json()
    again = client.post("/lead.capture", json={**LEAD, "name": "Changed"}).json()
    assert again == first
    assert len(leads_in(client)) == 1


def test_lead_is_linked_to_its_session(client: TestClient[Any]) -> None:
    started = client.post(
        "/track/session/start",
        json={"url": "https://shop.example/", "referrer": "https://news.ycombinator.com/"},
    ).json()
    lead = {**LEAD, "session_id": started["session_id"], "visitor_id": "whatever-the-page-said"}
    body = client.post("/lead.capture", json=lead).json()
    assert body["visitor_id"] == started["visitor_id"]  # the session's, not the page's claim
    assert leads_in(client)[0][5:] == (started["session_id"], started["visitor_id"], "Hacker News")
    # Ids are time-ordered (UUIDv7) and carry the moment they were made, which is what lets
    # DuckDB find them without an index (README, "Memory that does not grow with the data").
    assert id_time_ms(started["session_id"]) == started["timestamp"]
    assert id_time_ms(body["lead_id"]) == body["timestamp"]
    assert app_rows(client, "SELECT epoch_ms(started_at) FROM sessions") == [(started["timestamp"],)]


@pytest.mark.parametrize(
    ("extra", "reason"),
    [({"website": "https://cheap.example"}, "honeypot"), ({"elapsed_ms": 400}, "too fast")],
)
def test_spam_is_answered_like_success_and_stored_flagged(
    client: TestClient[Any], extra: dict, reason: str
) -> None:
    response = client.post("/lead.capture", json={**LEAD, **extra})
    assert response.status_code == 200 and "lead_id" in response.json()
    assert leads_in(client) == [("sub-000001", "ann@example.com", "spam", True, reason, None, None, None)]


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"submission_id": "sub-000001", "name": "x"}, "email:"),
        ({"submission_id": "sub-000001", "email": "nope"}, "email:"),
        ({"submission_id": "short", "email": "a@example.com"}, "submission_id"),
        ({"submission_id": "sub-000001", "email": "a@example.com", "fields": {"a": {"b": 1}}}, "fields"),
    ],
)
def test_invalid_leads_are_400_naming_the_field_and_store_nothing(
    client: TestClient[Any], body: dict, named: str
) -> None:
    response = client.post("/lead.capture", json=body)
    assert response.status_code == 400
    assert named in response.json()["error"]
    assert leads_in(client) == []


@pytest.mark.parametrize("path", ["/lead", "/"])
def test_deprecated_aliases_accept_with_headers(client: TestClient[Any], path: str) -> None:
    response = client.post(path, json=LEAD, headers={"Referer": "https://old-site.example/contact"})
    assert response.status_code == 200
    assert response.headers["deprecation"] == "true"
    assert response.headers["sunset"] == "Mon, 01 Jun 2026 00:00:00 GMT"
    assert response.headers["link"] == '</lead.capture>; rel="successor-version"'
    assert len(leads_in(client)) == 1


@pytest.mark.parametrize("path", ["/lead", "/"])
def test_deprecated_aliases_can_be_switched_to_410(make_settings: Any, path: str) -> None:
    with TestClient(create_app(make_settings(leads={"deprecated_routes": "gone"}))) as gone:
        response = gone.post(path, json=LEAD)
        assert response.status_code == 410
        assert "/lead.capture" in response.json()["error"]
        assert response.headers["access-control-allow-origin"] == "*"
        assert response.headers["deprecation"] == "true" and "sunset" in response.headers
        assert leads_in(gone) == []


def test_capture_is_rate_limited_per_client_across_aliases(client: TestClient[Any]) -> None:
    wait_for_fresh_window()
    answers = [
        client.post("/lead.capture" if n % 2 else "/lead", json={**LEAD, "submission_id": f"sub-{n:06d}"})
        for n in range(11)
    ]
    assert [a.status_code for a in answers[:10]] == [200] * 10
    assert answers[10].status_code == 429
    assert "retry-after" in answers[10].headers and answers[9].headers["x-ratelimit-remaining"] == "0"


def test_preflight_and_oversized_body(client: TestClient[Any]) -> None:
    assert client.options("/lead.capture").status_code == 204
    huge = {**LEAD, "message": "x" * 4000, "fields": {f"k{i}": "v" * 1900 for i in range(40)}}
    assert client.post("/lead.capture", json=huge).status_code == 413
