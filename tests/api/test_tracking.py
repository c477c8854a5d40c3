"""The four tracking routes, in process: answers, stored rows, and every refusal."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from litestar.testing import TestClient

from pulsegate.app import create_app
from tests.helpers import app_rows, app_runtime

START = {"url": "https://example.com/", "referrer": "https://news.ycombinator.com/", "title": "Home"}


def start_session(client: TestClient[Any], **headers: str) -> dict[str, Any]:
    response = client.post("/track/session/start", json=START, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_session_start_answers_the_reference_format(client: TestClient[Any]) -> None:
    body = start_session(client)
    assert set(body) == {"session_id", "visitor_id", "timestamp"}
    assert len(body["visitor_id"]) == 64
    rows = app_rows(client, "SELECT session_id, visitor_id, entry_url, referrer, title FROM sessions")
    assert rows == [(body["session_id"], body["visitor_id"], START["url"], START["referrer"], "Home")]


def test_visitor_id_follows_the_visitor_header(client: TestClient[Any]) -> None:
    first = start_session(client, **{"X-Visitor-ID": "abc"})
    second = start_session(client, **{"X-Visitor-ID": "abc", "X-Fingerprint-ID": "zzz"})
    third = start_session(client, **{"X-Visitor-ID": "other"})
    assert first["visitor_id"] == second["visitor_id"] != third["visitor_id"]
    salt = app_rows(client, "SELECT value FROM meta WHERE key = 'secret:visitor_salt'")[0][0]
    assert first["visitor_id"] == hashlib.sha256(f"{salt}\x00visitor\x00abc".encode()).hexdigest()


def test_event_and_batch_are_stored_with_the_session(client: TestClient[Any]) -> None:
    session = start_session(client)
    single = client.post(
        "/track/event",
        json={"session_id": session["session_id"], "type": "pageview", "url": "https://example.com/a",
              "props": {"plan": "pro"}, "timestamp": 1_740_000_000_000},
    )  # fmt: skip
    assert single.status_code == 200
    assert single.json()["accepted"] == 1
    assert single.json()["visitor_id"] == session["visitor_id"]
    events = [{"type": "click", "name": f"button-{i}"} for i in range(100)]
    batch = client.post("/track/events/batch", json={"session_id": session["session_id"], "events": events})
    assert batch.status_code == 200 and batch.json()["accepted"] == 100
    rows = app_rows(
        client,
        "SELECT type, count(*), count(DISTINCT visitor_id), any_value(session_id) FROM events GROUP BY type ORDER BY type::VARCHAR",
    )
    # The landing page view is recorded by session start; the explicit one adds a second.
    assert rows == [("click", 100, 1, session["session_id"]), ("pageview", 2, 1, session["session_id"])]
    props, client_ts = app_rows(
        client, "SELECT props, client_ms FROM events WHERE url = 'https://example.com/a'"
    )[0]
    assert props == '{"plan":"pro"}' and client_ts == 1_740_000_000_000


def test_batch_of_101_is_refused_and_stores_nothing(client: TestClient[Any]) -> None:
    session = start_session(client)
    events = [{"type": "click"}] * 101
    response = client.post(
        "/track/events/batch", json={"session_id": session["session_id"], "events": events}
    )
    assert response.status_code == 400
    assert "length <= 100" in response.json()["error"]
    assert app_rows(client, "SELECT count(*) FROM events WHERE type = 'click'") == [(0,)]


def test_session_end_is_idempotent_and_the_next_page_resumes_it(client: TestClient[Any]) -> None:
    session = start_session(client)
    ended = client.post("/track/session/end", json={"session_id": session["session_id"]})
    assert ended.status_code == 200
    again = client.post("/track/session/end", json={"session_id": session["session_id"]})
    assert again.status_code == 200 and again.json() == ended.json()
    (ended_at,) = app_rows(client, "SELECT epoch_ms(ended_at) FROM sessions")[0]
    assert ended_at == ended.json()["timestamp"]
    # The tracker ends its session on every page it leaves; the next page carries on in it.
    next_page = {"session_id": session["session_id"], "type": "pageview", "url": "https://example.com/b"}
    assert client.post("/track/event", json=next_page).status_code == 200
    assert app_runtime(client).tracking.open_sessions == 1  # open again (on disk, its events say so)
    final = client.post("/track/session/end", json={"session_id": session["session_id"]})
    assert final.status_code == 200
    assert app_rows(client, "SELECT page_views, exit_url, end_reason FROM sessions") == [
        (2, "https://example.com/b", "client")
    ]


def test_events_after_the_idle_timeout_are_refused(make_settings: Any) -> None:
    settings = make_settings()
    with TestClient(create_app(settings)) as client:
        session = start_session(client)
        assert (
            client.post("/track/session/end", json={"session_id": session["session_id"]}).status_code == 200
        )
        # As if the visitor left 31 minutes ago (the default idle timeout is 30).
        app_rows(client, "UPDATE sessions SET ended_at = ended_at - INTERVAL 31 MINUTE")
    with TestClient(create_app(settings)) as client:  # a restart: only the disk knows the session now
        late = client.post("/track/event", json={"session_id": session["session_id"], "type": "click"})
        assert late.status_code == 404
        assert "has ended" in late.json()["error"]
        assert app_rows(client, "SELECT count(*) FROM events WHERE type = 'click'") == [(0,)]


def test_unknown_session_is_404(client: TestClient[Any]) -> None:
    for path, body in [
        ("/track/event", {"session_id": "nope", "type": "click"}),
        ("/track/events/batch", {"session_id": "nope", "events": [{"type": "click"}]}),
        ("/track/session/end", {"session_id": "nope"}),
    ]:
        response = client.post(path, json=body)
        assert response.status_code == 404, path
        assert "Unknown session: nope" in response.json()["error"]


@pytest.mark.parametrize(
    ("content", "content_type", "fragment"),
    [
        (b'{"url": "https://e.com"}', "text/plain", "Content-Type must be application/json"),
        (b'{"url": "https://e.com"}', None, "Content-Type must be application/json (got none)"),
        (b"{not json", "application/json", "Malformed JSON"),
        (b"", "application/json", "body is empty"),
        (b"[1, 2]", "application/json", "Expected `object`, got `array`"),
        (b'{"url": 42}', "application/json", "$.url"),
        (b'{"referrer": "https://x"}', "application/json", "missing required field `url`"),
    ],
)
def test_bad_bodies_are_400_and_store_nothing(
    client: TestClient[Any], content: bytes, content_type: str | None, fragment: str
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = client.post("/track/session/start", content=content, headers=headers)
    assert response.status_code == 400
    assert fragment in response.json()["error"]
    assert app_rows(client, "SELECT count(*) FROM sessions") == [(0,)]


def test_json_content_type_with_charset_is_accepted(client: TestClient[Any]) -> None:
    response = client.post(
        "/track/session/start",
        content=b'{"url": "https://e.com"}',
        headers={"content-type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("path", "limit"),
    [("/track/session/start", 16 * 1024), ("/track/event", 16 * 1024), ("/track/events/batch", 512 * 1024)],
)
def test_oversized_bodies_are_413(client: TestClient[Any], path: str, limit: int) -> None:
    body = b'{"url": "' + b"a" * limit + b'"}'
    response = client.post(path, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert str(limit) in response.json()["error"]


def test_body_caps_follow_the_settings(make_settings: Any) -> None:
    from pulsegate.app import create_app

    app = create_app(make_settings(tracking={"max_event_bytes": 2048}))
    with TestClient(app) as small:
        body = {"url": "https://e.com/" + "a" * 3000}
        assert small.post("/track/session/start", json=body).status_code == 413


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_non_post_on_tracking_routes_is_405(client: TestClient[Any], method: str) -> None:
    response = client.request(method, "/track/event")
    assert response.status_code == 405
    assert "POST" in response.json()["error"]


def test_scheduled_checkpoints_keep_the_wal_small(make_settings: Any) -> None:
    import time

    from pulsegate.app import create_app

    settings = make_settings(storage={"checkpoint_interval_seconds": 0.2})
    with TestClient(create_app(settings)) as client:
        sid = start_session(client)["session_id"]
        client.post("/track/events/batch", json={"session_id": sid, "events": [{"type": "click"}] * 100})
        database_path = app_runtime(client).database.path
        wal = database_path.with_name(database_path.name + ".wal")
        deadline = time.monotonic() + 5
        while wal.exists() and wal.stat().st_size > 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not wal.exists() or wal.stat().st_size == 0


def test_properties_that_break_a_rule_are_dropped_counted_and_never_cost_the_event(
    client: TestClient[Any],
) -> None:
    session = start_session(client)
    props = {"plan": "pro", "nested": {"a": 1}, "long": "x" * 600, **{f"k{i}": i for i in range(35)}}
    events = [{"type": "custom", "name": "Signup", "props": props}, {"type": "custom", "name": "Plain"}]
    batch = client.post("/track/events/batch", json={"session_id": session["session_id"], "events": events})
    assert batch.status_code == 200 and batch.json()["accepted"] == 2
    ending = {
        "session_id": session["session_id"],
        "events": [{"type": "custom", "name": "Bye", "props": {"x": [1]}}],
    }
    assert client.post("/track/session/end", json=ending).status_code == 200
    stored = app_rows(client, "SELECT name, props FROM events WHERE type = 'custom' ORDER BY name")
    assert [name for name, _ in stored] == ["Bye", "Plain", "Signup"]
    kept = json.loads(stored[2][1])
    assert len(kept) == 30 and kept["plan"] == "pro" and "nested" not in kept and "long" not in kept
    assert stored[0][1] is None and stored[1][1] is None
    # Counted by reason, for `pulsegate status`.
    runtime = app_runtime(client)
    assert dict(runtime.tracking.dropped_properties) == {"bad_value": 2, "value_too_long": 1, "too_many": 6}
    assert runtime.operations.server_info().dropped_properties == {
        "bad_value": 2,
        "value_too_long": 1,
        "too_many": 6,
    }
