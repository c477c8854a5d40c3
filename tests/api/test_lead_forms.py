"""Leads from plain HTML forms (urlencoded and multipart), without a submission_id, and the
deprecated aliases' headers on every answer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from pulsegate.app import create_app
from tests.engines import make_settings_on_both_engines  # noqa: F401  (the fixture)
from tests.helpers import app_rows

PAGE = "https://acme.example/contact?utm_source=newsletter&utm_campaign=spring&gclid=G1"
BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8", "Referer": PAGE}
FORM = {"name": "Ann Lee", "email": "Ann@Example.com", "phone": "", "plan": "pro", "website": "",
        "elapsed_ms": "9000"}  # fmt: skip


@pytest.fixture
def client(make_settings: Any) -> Iterator[TestClient[Any]]:
    settings = make_settings(
        leads={"redirect_origins": ["https://acme.example"]}, rate_limits={"enabled": False}
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def leads(client: TestClient[Any]) -> list[tuple[Any, ...]]:
    return app_rows(
        client, "SELECT email, name, fields, page_url, status, utm_campaign FROM leads ORDER BY created_at"
    )


def test_an_urlencoded_form_is_a_lead_and_a_thank_you_page(client: TestClient[Any]) -> None:
    answer = client.post("/lead.capture", data={**FORM, "interest": ["demo", "pricing"]}, headers=BROWSER)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
    assert "Thank you" in answer.text and 'href="https://acme.example/contact?' in answer.text
    assert "default-src 'none'" in answer.headers["content-security-policy"]
    assert leads(client) == [("ann@example.com", "Ann Lee", '{"plan":"pro","interest":"demo, pricing"}', PAGE,
                              "new", None)]  # fmt: skip
    # The page the form was on (its Referer) is the lead's touch when no session is known.
    touch = "touch_list[first_touch]"
    assert app_rows(client, f"SELECT {touch}.source, {touch}.utm_campaign, {touch}.landing_page, "
                            f"{touch}.click_ids, touches, last_touch FROM lead_attribution") == [
        ("newsletter", "spring", "/contact", '{"gclid":"G1"}', 1, 1)
    ]  # fmt: skip


def test_a_multipart_form_maps_the_same_and_skips_files(client: TestClient[Any]) -> None:
    files = {"email": (None, "mp@example.com"), "company": (None, "Acme"), "team": (None, "5"),
             "cv": ("cv.pdf", b"%PDF-1.4", "application/pdf")}  # fmt: skip
    answer = client.post("/lead.capture", files=files, headers=BROWSER)
    assert answer.status_code == 200, answer.text
    assert app_rows(client, "SELECT email, company, fields FROM leads") == [
        ("mp@example.com", "Acme", '{"team":"5"}')
    ]


def test_the_honeypot_is_honoured(client: TestClient[Any]) -> None:
    answer = client.post("/lead.capture", data={**FORM, "website": "http://spam.example"}, headers=BROWSER)
    assert answer.status_code == 200 and "Thank you" in answer.text  # answered like any other
    assert [row[4] for row in leads(client)] == ["spam"]


def test_redirect_only_to_an_allowed_origin(client: TestClient[Any]) -> None:
    sent = client.post("/lead.capture", data={**FORM, "redirect": "https://acme.example/thanks?x=1"},
                       headers=BROWSER, follow_redirects=False)  # fmt: skip
    assert sent.status_code == 303 and sent.headers["location"] == "https://acme.example/thanks?x=1"
    for elsewhere in ("https://evil.example/thanks", "https://acme.example.evil.example/", "javascript:alert(1)",
                      "http://acme.example/thanks", "https://acme.example:8443/x", "//evil.example/"):  # fmt: skip
        kept = client.post("/lead.capture", data={**FORM, "name": elsewhere, "redirect": elsewhere},
                           headers=BROWSER, follow_redirects=False)  # fmt: skip
        assert kept.status_code == 200 and "location" not in kept.headers, elsewhere
        assert "Thank you" in kept.text


def test_a_mistake_is_a_page_for_a_browser_and_json_for_a_script(client: TestClient[Any]) -> None:
    bad = {**FORM, "email": "ann@", "name": "<script>alert(1)</script>"}
    page = client.post("/lead.capture", data=bad, headers=BROWSER)
    assert page.status_code == 400 and page.headers["content-type"].startswith("text/html")
    assert "email: not a valid address" in page.text and "<script>alert" not in page.text
    script = client.post("/lead.capture", data=bad)
    assert script.status_code == 400 and script.json()["error"].startswith("email: not a valid address")
    for body, named in (
        ({**FORM, "elapsed_ms": "soon"}, "elapsed_ms"),
        ({**FORM, "name": "x" * 300}, "name"),
    ):
        refused = client.post("/lead.capture", data=body)
        assert refused.status_code == 400 and named in refused.json()["error"], refused.text
    broken = client.post("/lead.capture", content=b"--zz\r\nnot a part", headers={
        "Content-Type": "multipart/form-data; boundary=zz"})  # fmt: skip
    assert broken.status_code == 400 and "multipart" in broken.json()["error"]
    assert leads(client) == []


def test_a_form_sent_twice_is_one_lead(client: TestClient[Any]) -> None:
    first = client.post("/lead.capture", data=FORM, headers=BROWSER)
    again = client.post("/lead.capture", data={**FORM, "elapsed_ms": "15000"}, headers=BROWSER)
    assert first.status_code == again.status_code == 200
    assert len(leads(client)) == 1
    json_twice = [client.post("/lead.capture", json={"email": "j@example.com"}).json() for _ in range(2)]
    assert json_twice[0] == json_twice[1] and json_twice[0]["submission_id"].startswith("auto-")
    assert len(leads(client)) == 2


@pytest.mark.parametrize("path", ["/lead", "/"])
def test_deprecated_aliases_take_legacy_bodies_and_say_so_on_every_answer(
    client: TestClient[Any], path: str
) -> None:
    legacy = client.post(path, json={"name": "Old Form", "email": "old@example.com"})
    assert legacy.status_code == 200 and legacy.json()["submission_id"].startswith("auto-")
    refused = client.post(path, json={"name": "Old Form", "email": "old@"})
    malformed = client.post(path, content=b"{", headers={"Content-Type": "application/json"})
    for answer in (legacy, refused, malformed):
        assert answer.headers["deprecation"] == "true", answer.status_code
        assert answer.headers["sunset"] == "Mon, 01 Jun 2026 00:00:00 GMT"
        assert answer.headers["link"] == '</lead.capture>; rel="successor-version"'
    assert refused.status_code == malformed.status_code == 400
    assert "deprecation" not in client.post("/lead.capture", json={"email": "new@example.com"}).headers


def test_deprecated_aliases_say_so_on_a_429(make_settings: Any) -> None:
    with TestClient(create_app(make_settings(leads={"rate_limit": 1}))) as limited:
        limited.post("/lead", json={"email": "a@example.com"})
        answer = limited.post("/lead", json={"email": "b@example.com"})
        assert answer.status_code == 429 and answer.headers["deprecation"] == "true"
