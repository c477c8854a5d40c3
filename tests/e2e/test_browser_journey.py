"""A visit in real Chromium on the demo site (another origin), then read back through the analytics API.

The server is a real `pulsegate serve`; the site is served from a second local port, so every
tracking call is a real cross-origin request with its preflight. Expected numbers are worked out
here from what the test did, with the engagement formula written out independently.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.e2e.demo_site_server import DemoSite
from tests.e2e.running_server import RunningServer
from tests.helpers import server_api_key, wait_for

pytestmark = pytest.mark.e2e
INTERACTIONS = {"click", "outbound", "download", "custom"}


def expected_score(
    engaged_ms: float, max_scroll: int, page_views: int, interactions: int, submitted: bool
) -> int:
    """The README's formula, written out again here so the test does not trust the code it checks."""
    total = (
        35 * min(engaged_ms / 1000 / 120, 1)
        + 20 * max_scroll / 100
        + 20 * min((page_views - 1) / 4, 1)
        + 15 * min(interactions / 5, 1)
        + (10 if submitted else 0)
    )
    return math.floor(total + 0.5)


@pytest.fixture
def site(server: RunningServer) -> Iterator[DemoSite]:
    with DemoSite(server.base_url) as demo:
        yield demo


def test_a_visit_across_pages_an_app_and_a_form_is_all_recorded(
    server: RunningServer, site: DemoSite, browser_context: Any
) -> None:
    page = browser_context.new_page()
    visited: list[str] = []  # every URL that should count as a page view, in order
    did: list[str] = []  # every interaction event the tracker should send, in order

    def session_in_tab() -> str | None:
        return page.evaluate("sessionStorage.getItem('pulsegate_session')")

    # Landing page (pulse.js with data-project, loaded with defer).
    page.goto(f"{site.base_url}/index.html")
    session_id = wait_for(session_in_tab, what="the session to start")
    visited.append(page.url)
    page.mouse.move(200, 200)
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    wait_for(
        lambda: page.evaluate("window.scrollY + innerHeight >= document.documentElement.scrollHeight - 1")
    )
    page.mouse.move(250, 250)
    page.evaluate("window.scrollTo(0, 0)")
    page.click("#launch")  # a button that also calls PulseGate.track('launch', ...)
    did += ["click", "custom"]
    with browser_context.expect_page() as popup:
        page.click("#outbound")  # target=_blank to duckdb.org
    popup.value.close()
    did.append("outbound")
    with page.expect_download():
        page.click("a[download]")  # tagged data-pulse-event: a custom event too, with its property
    did += ["custom", "download"]

    # Next page of the site: the same tab carries the session on.
    page.click("nav a[href='app.html']")
    did.append("click")
    page.wait_for_url("**/app.html")
    visited.append(page.url)
    page.click("[data-view=launches]")  # history.pushState
    did.append("click")
    page.wait_for_url("**/app.html?view=launches")
    visited.append(page.url)
    page.click("#crew-link")  # a hash change
    did.append("click")
    page.wait_for_url("**#crew")
    visited.append(page.url)
    page.go_back()  # popstate
    page.wait_for_url("**/app.html?view=launches")
    visited.append(page.url)
    assert session_in_tab() == session_id

    # The contact page: a form built by PulseGate.form, sent after a human's pause.
    page.click("nav a[href='contact.html']")
    did.append("click")
    page.wait_for_url("**/contact.html")
    visited.append(page.url)
    page.wait_for_selector("#contact-form form")
    # Filled slower than leads.min_fill_ms (under which a lead counts as spam), but before the
    # tracker's 5 s timer: this page view and the form start are still queued when the lead is
    # sent, and reach the server after it, as they did in the demo.
    batches: list[str] = []
    page.on(
        "request",
        lambda request: batches.append(request.url) if "/track/events/batch" in request.url else None,
    )
    page.fill("#contact-form [name=name]", "Ada Lovelace")
    page.fill("#contact-form [name=email]", "ada@example.com")
    page.select_option("#contact-form [name=budget]", index=1)
    page.wait_for_timeout(2_300)
    assert batches == [], "the converting page's events were sent before the lead: the test lost its point"
    page.click("#contact-form button[type=submit]")  # the click and form_submit go with the end
    did.append("click")
    lead_id = page.wait_for_selector("#contact-form[data-lead-id]").get_attribute("data-lead-id")
    assert page.text_content("#contact-form [role=status]") == "Thank you! We will be in touch."

    page.close(run_before_unload=True)  # the visitor closes the tab: the session ends

    key = {"X-API-Key": server_api_key(server.database)}

    def get(path: str, **params: Any) -> dict[str, Any]:
        response = httpx.get(f"{server.base_url}{path}", headers=key, params=params, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    engagement = wait_for(
        lambda: (e := get("/analytics/engagement"))["scored_sessions"] == 1 and e, what="the end"
    )
    detail = get(f"/analytics/leads/{lead_id}")
    assert detail["session_id"] == session_id
    assert detail["lead"]["email"] == "ada@example.com"
    assert detail["lead"]["project"] == "demo" and detail["lead"]["source"] == "contact-page"
    assert json.loads(detail["fields"]) == {"budget": "$10k\u2013$50k"}  # en dash, as on the page
    [session] = [s for s in detail["timeline"] if s["session_id"] == session_id]
    assert session["ended_at"] is not None and session["max_scroll"] == 100
    # The lead's timeline: what the visitor did up to the lead.
    events = [e for e in session["events"] if e["type"] not in ("engagement", "scroll")]
    assert [e["type"] for e in events if e["type"] in INTERACTIONS] == did
    views = [e["path"] for e in events if e["type"] == "pageview"]
    assert views == [urlsplit(url).path for url in visited]
    # The converting page is in it although its events reached the server after the lead.
    assert [e["type"] for e in events if e["type"].startswith("form")] == ["form_start", "form_submit"]
    assert views[-1] == "/contact.html" and [e["at"] for e in events] == sorted(e["at"] for e in events)
    [outbound] = [e for e in events if e["type"] == "outbound"]
    assert json.loads(outbound["props"]) == {"href": "https://duckdb.org/"}
    launch, tagged = [e for e in events if e["type"] == "custom"]
    assert launch["name"] == "launch" and json.loads(launch["props"]) == {"rocket": "model-1"}
    assert tagged["name"] == "Download brochure" and json.loads(tagged["props"]) == {"format": "txt"}

    overview = get("/analytics/overview")["current"]
    assert (overview["sessions"], overview["visitors"], overview["leads"]) == (1, 1, 1)
    assert overview["page_views"] == len(visited)
    engaged_ms = overview["average_engaged_ms"]  # the one session's engaged time
    assert 0 < engaged_ms < 120_000
    # The Send click and the form submission arrived with the end: the score counts both.
    score = expected_score(engaged_ms, 100, len(visited), len(did) + 1, submitted=True)
    assert engagement["mean"] == score
    top = {p["path"]: p["views"] for p in get("/analytics/pages/top")["pages"]}
    assert top == dict(Counter(urlsplit(url).path for url in visited))


def test_serve_demo_shows_the_demo_site_working_from_the_same_origin(
    tmp_path: Any, browser_context: Any
) -> None:
    server = RunningServer(tmp_path / "data" / "p.duckdb", tmp_path, serve_args=("--demo",)).start()
    try:
        assert f"Demo site: {server.base_url}/demo/" in server.log()
        page = browser_context.new_page()
        page.goto(f"{server.base_url}/demo")
        assert page.url == f"{server.base_url}/demo/"
        session_id = wait_for(lambda: page.evaluate("sessionStorage.getItem('pulsegate_session')"))
        wait_for(lambda: page.text_content("#session-id") == session_id)
        page.click("nav a[href='contact.html']")
        page.wait_for_selector("#contact-form form")
    finally:
        server.stop()
