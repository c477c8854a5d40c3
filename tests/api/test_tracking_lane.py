"""The tracking routes' POSTs skip Litestar's router and middleware: their answers must not change.

`/track/event/` (with the slash) is normalised by Litestar's router and answered by the route
inside Litestar, through its whole middleware stack and before-send hooks; `/track/event` is
answered before the router. Both use one limiter and one service, so each answer of the fast
lane is compared with the same request's answer through Litestar: status, body and headers
(the count left in the window aside: the two requests spend it in turn).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from litestar.testing import TestClient

from pulsegate.app import create_app
from pulsegate.config import Settings
from tests.helpers import break_runtime

# Headers that differ between two requests by design: the second has spent one more, and the
# seconds until the window resets tick down between them (a loaded machine crossed a second).
SPENT = {"x-ratelimit-remaining", "x-ratelimit-reset", "content-length", "date"}


def _answer(response: Any) -> tuple[int, bytes, dict[str, str]]:
    headers = {name.lower(): value for name, value in response.headers.items() if name.lower() not in SPENT}
    return response.status_code, response.content, headers


def _both(client: TestClient[Any], path: str, **request: Any) -> tuple[Any, Any]:
    return client.post(path, **request), client.post(path + "/", **request)


@pytest.fixture
def lane_client(make_settings: Callable[..., Settings]) -> Any:
    with TestClient(create_app(make_settings(tracking={"max_event_bytes": 2048}))) as test_client:
        yield test_client


def _started(client: TestClient[Any]) -> str:
    return client.post("/track/session/start", json={"url": "https://e.com/"}).json()["session_id"]


@pytest.mark.parametrize(
    ("path", "request_of"),
    [
        ("/track/event", lambda sid: {"json": {"session_id": sid, "type": "click", "name": "a"}}),
        ("/track/event", lambda sid: {"json": {"session_id": "nope", "type": "click"}}),
        (
            "/track/event",
            lambda sid: {"content": b"{not json", "headers": {"content-type": "application/json"}},
        ),
        ("/track/event", lambda sid: {"content": b"{}", "headers": {"content-type": "text/plain"}}),
        ("/track/event", lambda sid: {"json": {"session_id": sid, "type": "click", "name": "x" * 4000}}),
        ("/track/events/batch", lambda sid: {"json": {"session_id": sid, "events": [{"type": "t"}] * 101}}),
        ("/track/session/end", lambda sid: {"json": {"session_id": sid, "engaged_ms": -1}}),
    ],
    ids=["stored", "unknown-session", "malformed", "content-type", "too-large", "batch-too-long", "bad-end"],
)
def test_the_lane_answers_as_litestar_does(lane_client: TestClient[Any], path: str, request_of: Any) -> None:
    fast, through_litestar = _both(lane_client, path, **request_of(_started(lane_client)))
    fast_answer, litestar_answer = _answer(fast), _answer(through_litestar)
    if fast.status_code == 200:  # two receipts: the same but for when each was received
        assert fast.json().keys() == through_litestar.json().keys()
        fast_answer, litestar_answer = fast_answer[::2], litestar_answer[::2]
    assert fast_answer == litestar_answer
    assert "x-ratelimit-remaining" in fast.headers and fast.headers["access-control-allow-origin"] == "*"


def test_a_refusal_for_too_many_requests_is_the_same(make_settings: Callable[..., Settings]) -> None:
    with TestClient(create_app(make_settings(rate_limits={"event": 2}))) as client:
        sid = _started(client)
        event = {"json": {"session_id": sid, "type": "click"}}
        spent = [client.post("/track/event", **event).status_code for _ in range(2)]
        fast, through_litestar = _both(client, "/track/event", **event)
    assert spent == [200, 200]
    assert fast.status_code == through_litestar.status_code == 429
    assert _answer(fast)[2] == _answer(through_litestar)[2]
    assert fast.json()["error"].startswith("Too many requests to /track/event: at most 2 per 60 s")
    assert fast.headers["retry-after"] == fast.headers["x-ratelimit-reset"]


def test_an_unexpected_error_is_the_same_500(lane_client: TestClient[Any]) -> None:
    break_runtime(lane_client, tracking=None)
    fast, through_litestar = _both(lane_client, "/track/session/start", json={"url": "https://e.com/"})
    assert _answer(fast) == _answer(through_litestar)
    assert fast.status_code == 500 and fast.json() == {"error": "Internal server error"}
