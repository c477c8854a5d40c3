"""form.js served alone (without the tracker) and tracker.js loaded twice, in real Chromium.

pulse.js leaves out form.js's fallback for the visit's ids (its tracker always has them), so the
fallback is only ever run by form.js on its own: this checks it still sends what a tracker left
in the tab.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.demo_site_server import DemoSite
from tests.e2e.running_server import RunningServer
from tests.helpers import wait_for

pytestmark = pytest.mark.e2e
PAGES = {
    "form-alone.html": '<title>f</title><script src="{{PULSEGATE}}/form.js"></script>'
    '<form data-pulsegate-project="p" id="w"><label>Email <input name="email"></label><button>Send</button></form>',
    "tracker-twice.html": '<title>t</title><script src="{{PULSEGATE}}/tracker.js" data-project="p"></script>'
    '<script src="{{PULSEGATE}}/tracker.js" data-project="p"></script>',
}


@pytest.fixture
def site(server: RunningServer) -> Iterator[DemoSite]:
    with DemoSite(server.base_url, PAGES) as pages:
        yield pages


def test_form_js_alone_sends_the_ids_a_tracker_left_in_the_tab(site: DemoSite, browser_context: Any) -> None:
    page = browser_context.new_page()
    sent: list[dict[str, Any]] = []

    def capture(route: Any) -> None:
        sent.append(json.loads(route.request.post_data))
        route.continue_()

    page.route("**/lead.capture", capture)
    page.goto(f"{site.base_url}/form-alone.html")
    page.evaluate(
        "sessionStorage.setItem('pulsegate_session', 'left-session'); "
        "localStorage.setItem('pulsegate_visitor', 'left-visitor')"
    )
    page.fill("#w [name=email]", "alone@example.com")
    time.sleep(2)  # a person's pace
    page.click("#w button")
    page.wait_for_selector("#w .pulsegate-sent, #w .pulsegate-failed")
    [lead] = sent
    assert (lead["session_id"], lead["visitor_id"]) == ("left-session", "left-visitor")
    assert lead["email"] == "alone@example.com" and len(lead["submission_id"]) == 32


def test_tracker_js_loaded_twice_starts_one_session(site: DemoSite, browser_context: Any) -> None:
    page = browser_context.new_page()
    starts: list[str] = []
    page.on("request", lambda r: starts.append(r.url) if r.url.endswith("/session/start") else None)
    page.goto(f"{site.base_url}/tracker-twice.html")
    wait_for(lambda: page.evaluate("sessionStorage.getItem('pulsegate_session')"))
    page.wait_for_timeout(300)
    assert len(starts) == 1
