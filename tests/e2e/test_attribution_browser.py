"""Lead attribution end to end in real Chromium against `pulsegate serve`: one visitor comes three
times (an ad, directly, a newsletter), then sends the demo site's contact form; the CRM marks the
lead won; the attribution report credits the revenue by model. And a plain HTML form posted with
JavaScript off lands on the thank-you page and makes one lead, even sent twice."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.browser import DESKTOP_CHROME
from tests.e2e.demo_site_server import DemoSite
from tests.e2e.running_server import RunningServer
from tests.helpers import cli, wait_for

pytestmark = pytest.mark.e2e

CALLBACK = "journey-callback-secret"
PLAIN_FORM = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Plain form</title>
<!-- Across origins a browser sends only the site's origin as Referer: this sends the whole page. -->
<meta name="referrer" content="no-referrer-when-downgrade"></head>
<body>
  <h1>Write to us</h1>
  <form method="post" action="{{PULSEGATE}}/lead.capture">
    <input type="hidden" name="project" value="demo">
    <input type="hidden" name="source" value="plain-contact">
    <label>Name <input name="name"></label>
    <label>Email <input type="email" name="email"></label>
    <label>Team size <input name="team_size"></label>
    <div style="position:absolute;left:-9999px" aria-hidden="true"><input name="website" tabindex="-1"></div>
    <button type="submit">Send</button>
  </form>
</body></html>
"""


@pytest.fixture
def journey_server(tmp_path: Path) -> Iterator[RunningServer]:
    env = {"PULSEGATE_CRM__CALLBACK_SECRET": CALLBACK}
    running = RunningServer(tmp_path / "data" / "pulsegate.duckdb", tmp_path, env=env).start()
    yield running
    if running.process is not None and running.process.poll() is None:
        running.stop()


def visit(context: Any, url: str) -> None:
    """One visit in its own tab (its own session), left by closing the tab."""
    page = context.new_page()
    page.goto(url)
    wait_for(lambda: page.evaluate("sessionStorage.getItem('pulsegate_session')"), what="the session")
    page.close(run_before_unload=True)


def attribution(server: RunningServer, key: str, **params: str) -> dict[Any, dict[str, Any]]:
    answer = httpx.get(f"{server.base_url}/analytics/attribution", params={"period": "7d", **params},
                       headers={"X-API-Key": key}, timeout=10)  # fmt: skip
    assert answer.status_code == 200, answer.text
    return {row["value"]: row for row in answer.json()["rows"]}


def form_counts(server: RunningServer, key: str) -> tuple[int, int, int, int]:
    """The demo contact form's views, starts, submits and leads in the forms report."""
    forms = httpx.get(
        f"{server.base_url}/analytics/forms", params={"period": "7d"}, headers={"X-API-Key": key}
    )
    form = {row["value"]: row for row in forms.json()["rows"]}.get("contact-page")
    return (form["views"], form["starts"], form["submits"], form["leads"]) if form else (0, 0, 0, 0)


