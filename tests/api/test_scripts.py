"""GET /tracker.js, /form.js, /pulse.js and the operator's extra names for scripts and routes."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from typing import Any

import pytest
from litestar.testing import TestClient

from pulsegate.app import create_app
from pulsegate.config import Settings, load_settings
from pulsegate.errors import ConfigError
from pulsegate.resources import shipped_file

SCRIPTS = ("/tracker.js", "/form.js", "/pulse.js")


@pytest.mark.parametrize("path", SCRIPTS)
def test_scripts_are_javascript_cached_and_gzipped_when_accepted(client: TestClient[Any], path: str) -> None:
    plain = client.get(path, headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200
    assert plain.headers["content-type"] == "text/javascript; charset=utf-8"  # RFC 9239
    assert plain.headers["cache-control"] == "public, max-age=3600"
    assert plain.headers["vary"] == "Accept-Encoding"
    assert "content-encoding" not in plain.headers
    assert plain.headers["access-control-allow-origin"] == "*"
    zipped = client.get(path, headers={"Accept-Encoding": "br, gzip;q=0.8"})
    assert zipped.headers["content-encoding"] == "gzip"
    # Each encoding is its own representation, with its own tag.
    assert zipped.headers["etag"] == plain.headers["etag"][:-1] + '-gz"'
    # httpx decodes the body for us; the bytes on the wire are smaller.
    assert zipped.content == plain.content
    assert int(zipped.headers["content-length"]) < len(plain.content) / 2
    refused = client.get(path, headers={"Accept-Encoding": "gzip;q=0, deflate"})
    assert "content-encoding" not in refused.headers


def test_a_current_copy_is_answered_with_304(client: TestClient[Any]) -> None:
    etag = client.get("/pulse.js").headers["etag"]
    for if_none_match in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        again = client.get("/pulse.js", headers={"If-None-Match": if_none_match})
        assert again.status_code == 304, if_none_match
        assert again.content == b"" and again.headers["etag"] == etag
    assert client.get("/pulse.js", headers={"If-None-Match": '"stale"'}).status_code == 200
    # The plain copy's tag does not stand for the gzipped one, nor the other way round.
    plain = client.get("/pulse.js", headers={"Accept-Encoding": "identity"}).headers["etag"]
    assert client.get("/pulse.js", headers={"If-None-Match": plain}).status_code == 200
    assert (
        client.get("/pulse.js", headers={"If-None-Match": plain, "Accept-Encoding": "identity"}).status_code
        == 304
    )
    # Each script has its own tag.
    assert len({client.get(path).headers["etag"] for path in SCRIPTS}) == 3


def test_the_served_scripts_are_minified_sources(client: TestClient[Any]) -> None:
    tracker = client.get("/tracker.js").text
    source = (shipped_file("web_assets") / "tracker.js").read_text()
    assert len(tracker) < len(source) * 0.6
    assert "/* PulseGate tracker" not in tracker  # comments go
    assert '"/track"' in tracker and "PulseGate" in tracker  # strings and globals stay
    pulse = client.get("/pulse.js").text
    assert pulse.startswith("(window.PulseGate=window.PulseGate||{}).bundled=1;")
    assert "P.init" not in tracker  # init belongs to pulse.js's glue


def test_other_methods_are_refused(client: TestClient[Any]) -> None:
    response = client.post("/pulse.js", content=b"x")
    assert response.status_code == 405
    assert "error" in response.json()


@pytest.fixture
def renamed(make_settings: Callable[..., Settings]) -> Any:
    settings = make_settings(web={"script_alias": "/js/p.js", "tracking_prefix": "/e"})
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_the_script_alias_serves_pulse_js(renamed: TestClient[Any]) -> None:
    alias = renamed.get("/js/p.js")
    assert alias.status_code == 200
    assert alias.content == renamed.get("/pulse.js").content
    assert alias.headers["etag"] == renamed.get("/pulse.js").headers["etag"]
    assert "/js/p.js" not in renamed.get("/schema/openapi.json").json()["paths"]


def test_the_tracking_prefix_takes_the_same_calls_and_the_scripts_use_it(renamed: TestClient[Any]) -> None:
    started = renamed.post("/e/session/start", json={"url": "https://site.example/"})
    assert started.status_code == 200
    session_id = started.json()["session_id"]
    assert renamed.post("/e/event", json={"session_id": session_id, "type": "click"}).status_code == 200
    batch = {"session_id": session_id, "events": [{"type": "click"}]}
    assert renamed.post("/e/events/batch", json=batch).status_code == 200
    assert (
        renamed.post("/track/events/batch", json=batch).status_code == 200
    )  # the reference path still works
    ended = renamed.post("/e/session/end", json={"session_id": session_id})
    assert ended.status_code == 200 and ended.json()["engagement_score"] is not None
    assert renamed.options("/e/event").status_code == 204
    for path in ("/tracker.js", "/pulse.js", "/js/p.js"):
        script = renamed.get(path).text
        assert '"/e"' in script and '"/track"' not in script, path


def test_the_prefix_shares_the_rate_limit_budget(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(web={"tracking_prefix": "/e"}, rate_limits={"session_start": 2})
    with TestClient(create_app(settings)) as client:
        answers = [client.post(path, json={"url": "https://s.example/"}).status_code
                   for path in ("/track/session/start", "/e/session/start", "/e/session/start")]  # fmt: skip
    assert answers == [200, 200, 429]


@pytest.mark.parametrize(
    ("web", "message"),
    [
        ({"script_alias": "/pulse.js"}, "web.script_alias: /pulse.js is already a PulseGate path"),
        ({"script_alias": "/track/x.js"}, "web.script_alias: /track/x.js is already a PulseGate path"),
        ({"script_alias": "p.js"}, "web.script_alias"),
        ({"script_alias": "/p.css"}, "web.script_alias"),
        ({"tracking_prefix": "/track"}, "web.tracking_prefix: /track overlaps a PulseGate path"),
        ({"tracking_prefix": "/analytics/x"}, "web.tracking_prefix: /analytics/x overlaps"),
        ({"tracking_prefix": "/e/"}, "web.tracking_prefix"),
        ({"tracking_prefix": "/e?x"}, "web.tracking_prefix"),
    ],
)
def test_bad_names_stop_start_up_with_the_setting_named(web: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match="Invalid setting.*" + message.replace("?", r"\?")):
        load_settings(None, environ={}, overrides={"web": web})


def test_the_demo_is_off_unless_asked_for(client: TestClient[Any]) -> None:
    assert client.get("/demo/").status_code == 404


def test_the_demo_site_is_served_with_same_origin_scripts(make_settings: Callable[..., Settings]) -> None:
    with TestClient(create_app(make_settings(web={"demo": True}))) as client:
        moved = client.get("/demo", follow_redirects=False)
        assert moved.status_code in (301, 302, 307, 308) and moved.headers["location"] == "/demo/"
        index = client.get("/demo/")
        assert index.status_code == 200 and index.headers["content-type"].startswith("text/html")
        assert '<script src="/pulse.js" data-project="demo" defer>' in index.text
        assert "{{PULSEGATE}}" not in client.get("/demo/contact.html").text
        # The commands the page suggests run as written, against the address the browser used.
        assert "{{SERVER}}" not in index.text and "keys create --name" not in index.text
        assert "pulsegate keys create demo" in index.text and ":8787" not in index.text
        assert 'curl -H "X-API-Key: KEY" http://testserver.local/analytics/realtime' in index.text
        assert client.get("/demo/demo.css").headers["content-type"].startswith("text/css")
        for path in ("/demo/nope.html", "/demo/..%2Fpyproject.toml", "/demo/%2e%2e%2fpyproject.toml"):
            missing = client.get(path)
            assert missing.status_code == 404 and "error" in missing.json(), path


def test_zipped_bodies_are_real_gzip(client: TestClient[Any]) -> None:
    raw = client.get("/form.js", headers={"Accept-Encoding": "gzip"})
    # Re-encode what httpx decoded and compare sizes: the wire size is a real gzip stream's.
    assert abs(int(raw.headers["content-length"]) - len(gzip.compress(raw.content, 9, mtime=0))) < 64
