"""The leads API: listing with filters and paging, one lead with its timeline, distinct values."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from pulsegate.app import create_app
from pulsegate.domain.timestamps import now_ms
from tests.helpers import app_runtime, new_api_key

FIREFOX = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:132.0) Gecko/20100101 Firefox/132.0"
PEOPLE = [  # (name, email, company, project, source)
    ("Ann Lee", "ann@acme.test", "Acme", "acme", "pricing-form"),
    ("Bob Ray", "bob@globex.test", "Globex", "globex", "contact-form"),
    ("Cy Twombly", "cy@acme.test", "Acme 100% Labs", "acme", "contact-form"),
    ("Di Prince", "di@initech.test", None, "acme", "pricing-form"),
    ("Ed Nash", "ed@globex.test", "Globex", "globex", "pricing-form"),
]


@pytest.fixture
def leads_client(make_settings: Any) -> Iterator[tuple[TestClient[Any], Any, list[dict]]]:
    settings = make_settings(rate_limits={"enabled": False})
    with TestClient(create_app(settings)) as client:
        captured = []
        for n, (name, email, company, project, source) in enumerate(PEOPLE):
            captured.append(
                client.post(
                    "/lead.capture",
                    json={"submission_id": f"sub-{n:06d}", "name": name, "email": email, "company": company,
                          "project": project, "source": source, "elapsed_ms": 5000},
                ).json()
            )  # fmt: skip
        client.post(
            "/lead.capture", json={"submission_id": "spam-00001", "email": "x@spam.test", "website": "y"}
        )
        yield client, settings, captured


def key(settings: Any, *projects: str) -> dict[str, str]:
    secret = new_api_key(settings, *projects, name="t")
    return {"Authorization": f"Bearer {secret}"}


def test_list_newest_first_with_total_and_pages(leads_client: tuple) -> None:
    client, settings, _ = leads_client
    auth = key(settings)
    everything = client.get("/analytics/leads", params={"limit": "100"}, headers=auth).json()
    assert everything["total"] == len(PEOPLE) + 1  # spam is listed too, with its status
    order = [(lead["created_at"], lead["lead_id"]) for lead in everything["leads"]]
    assert order == sorted(order, reverse=True)
    assert everything["leads"][0]["email"] == "x@spam.test" and everything["leads"][0]["status"] == "spam"
    first = client.get("/analytics/leads", params={"limit": "2"}, headers=auth).json()
    second = client.get("/analytics/leads", params={"limit": "2", "page": "2"}, headers=auth).json()
    assert first["leads"] + second["leads"] == everything["leads"][:4]
    assert first["total"] == second["total"] == everything["total"]


@pytest.mark.parametrize(
    ("params", "emails"),
    [
        ({"project": "globex"}, {"bob@globex.test", "ed@globex.test"}),
        ({"source": "contact-form"}, {"bob@globex.test", "cy@acme.test"}),
        ({"status": "spam"}, {"x@spam.test"}),
        ({"status": "new", "q": "ACME"}, {"ann@acme.test", "cy@acme.test"}),
        ({"q": "100%"}, {"cy@acme.test"}),  # % is a character to find, not a wildcard
        ({"q": "_"}, set()),
        ({"from": "2000-01-01", "to": "2000-01-31"}, set()),
    ],
)
def test_filters(leads_client: tuple, params: dict[str, str], emails: set[str]) -> None:
    client, settings, _ = leads_client
    body = client.get("/analytics/leads", params={**params, "limit": "100"}, headers=key(settings)).json()
    assert {lead["email"] for lead in body["leads"]} == emails
    assert body["total"] == len(emails)


def test_scoped_key_sees_only_its_projects_leads(leads_client: tuple) -> None:
    client, settings, captured = leads_client
    acme = key(settings, "acme")
    listed = client.get("/analytics/leads", params={"limit": "100"}, headers=acme).json()
    assert {lead["project"] for lead in listed["leads"]} == {"acme"}
    globex_lead = captured[1]["lead_id"]
    assert client.get(f"/analytics/leads/{globex_lead}", headers=acme).status_code == 404
    projects = client.get("/analytics/leads/projects", headers=acme).json()
    assert projects == {"values": ["acme"]}
    assert client.get("/analytics/leads/projects", headers=key(settings)).json() == {
        "values": ["acme", "globex"]
    }
    assert client.get("/analytics/leads/sources", headers=acme).json() == {
        "values": ["contact-form", "pricing-form"]
    }


def test_bad_filters_are_400(leads_client: tuple) -> None:
    client, settings, _ = leads_client
    response = client.get("/analytics/leads", params={"status": "won"}, headers=key(settings))
    assert response.status_code == 400 and response.json()["error"].startswith("status:")


def test_detail_shows_the_visitors_path_to_the_lead(make_settings: Any) -> None:
    with TestClient(create_app(make_settings())) as client:
        headers = {"User-Agent": FIREFOX, "X-Visitor-ID": "visitor-1"}
        first = client.post(
            "/track/session/start", json={"url": "https://shop.example/blog", "referrer": "https://www.google.com/"},
            headers=headers,
        ).json()  # fmt: skip
        client.post("/track/session/end", json={"session_id": first["session_id"]})
        second = client.post(
            "/track/session/start", json={"url": "https://shop.example/pricing"}, headers=headers
        ).json()
        sid = second["session_id"]
        client.post(
            "/track/events/batch",
            json={"session_id": sid, "events": [
                {"type": "scroll", "props": {"depth": 80}}, {"type": "click", "name": "see-plans"},
                {"type": "form_start", "name": "contact"}, {"type": "form_submit", "name": "contact"},
            ]},
        )  # fmt: skip
        lead = client.post(
            "/lead.capture",
            json={
                "submission_id": "sub-000777",
                "email": "zoe@example.com",
                "session_id": sid,
                "elapsed_ms": 9000,
            },
        ).json()
        client.post("/track/event", json={"session_id": sid, "type": "click", "name": "after-the-lead"})
        detail = client.get(
            f"/analytics/leads/{lead['lead_id']}", headers=key(app_runtime(client).settings)
        ).json()
    assert detail["lead"]["email"] == "zoe@example.com" and detail["lead"]["traffic_source"] == "Direct"
    assert detail["session_id"] == sid and detail["visitor_id"] == second["visitor_id"]
    assert [s["session_id"] for s in detail["timeline"]] == [first["session_id"], sid]
    assert detail["timeline"][0]["source"] == "Google" and detail["timeline"][0]["ended_at"] is not None
    assert detail["timeline"][0]["browser"] == "Firefox"
    kinds = [(e["type"], e["name"]) for e in detail["timeline"][1]["events"]]
    assert kinds == [("pageview", None), ("scroll", None), ("click", "see-plans"), ("form_start", "contact"),
                     ("form_submit", "contact")]  # fmt: skip
    assert detail["deliveries"] == []  # no CRM configured


def test_unknown_lead_is_404(leads_client: tuple) -> None:
    client, settings, _ = leads_client
    response = client.get("/analytics/leads/no-such-lead", headers=key(settings))
    assert response.status_code == 404 and "Unknown lead" in response.json()["error"]


def test_the_converting_page_is_in_the_journey_when_its_events_arrive_after_the_lead(
    make_settings: Any,
) -> None:
    """The tracker batches: the page view, form start and submit reach the server after the lead."""
    skew = -7_200_000  # the browser's clock runs two hours behind the server's

    def browser_now() -> int:
        time.sleep(0.2)  # a person's pace between steps
        return now_ms() + skew

    with TestClient(create_app(make_settings())) as client:
        sid = client.post("/track/session/start", json={"url": "https://shop.example/"}).json()["session_id"]
        queued = [
            {"type": "pageview", "url": "https://shop.example/contact", "timestamp": browser_now()},
            {"type": "form_start", "name": "contact", "timestamp": browser_now()},
            {"type": "form_submit", "name": "contact", "timestamp": browser_now()},
        ]
        lead = client.post("/lead.capture", json={"submission_id": "late-0001", "email": "a@example.com",
                                                  "session_id": sid}).json()  # fmt: skip
        client.post("/track/events/batch", json={"session_id": sid, "events": queued})  # after the lead
        time.sleep(1.5)
        after = {"session_id": sid, "type": "click", "name": "thank-you link", "timestamp": now_ms() + skew}
        client.post("/track/event", json=after)
        detail = client.get(
            f"/analytics/leads/{lead['lead_id']}", headers=key(app_runtime(client).settings)
        ).json()
    [session] = detail["timeline"]
    kinds = [(e["type"], e["path"] or e["name"]) for e in session["events"]]
    assert kinds == [
        ("pageview", "/"),
        ("pageview", "/contact"),
        ("form_start", "contact"),
        ("form_submit", "contact"),
    ]
    times = [e["at"] for e in session["events"]]
    assert times == sorted(times) and times[-1] <= lead["timestamp"]  # placed on the server's clock
