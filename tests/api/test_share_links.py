"""Share links' API: the link's project only, the report routes only, tokens and passwords kept
hashed, the cookie's flags, expiry, and what framing each view allows."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from pulsegate.app import create_app
from pulsegate.config import Settings
from pulsegate.domain.shares import COOKIE_NAME, hash_password
from pulsegate.errors import PulseGateError
from pulsegate.ops import shares
from pulsegate.ops.runner import run_operation
from tests.api import analytics_fixture as fx
from tests.helpers import app_cursor, engine_settings, served_key

WINDOW = {"from": "2026-03-03", "to": "2026-03-07", "tz": "UTC"}
GONE = {"error": "Share link not found: it may have been revoked or have expired"}
# Every report the dashboard asks a share link for, with the parameters it sends.
ROUTES = [
    ("overview", {"compare": "previous"}),
    ("sessions/daily", {}),
    ("timeseries", {"metrics": "visitors,leads", "interval": "day"}),
    ("breakdown", {"dimension": "country", "metrics": "sessions,visitors,leads,conversion_rate"}),
    ("breakdown", {"dimension": "page", "metrics": "pageviews,visitors"}),
    ("attribution", {"model": "first", "dimension": "source"}),
    ("forms", {}),
    ("goals", {"compare": "previous"}),
    ("funnels", {}),
    ("pages/top", {}),
    ("geo", {}),
    ("engagement", {}),
    ("sources", {}),
]


@pytest.fixture(scope="module", params=["duckdb", "clickhouse"])
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient[Any], Settings]]:
    settings = engine_settings(tmp_path_factory.mktemp("shares"), request.param, rollup_interval_seconds=0)
    with TestClient(create_app(settings)) as client:
        with app_cursor(client) as cursor:
            fx.insert(cursor, fx.build())
        yield client, settings


def create(settings: Settings, **args: Any) -> shares.CreatedShare:
    return run_operation(
        settings, shares.CREATE, shares.CreateShare(project=args.pop("project", "acme"), **args)
    )


@pytest.mark.parametrize(
    ("route", "params"), ROUTES, ids=[f"{r}-{p.get('dimension', '')}" for r, p in ROUTES]
)
def test_each_report_is_the_key_s_answer_for_the_link_s_project(
    served: tuple[TestClient[Any], Settings], route: str, params: dict[str, str]
) -> None:
    client, settings = served
    link = create(settings)
    key = served_key(client)
    shared = client.get(f"{link.path}/api/analytics/{route}", params={**WINDOW, **params})
    keyed = client.get(f"/analytics/{route}", params={**WINDOW, **params, "project": "acme"},
                       headers={"X-API-Key": key})  # fmt: skip
    everything = client.get(f"/analytics/{route}", params={**WINDOW, **params}, headers={"X-API-Key": key})
    assert shared.status_code == 200, shared.text
    expected = keyed.json()
    if route == "forms":  # a share link shows the forms the tracker saw, not labels only leads carry
        tracked = [row for row in expected["rows"] if row["views"] or row["starts"] or row["submits"]]
        expected = {**expected, "rows": tracked, "total_rows": len(tracked)}
    assert shared.json() == expected
    assert shared.headers["cache-control"] == "no-store"
    # The same with the link's project named, and 404 (as for a missing one) with another.
    named = client.get(f"{link.path}/api/analytics/{route}", params={**WINDOW, **params, "project": "acme"})
    assert named.json() == expected
    other = client.get(f"{link.path}/api/analytics/{route}", params={**WINDOW, **params, "project": "globex"})
    assert other.status_code == 404 and other.json() == {
        "error": "project: no project 'globex' for this share link"
    }
    if route in ("overview", "geo", "sources"):  # the fixture's other project counts here: the check is real
        assert everything.json() != keyed.json()


def test_the_live_panels_and_the_project_list_name_only_the_link_s_project(
    served: tuple[TestClient[Any], Settings],
) -> None:
    client, settings = served
    link = create(settings)
    base = f"{link.path}/api/analytics"
    assert client.get(f"{base}/projects").json() == {"values": ["acme"], "all_projects": False}
    for route in ("realtime", "anomalies"):
        assert client.get(f"{base}/{route}").status_code == 200, route
        assert client.get(f"{base}/{route}", params={"project": "globex"}).status_code == 404, route


def test_leads_storage_and_everything_else_are_refused(served: tuple[TestClient[Any], Settings]) -> None:
    client, settings = served
    link = create(settings)
    with app_cursor(client) as cursor:
        (lead_id,) = cursor.execute("SELECT lead_id FROM leads WHERE project = 'acme' LIMIT 1").fetchone()
    base = f"{link.path}/api/analytics"
    for route in ("storage", "leads", f"leads/{lead_id}", "leads/sources", "leads/export", "../../dashboard"):
        response = client.get(f"{base}/{route}", params=WINDOW)
        assert response.status_code == 404 and "error" in response.json(), route
    assert client.post(f"{base}/overview").status_code == 405
    # Unknown, malformed and revoked tokens: the one answer, page and API alike.
    run_operation(settings, shares.REVOKE, shares.RevokeShare(share_id=link.share.share_id))
    for token in (link.token, "A" * 43, "short", link.token[:-1] + ("A" if link.token[-1] != "A" else "B")):
        assert client.get(f"/share/{token}/api/analytics/overview").json() == GONE
        page = client.get(f"/share/{token}")
        assert page.status_code == 404 and "This link does not work" in page.text
        assert page.headers["x-frame-options"] == "DENY"


def test_tokens_and_passwords_are_stored_hashed(served: tuple[TestClient[Any], Settings]) -> None:
    client, settings = served
    link = create(settings, password_hash=hash_password("open sesame"), name="board")
    assert len(link.token) == 43 and link.path == f"/share/{link.token}"  # 256 bits, URL-safe
    with app_cursor(client) as cursor:
        stored = cursor.execute(
            "SELECT token_hash, password_hash FROM share_links WHERE share_id = ?", [link.share.share_id]
        ).fetchone()
        text = str(cursor.execute("SELECT * FROM share_links").fetchall())
    assert stored[0] == hashlib.sha256(link.token.encode()).hexdigest()
    assert stored[1].startswith("scrypt$16384$8$1$")
    assert link.token not in text and "open sesame" not in text


def test_a_password_link_needs_its_cookie_and_only_its_own(served: tuple[TestClient[Any], Settings]) -> None:
    client, settings = served
    first = create(settings, password_hash=hash_password("open sesame"))
    second = create(settings, password_hash=hash_password("open sesame"))
    overview = f"{first.path}/api/analytics/overview"
    assert client.get(overview).json() == {
        "error": "This share link has a password: open the link to give it"
    }
    assert client.get(overview).status_code == 401
    form = client.get(first.path)
    assert form.status_code == 200 and 'type="password"' in form.text and "acme" not in form.text
    assert client.post(first.path, data={"password": "open sesam"}, follow_redirects=False).status_code == 401
    given = client.post(first.path, data={"password": "open sesame"}, follow_redirects=False)
    assert given.status_code == 303 and given.headers["location"] == first.path
    cookie = given.cookies[COOKIE_NAME]
    client.cookies.clear()
    assert client.get(overview, cookies={COOKIE_NAME: cookie}).status_code == 200
    # Not another link's (same password), not altered, not without its time.
    elsewhere = f"{second.path}/api/analytics/overview"
    assert client.get(elsewhere, cookies={COOKIE_NAME: cookie}).status_code == 401
    issued, mac = cookie.split(".")
    other_digit = "1" if mac[-1] == "0" else "0"  # a changed last digit, whatever it was
    for forged in (f"{int(issued) + 1}.{mac}", f"{issued}.{mac[:-1]}{other_digit}", mac, ""):
        assert client.get(overview, cookies={COOKIE_NAME: forged}).status_code == 401, forged
    client.cookies.clear()


def test_the_cookie_is_secure_only_over_https(make_settings: Any, database_path: Path) -> None:
    with TestClient(create_app(make_settings())) as plain:
        link = create(plain.app.state["runtime"].settings, password_hash=hash_password("open sesame"))
        answer = plain.post(link.path, data={"password": "open sesame"}, follow_redirects=False)
        flags = {part.strip().lower() for part in answer.headers["set-cookie"].split(";")}
        assert {"httponly", "samesite=strict", f"path={link.path.lower()}"} <= flags and "secure" not in flags
        # The test client is no trusted proxy: its X-Forwarded-Proto is not believed.
        claimed = plain.post(link.path, data={"password": "open sesame"}, headers={"X-Forwarded-Proto": "https"},
                             follow_redirects=False)  # fmt: skip
        assert "secure" not in claimed.headers["set-cookie"].lower()
    with TestClient(create_app(make_settings()), base_url="https://testserver") as tls:
        answer = tls.post(link.path, data={"password": "open sesame"}, follow_redirects=False)
        assert "secure" in {part.strip().lower() for part in answer.headers["set-cookie"].split(";")}


def test_an_expired_link_is_gone(
    served: tuple[TestClient[Any], Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, settings = served
    link = create(settings, expires="2h")
    overview = f"{link.path}/api/analytics/overview"
    assert client.get(overview).status_code == 200
    import pulsegate.services.shares as service

    now = service.now_ms()
    monkeypatch.setattr(service, "now_ms", lambda: now + 2 * 3_600_000 + 1)
    assert client.get(overview).json() == GONE
    assert client.get(link.path).status_code == 404
    listed = {info.share_id: info for info in run_operation(settings, shares.LIST, shares.NoArguments())}
    assert listed[link.share.share_id].expires_ms == link.share.created_ms + 2 * 3_600_000


def test_only_the_embed_view_may_be_framed_and_only_by_the_link_s_origins(
    served: tuple[TestClient[Any], Settings],
) -> None:
    client, settings = served
    framed = create(settings, embed_origins=["https://wiki.example.com/", "https://*.intranet.example"])
    assert framed.share.embed_origins == ["https://wiki.example.com", "https://*.intranet.example"]
    unframed = create(settings)
    embed = client.get(framed.path, params={"embed": "1"})
    policy = embed.headers["content-security-policy"]
    assert policy.endswith("; frame-ancestors https://wiki.example.com https://*.intranet.example")
    assert "script-src 'self'" in policy and "x-frame-options" not in embed.headers
    assert '<meta name="pulsegate-share" content="acme" data-embed="1">' in embed.text
    for response in (client.get(framed.path), client.get(unframed.path, params={"embed": "1"})):
        assert response.headers["content-security-policy"].endswith("frame-ancestors 'none'")
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
    assert '<meta name="pulsegate-share" content="acme">' in client.get(unframed.path).text


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ({"project": "Not A Project"}, "--project: "),
        ({"expires": "soon"}, "--expires: a number and m, h, d or w"),
        ({"expires": "0d"}, "--expires: at least 1m"),
        ({"embed_origins": ["https://x.example; script-src *"]}, "--embed-origin: a page's origin"),
        ({"embed_origins": ["wiki.example.com"]}, "--embed-origin: a page's origin"),
        ({"password_hash": "hunter2"}, "password_hash: not a scrypt hash"),
        ({"name": "two\nlines"}, "--name: at most 100 characters on one line"),
    ],
)
def test_bad_input_is_refused_with_its_reason(
    served: tuple[TestClient[Any], Settings], args: dict[str, Any], error: str
) -> None:
    _, settings = served
    with pytest.raises(PulseGateError) as refused:  # rebuilt from the server's answer, with its exit code
        create(settings, **args)
    assert refused.value.message.startswith(error), refused.value.message
    assert refused.value.exit_code == 2


def test_text_a_lead_s_sender_typed_never_reaches_a_share_link(
    served: tuple[TestClient[Any], Settings],
) -> None:
    """A lead's `source` is whatever its sender put there: the forms report of a key lists it, a
    share link's lists only the forms the tracker saw on the site."""
    client, settings = served
    typed = "Callback for Jane Doe jane.doe@corp.example"
    with app_cursor(client) as cursor:
        cursor.execute(
            "INSERT INTO leads (lead_id, submission_id, created_at, project, source, is_spam) "
            "VALUES ('typed-lead', 'typed-lead', ?, 'acme', ?, false)", ["2026-03-04 10:00:00", typed],
        )  # fmt: skip
    key = served_key(client)
    keyed = client.get("/analytics/forms", params={**WINDOW, "project": "acme"}, headers={"X-API-Key": key})
    assert typed in keyed.text  # the check below is real
    link = create(settings)
    for params in ({}, {"form": typed, "dimension": "country"}, {"limit": "1000"}):
        shared = client.get(f"{link.path}/api/analytics/forms", params={**WINDOW, **params})
        assert (shared.status_code == 200 and "jane.doe" not in shared.text.replace(typed, "")) or params
        assert all(row["value"] != typed for row in shared.json()["rows"])


def test_odd_cookies_and_origins_are_refused_not_errors(served: tuple[TestClient[Any], Settings]) -> None:
    client, settings = served
    link = create(settings, password_hash=hash_password("correct horse"))
    for value in (b"\xb2.x", b"12.", b"abc.def", b"9" * 40 + b".x"):  # \xb2 is "²" as the wire carries it
        cookie = COOKIE_NAME.encode() + b"=" + value
        answer = client.get(f"{link.path}/api/analytics/overview", params=WINDOW, headers={"Cookie": cookie})
        assert answer.status_code == 401, (value, answer.text)
    for origin in ("https://evil.example\n/", "https://*.com"):
        with pytest.raises(PulseGateError, match="--embed-origin"):
            create(settings, embed_origins=[origin])
