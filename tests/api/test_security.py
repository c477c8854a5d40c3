"""Hostile requests: injection in every query parameter and header, traversal, other projects, key checks."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from pulsegate.app import create_app
from pulsegate.config import Settings, load_settings
from pulsegate.domain import api_keys
from tests.api import analytics_fixture as fx
from tests.helpers import app_cursor, app_rows, new_api_key

INJECTIONS = [
    "' OR '1'='1",
    "'; DROP TABLE leads; --",
    "acme' UNION SELECT secret_hash, NULL FROM api_keys --",
    '" OR ""="',
    "1; SELECT * FROM api_keys",
    "%' OR 1=1 --",
    "\x00",
    "../../etc/passwd",
    "${jndi:ldap://x}",
    "' || (SELECT version()) || '",
]
# Every query parameter the analytics routes read.
PARAMETERS = {
    "overview": ["from", "to", "period", "tz", "project"],
    "sessions/daily": ["from", "to", "period", "tz", "project"],
    "timeseries": ["from", "to", "period", "tz", "project", "interval"],
    "pages/top": ["from", "period", "project", "limit", "page"],
    "geo": ["project", "limit", "page"],
    "engagement": ["period", "project"],
    "sources": ["project", "limit", "page"],
    "realtime": ["project"],
    "leads": ["project", "source", "status", "q", "from", "to", "period", "limit", "page", "page_size"],
    "leads/projects": ["project"],
    "leads/sources": ["project"],
    "anomalies": ["window", "sensitivity", "project"],
}


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[TestClient[Any], Settings, fx.Fixture]]:
    database = tmp_path_factory.mktemp("security") / "s.duckdb"
    settings = load_settings(None, environ={}, overrides={"storage": {"database": str(database)}})
    data = fx.build()
    with TestClient(create_app(settings)) as client:
        with app_cursor(client) as cursor:
            fx.insert(cursor, data)
        yield client, settings, data


def key_for(settings: Settings, *projects: str) -> str:
    return new_api_key(settings, *projects, name="t")


def row_counts(client: TestClient[Any]) -> dict[str, int]:
    with app_cursor(client) as cursor:
        return {table: cursor.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for table in ("sessions", "events", "leads", "api_keys")}  # fmt: skip


@pytest.mark.parametrize("route", sorted(PARAMETERS))
def test_injection_in_every_query_parameter_is_refused_or_harmless(served: tuple, route: str) -> None:
    client, settings, _ = served
    key = key_for(settings)
    before = row_counts(client)
    hashes = [stored for (stored,) in app_rows(client, "SELECT secret_hash FROM api_keys")]
    plain = client.get(f"/analytics/{route}", headers={"X-API-Key": key})
    assert plain.status_code == 200
    for parameter in PARAMETERS[route]:
        for attempt in INJECTIONS:
            response = client.get(
                f"/analytics/{route}", params={parameter: attempt}, headers={"X-API-Key": key}
            )
            assert response.status_code in (200, 400, 404), (parameter, attempt, response.text)
            if response.status_code != 200:
                assert list(response.json()) == ["error"]
            # Nothing leaks: no stored key hash, no SQL engine message (a refusal may quote the input).
            assert not any(stored in response.text for stored in hashes)
            assert "duckdb" not in response.text.lower() and "Catalog Error" not in response.text
            assert "Binder Error" not in response.text and "Parser Error" not in response.text
            if response.status_code == 200 and parameter in ("q", "source"):
                assert response.json()["total"] == 0  # matched as text: nothing contains these strings
    assert row_counts(client) == {**before, "api_keys": before["api_keys"]}


def test_text_search_treats_wildcards_as_text(served: tuple) -> None:
    client, settings, _ = served
    key = key_for(settings)
    for text in ("%", "_", "%%", "' OR ''='"):
        response = client.get("/analytics/leads", params={"q": text}, headers={"X-API-Key": key})
        assert response.status_code == 200 and response.json()["total"] == 0, text


def test_header_values_are_never_reflected(served: tuple) -> None:
    client, _, _ = served
    hostile = {
        "X-Visitor-ID": "x" * 5000,
        "X-Fingerprint-ID": "<script>alert(1)</script>",
        "Origin": "https://evil.example",
        "X-Forwarded-For": "1.2.3.4, <script>",
        "User-Agent": "() { :; }; echo vulnerable",
        "Referer": "javascript:alert(1)",
    }
    response = client.post("/track/session/start", json={"url": "https://site.example/"}, headers=hostile)
    assert response.status_code == 200
    for value in hostile.values():
        assert value not in response.text
        assert all(value not in header for header in response.headers.values())
    assert response.headers["access-control-allow-origin"] == "*"  # never the caller's Origin echoed


@pytest.mark.parametrize(
    "path",
    [
        "/dashboard/..%2F..%2Fpyproject.toml",
        "/dashboard/%2e%2e/%2e%2e/pyproject.toml",
        "/dashboard/....//....//etc/passwd",
        "/demo/..%2Fpyproject.toml",
        "/tracker.js/../pyproject.toml",
        "/pulse.js%00.html",
        "//etc/passwd",
        "/web_assets/tracker.js",
        "/dashboard/%5c..%5cpyproject.toml",
    ],
)
def test_path_traversal_on_asset_routes_finds_nothing(client: TestClient[Any], path: str) -> None:
    response = client.get(path)
    assert response.status_code in (404, 405), path
    assert "[project]" not in response.text and "root:" not in response.text


def test_a_scoped_key_learns_nothing_about_other_projects(served: tuple) -> None:
    client, settings, data = served
    acme = key_for(settings, "acme")
    for route in PARAMETERS:
        response = client.get(
            f"/analytics/{route}", params={"project": "globex"}, headers={"X-API-Key": acme}
        )
        assert response.status_code == 404, route
        assert response.json() == {"error": "project: no project 'globex' for this API key"}
    # The same answer as for a project that does not exist at all.
    missing = client.get("/analytics/overview", params={"project": "nope"}, headers={"X-API-Key": acme})
    assert missing.json() == {"error": "project: no project 'nope' for this API key"}
    globex_lead = next(lead for lead in data.leads if lead.project == "globex")
    detail = client.get(f"/analytics/leads/{globex_lead.lead_id}", headers={"X-API-Key": acme})
    unknown = client.get("/analytics/leads/00000000-0000-0000-0000-000000000000", headers={"X-API-Key": acme})
    assert detail.status_code == unknown.status_code == 404
    listed = client.get("/analytics/leads", params={"limit": 1000}, headers={"X-API-Key": acme}).json()
    assert {lead["project"] for lead in listed["leads"]} == {"acme"}


def test_keys_are_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    compared: list[tuple[str, str]] = []
    real_compare = hmac.compare_digest

    def spy(a: str, b: str) -> bool:
        compared.append((a, b))
        return real_compare(a, b)

    monkeypatch.setattr(api_keys.hmac, "compare_digest", spy)
    secret = api_keys.new_secret()
    key = api_keys.ApiKey(key_id="k", name="n", prefix=secret[:12], secret_hash=api_keys.hash_secret(secret),
                          projects=(), revoked=False)  # fmt: skip
    ring = api_keys.KeyRing([key])
    assert ring.authenticate(secret) == key
    assert compared == [(key.secret_hash, api_keys.hash_secret(secret))]
    assert ring.authenticate(secret[:-1] + ("A" if secret[-1] != "A" else "B")) is None


def test_no_client_address_is_written_to_the_database_file(tmp_path: Path) -> None:
    settings = load_settings(
        None, environ={}, overrides={"storage": {"database": str(tmp_path / "p.duckdb")}}
    )
    addresses = ["203.0.113.77", "198.51.100.201", "2001:db8:85a3::8a2e:370:7334"]
    with TestClient(create_app(settings)) as client:
        for address in addresses:
            started = client.post("/track/session/start", json={"url": "https://site.example/"},
                                  headers={"X-Forwarded-For": address})  # fmt: skip
            assert started.status_code == 200
            session_id = started.json()["session_id"]
            client.post(
                "/track/event",
                json={"session_id": session_id, "type": "click"},
                headers={"X-Forwarded-For": address},
            )
            client.post("/lead.capture", json={"submission_id": f"sub-{address.replace(':', '')}-x", "email": "a@b.example",
                                               "session_id": session_id}, headers={"X-Forwarded-For": address})  # fmt: skip
    on_disk = b"".join(path.read_bytes() for path in tmp_path.glob("p.duckdb*") if path.is_file())
    assert on_disk  # the file was written
    for address in addresses:
        assert address.encode() not in on_disk, address