def test_three_visits_a_lead_and_a_won_deal_credited_by_model(
    journey_server: RunningServer, chromium: Any
) -> None:
    server = journey_server
    key = cli("keys", "create", "journey", "--quiet", database=server.database).stdout.strip()
    with DemoSite(server.base_url) as site:
        context = chromium.new_context(user_agent=DESKTOP_CHROME)  # one browser profile: one visitor
        before_first = int(time.time() * 1000)
        visit(
            context,
            f"{site.base_url}/index.html?utm_source=google&utm_medium=cpc&utm_campaign=spring&gclid=TEST1",
        )
        visit(context, f"{site.base_url}/index.html")
        page = context.new_page()
        page.goto(f"{site.base_url}/index.html?utm_source=newsletter&utm_medium=email")
        wait_for(lambda: page.evaluate("sessionStorage.getItem('pulsegate_session')"), what="the third visit")
        page.goto(f"{site.base_url}/contact.html")  # the same tab: the same (third) session
        page.wait_for_selector("#contact-form form")
        page.fill("#contact-form [name=name]", "Journey Person")
        page.fill("#contact-form [name=email]", "journey@example.com")
        page.wait_for_timeout(2_200)  # a person's pace: faster than leads.min_fill_ms is spam
        page.click("#contact-form button[type=submit]")
        lead_id = wait_for(lambda: page.get_attribute("#contact-form", "data-lead-id"), what="the lead")
        after_lead = int(time.time() * 1000)
        # Left as a person leaves: the tracker sends what it still holds (the form's view, start
        # and submit, if its timer has not yet) as the page goes; closing the context alone would
        # drop it with the page.
        page.close(run_before_unload=True)
        # The beacon leaves from the browser's context, which waits for it here.
        wait_for(lambda: sum(form_counts(server, key)[:3]) >= 3, what="the form's events")
        context.close()

    detail = httpx.get(f"{server.base_url}/analytics/leads/{lead_id}", headers={"X-API-Key": key}).json()
    lead = detail["lead"]
    first, last = lead["first_touch"], lead["last_touch"]
    assert (first["source"], first["utm_medium"], first["utm_campaign"]) == ("Google", "cpc", "spring")
    assert first["click_ids"] == {"gclid": "TEST1"} and first["landing_page"] == "/index.html"
    assert (last["utm_source"], last["utm_medium"]) == ("newsletter", "email")
    assert lead["touches"] == 3 and len(detail["touch_list"]) == 3
    assert detail["touch_list"][1]["source"] == "Direct"
    assert before_first <= first["at"] <= lead["created_at"] <= after_lead
    assert detail["time_to_convert_ms"] == lead["created_at"] - first["at"]
    assert 0 < detail["time_to_convert_ms"] <= after_lead - before_first
    assert detail["converting_session"]["landing_page"] == "/index.html"
    assert detail["converting_session"]["page_views"] >= 1

    won = httpx.post(f"{server.base_url}/lead.capture/crm-callback",
                     json={"lead_id": lead_id, "stage": "won", "value": 1200, "currency": "EUR"},
                     headers={"Authorization": f"Bearer {CALLBACK}"}, timeout=10)  # fmt: skip
    assert won.status_code == 200 and won.json()["stage"] == "won"

    # The contact form was seen (form.js beside the tracker), started, sent, and made the lead.
    assert form_counts(server, key) == (1, 1, 1, 1)

    by_first = attribution(server, key, model="first", dimension="utm_campaign")
    assert by_first["spring"]["revenue"] == [{"currency": "EUR", "amount": 1200.0}]
    assert by_first["spring"]["won"] == 1 and by_first["spring"]["leads"] == 1
    by_last = attribution(server, key, model="last", dimension="utm_source")
    assert by_last["newsletter"]["revenue"] == [{"currency": "EUR", "amount": 1200.0}]
    assert set(by_last) == {"newsletter"}
    linear = attribution(server, key, model="linear", dimension="utm_source")
    assert set(linear) == {"google", None, "newsletter"}  # the direct visit has no utm_source
    for row in linear.values():
        assert row["leads"] == pytest.approx(1 / 3)
        assert row["revenue"] == [{"currency": "EUR", "amount": pytest.approx(400.0)}]


def test_a_plain_html_form_without_javascript_lands_on_the_thank_you_page_once(
    journey_server: RunningServer, chromium: Any
) -> None:
    server = journey_server
    with DemoSite(server.base_url, extra_pages={"plain.html": PLAIN_FORM}) as site:
        context = chromium.new_context(java_script_enabled=False, user_agent=DESKTOP_CHROME)
        page = context.new_page()
        for attempt in range(2):  # sent, then back and sent again with the same words
            page.goto(f"{site.base_url}/plain.html?utm_source=newsletter")
            page.fill("[name=name]", "Plain Person")
            page.fill("[name=email]", "plain@example.com")
            page.fill("[name=team_size]", "12")
            page.click("button[type=submit]")
            page.wait_for_load_state()
            assert page.url == f"{server.base_url}/lead.capture", attempt
            assert page.locator("h1").inner_text() == "Thank you!"
            back = f"a[href='{site.base_url}/plain.html?utm_source=newsletter']"
            assert page.locator(back).count() == 1  # a link back to the page
        context.close()
    rows = cli("leads", "list", "--json", database=server.database)
    assert rows.returncode == 0, rows.stderr
    listed = json.loads(rows.stdout)["leads"]
    assert [(lead["email"], lead["source"], lead["project"]) for lead in listed] == [
        ("plain@example.com", "plain-contact", "demo")
    ]
    touch = listed[0]["first_touch"]
    assert (touch["landing_page"], touch["utm_source"], touch["session_id"]) == (
        "/plain.html",
        "newsletter",
        None,
    )
