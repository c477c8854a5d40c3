"""tracker.js, form.js and pulse.js in real Chromium: forms, privacy signals, loading modes, limits.

Each test runs a real `pulsegate serve` and serves its pages from another local port.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest

from tests.e2e.demo_site_server import DemoSite
from tests.e2e.running_server import RunningServer, pulsegate_command
from tests.helpers import server_api_key, wait_for

pytestmark = pytest.mark.e2e
PAGES = {
    "async-tracker.html": '<title>t</title><script async src="{{PULSEGATE}}/tracker.js" data-project="async-site"></script>'
    '<button id="b">Buy</button>',
    "sync-init.html": '<title>s</title><script src="{{PULSEGATE}}/pulse.js"></script>'
    '<script>PulseGate.init({project: "sync-site"})</script><button id="b">Buy</button>',
    "respect-dnt.html": '<title>d</title><script src="{{PULSEGATE}}/pulse.js" data-project="p" data-respect-dnt="true"></script>',
    "ignore-dnt.html": '<title>i</title><script src="{{PULSEGATE}}/pulse.js" data-project="p"></script>',
    "builder.html": '<title>b</title><script src="{{PULSEGATE}}/pulse.js" data-project="forms"></script><div id="f"></div>',
    # Port 9 (discard) is closed here: every call fails at the network level.
    "dead-endpoint.html": '<title>x</title><script src="{{PULSEGATE}}/pulse.js" data-project="p" '
    'data-endpoint="http://127.0.0.1:9"></script><script src="{{PULSEGATE}}/pulse.js"></script>'
    '<script src="{{PULSEGATE}}/tracker.js" data-endpoint="http://127.0.0.1:9"></script>'
    '<div id="f"></div><script>window.pageScriptRan = true</script>',
    "website-field.html": '<title>w</title><script src="{{PULSEGATE}}/pulse.js" data-project="p"></script>'
    '<form data-pulsegate-project="p" id="w"><label>Email <input name="email"></label>'
    '<label>Company website <input name="website"></label><button>Send</button></form>',
    "alias.html": '<title>a</title><script src="{{PULSEGATE}}/p.js" data-project="hidden"></script>',
}
HOSTILE_LABEL = '<img src=x onerror="window.pwned=1">Name'


@pytest.fixture
def site(server: RunningServer) -> Iterator[DemoSite]:
    with DemoSite(server.base_url, PAGES) as pages:
        yield pages


@contextmanager
def server_and_site(tmp_path: Path, env: dict[str, str]) -> Iterator[tuple[RunningServer, DemoSite]]:
    """A server with these settings (environment variables) and the test pages pointing at it."""
    server = RunningServer(tmp_path / "data" / "p.duckdb", tmp_path, env=env).start()
    try:
        with DemoSite(server.base_url, PAGES) as site:
            yield server, site
    finally:
        server.stop()


def tracking_requests(page: Any) -> list[Any]:
    """Every tracking request the page sends, as Playwright sees it."""
    seen: list[Any] = []
    page.on(
        "request",
        lambda request: (
            seen.append(request) if "/track/" in request.url and request.method == "POST" else None
        ),
    )
    return seen


def leads(server: RunningServer) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{server.base_url}/analytics/leads",
        headers={"X-API-Key": server_api_key(server.database)},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()["leads"]


def test_the_form_builder_works_by_keyboard_and_checks_input_as_the_server_does(
    server: RunningServer, site: DemoSite, browser_context: Any
) -> None:
    page = browser_context.new_page()
    captures: list[Any] = []
    page.on(
        "request", lambda request: captures.append(request) if request.url.endswith("/lead.capture") else None
    )
    page.goto(f"{site.base_url}/contact.html")
    page.wait_for_selector("#contact-form form")
    # Every control has its label.
    assert page.evaluate(
        "[...document.querySelectorAll('#contact-form input, #contact-form textarea, #contact-form select')].every(c => c.labels.length == 1)"
    )
    page.focus("#contact-form [name=name]")
    page.keyboard.type("Ada")
    page.keyboard.press("Tab")
    page.keyboard.type("ada@nowhere")  # no top-level domain: the server would refuse it
    page.keyboard.press("Enter")
    email = page.locator("#contact-form [name=email]")
    assert email.get_attribute("aria-invalid") == "true"
    error_id = email.get_attribute("aria-describedby")
    assert page.text_content(f"#{error_id}") == "Enter a valid email address."
    assert page.evaluate("document.activeElement.name") == "email"
    assert page.locator("#contact-form [name=name]").get_attribute("aria-invalid") is None
    assert captures == []  # nothing was sent
    page.keyboard.press("End")
    page.keyboard.type(".org")
    time.sleep(2)  # a person's pace: faster is stored as spam
    page.keyboard.press("Enter")
    page.wait_for_selector("#contact-form[data-lead-id]")
    assert email.get_attribute("aria-invalid") is None and page.is_hidden(f"#{error_id}")
    assert page.text_content("#contact-form [role=status]") == "Thank you! We will be in touch."
    [lead] = leads(server)
    assert (lead["email"], lead["name"], lead["status"], lead["source"]) == (
        "ada@nowhere.org",
        "Ada",
        "new",
        "contact-page",
    )
    assert len(captures) == 1


def test_labels_and_server_messages_are_shown_as_text_never_as_html(
    server: RunningServer, site: DemoSite, browser_context: Any
) -> None:
    page = browser_context.new_page()
    page.goto(f"{site.base_url}/builder.html")
    errors: list[str] = []
    page.expose_function("reportError", lambda message: errors.append(message))
    page.evaluate(
        """label => PulseGate.form({target: '#f', project: 'not a valid project!', source: 's',
             fields: [{name: 'name', label: label}, {name: 'email', label: 'Email', type: 'email'}],
             onError: message => window.reportError(message)})""",
        HOSTILE_LABEL,
    )
    assert page.text_content("#f label") == HOSTILE_LABEL
    page.fill("#f [name=email]", "a@b.example")
    page.click("#f button[type=submit]")
    page.wait_for_selector("#f .pulsegate-failed")
    status = page.text_content("#f [role=status]")
    assert "project" in status and status == errors[0]  # the server's own words, as text
    assert page.evaluate("document.querySelectorAll('img').length") == 0
    assert page.evaluate("window.pwned") is None
    assert leads(server) == []


def test_a_network_failure_is_retried_once_with_the_same_submission_id(
    server: RunningServer, site: DemoSite, browser_context: Any
) -> None:
    page = browser_context.new_page()
    attempts: list[dict[str, Any]] = []

    def flaky(route: Any) -> None:
        attempts.append(json.loads(route.request.post_data))
        if len(attempts) == 1:
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/lead.capture", flaky)
    page.goto(f"{site.base_url}/contact.html")
    page.wait_for_selector("#contact-form form")
    page.fill("#contact-form [name=name]", "Grace")
    page.fill("#contact-form [name=email]", "grace@example.com")
    page.click("#contact-form button[type=submit]")
    page.wait_for_selector("#contact-form[data-lead-id]")
    assert len(attempts) == 2
    assert attempts[0]["submission_id"] == attempts[1]["submission_id"]
    assert len(attempts[0]["submission_id"]) == 32
    [lead] = leads(server)
    assert lead["email"] == "grace@example.com"


def test_a_plain_form_with_the_data_attribute_is_sent_as_a_lead(
    server: RunningServer, site: DemoSite, browser_context: Any
) -> None:
    page = browser_context.new_page()
    page.goto(f"{site.base_url}/contact.html")
    session_id = wait_for(lambda: page.evaluate("sessionStorage.getItem('pulsegate_session')"))
    page.fill("#newsletter [name=email]", "not-an-email")
    page.click("#newsletter button")
    assert page.locator("#newsletter [name=email]").get_attribute("aria-invalid") == "true"
    page.fill("#newsletter [name=email]", "reader@example.com")
    time.sleep(2)
    page.click("#newsletter button")
    page.wait_for_selector("#newsletter .pulsegate-sent")
    assert page.input_value("#newsletter [name=email]") == ""  # reset for the next visitor
    [lead] = leads(server)
    assert (lead["email"], lead["project"], lead["source"]) == ("reader@example.com", "demo", "newsletter")
    detail = httpx.get(
        f"{server.base_url}/analytics/leads/{lead['lead_id']}",
        headers={"X-API-Key": server_api_key(server.database)},
    ).json()
    assert detail["session_id"] == session_id


@pytest.mark.parametrize("signal", ["navigator.globalPrivacyControl", "navigator.doNotTrack"])
def test_do_not_track_and_gpc_are_honoured_when_the_site_asks(
    server: RunningServer, site: DemoSite, browser_context: Any, signal: str
) -> None:
    prop = signal.split(".")[1]
    value = "true" if prop == "globalPrivacyControl" else "'1'"
    browser_context.add_init_script(
        f"Object.defineProperty(Navigator.prototype, '{prop}', {{get: () => {value}}})"
    )
    page = browser_context.new_page()
    sent = tracking_requests(page)
    page.goto(f"{site.base_url}/respect-dnt.html")
    page.evaluate("PulseGate.track('x')")
    time.sleep(1)
    assert sent == [] and page.evaluate("sessionStorage.getItem('pulsegate_session')") is None
    # A form the visitor sends still arrives, without ids linking it to them.
    page.evaluate("localStorage.setItem('pulsegate_visitor', 'from-an-earlier-visit')")
    page.evaluate("PulseGate.form({target: 'body', fields: [{name: 'email', label: 'Email'}]})")
    page.fill("[name=email]", "private@example.com")
    page.click("button[type=submit]")
    page.wait_for_selector(".pulsegate-sent")
    [lead] = leads(server)
    detail = httpx.get(
        f"{server.base_url}/analytics/leads/{lead['lead_id']}",
        headers={"X-API-Key": server_api_key(server.database)},
    )
    assert (detail.json()["session_id"], detail.json()["visitor_id"]) == (None, None)
    # The same visitor on a site that did not ask for it is tracked.
    page.goto(f"{site.base_url}/ignore-dnt.html")
    wait_for(lambda: page.evaluate("sessionStorage.getItem('pulsegate_session')"))
    assert [request.url.rsplit("/", 2)[-2:] for request in sent] == [["session", "start"]]


@pytest.mark.parametrize(
    ("page_name", "project"), [("async-tracker.html", "async-site"), ("sync-init.html", "sync-site")]
)
def test_tracker_js_async_and_pulse_js_with_init_both_track(
    site: DemoSite, browser_context: Any, page_name: str, project: str
) -> None:
    page = browser_context.new_page()
    sent = tracking_requests(page)
    page.goto(f"{site.base_url}/{page_name}")
    wait_for(lambda: page.evaluate("sessionStorage.getItem('pulsegate_session')"))
    assert json.loads(sent[0].post_data)["project"] == project
    with page.expect_response(lambda response: "/track/events/batch" in response.url) as batch:
        page.click("#b")
    assert batch.value.status == 200
    events = json.loads(batch.value.request.post_data)["events"]
    assert [event.get("name") for event in events if event["type"] == "click"] == ["Buy"]


def test_the_tracker_never_throws_into_the_page(site: DemoSite, browser_context: Any) -> None:
    """A dead endpoint, odd arguments, the scripts loaded twice: the page sees no error (the fixture
    checks) and its own script after them still runs."""
    page = browser_context.new_page()
    page.goto(f"{site.base_url}/dead-endpoint.html")
    assert page.evaluate("window.pageScriptRan") is True
    page.evaluate(
        """() => {
            const circular = {}; circular.self = circular;
            PulseGate.track(undefined, circular);
            PulseGate.track('n', {nested: {a: 1}, big: 'x'.repeat(10000), n: NaN, f: () => 1});
            PulseGate.track(Symbol.iterator);
            PulseGate.form({target: '#missing'});
            PulseGate.form();
            history.pushState(null, '', '?next');
        }"""
    )
    page.evaluate("PulseGate.form({target: '#f', fields: [{name: 'email', label: 'Email'}]})")
    page.fill("#f [name=email]", "a@b.example")
    page.click("#f button[type=submit]")
    page.wait_for_selector("#f .pulsegate-failed")  # tried twice, then told the visitor
    assert "check your connection" in page.text_content("#f [role=status]")
    page.wait_for_timeout(300)


def test_a_429_holds_the_queue_until_retry_after(tmp_path: Path, browser_context: Any) -> None:
    env = {"PULSEGATE_RATE_LIMITS__EVENTS_BATCH": "1", "PULSEGATE_RATE_LIMITS__WINDOW_SECONDS": "4"}
    with server_and_site(tmp_path, env) as (_server, site):
        page = browser_context.new_page()
        batches: list[Any] = []  # responses to /track/events/batch
        page.on("response", lambda r: batches.append(r) if "/track/events/batch" in r.url else None)
        page.goto(f"{site.base_url}/ignore-dnt.html")
        wait_for(lambda: page.evaluate("sessionStorage.getItem('pulsegate_session')"))
        pushed = 0

        def push_full_batch() -> None:  # a full queue is sent at once
            nonlocal pushed
            page.evaluate(
                "from => { for (let i = from; i < from + 100; i++) PulseGate.track('e' + i) }", pushed
            )
            pushed += 100

        for _ in range(5):  # with one batch per window allowed, the second or third is refused
            with page.expect_response(lambda r: "/track/events/batch" in r.url) as answer:
                push_full_batch()
            if answer.value.status == 429:
                refused = answer.value
                break
        else:
            raise AssertionError("no batch was refused")
        push_full_batch()  # a full queue, which would normally go out at once

        def accepted() -> set[str]:
            return {event.get("name") for r in batches if r.status == 200
                    for event in json.loads(r.request.post_data)["events"]}  # fmt: skip

        wait_for(
            lambda: f"e{pushed - 1}" in accepted(), timeout=30, what="every queued event to go", page=page
        )
        # Browser-side clocks (epoch ms): when the 429 arrived, when the next batch left.
        timing = refused.request.timing
        refused_at = timing["startTime"] + timing["responseEnd"]
        next_sent = min(
            r.request.timing["startTime"] for r in batches if r.request.timing["startTime"] > refused_at
        )
        assert next_sent - refused_at >= int(refused.headers["retry-after"]) * 1000 - 50
    with duckdb.connect(str(tmp_path / "data" / "p.duckdb"), read_only=True) as database:
        names = [
            name for (name,) in database.execute("SELECT name FROM events WHERE type = 'custom'").fetchall()
        ]
    assert sorted(names) == sorted(f"e{i}" for i in range(pushed))  # each once: none lost, none twice


def test_a_failing_batch_is_tried_four_times_then_dropped(site: DemoSite, browser_context: Any) -> None:
    page = browser_context.new_page()
    batches: list[list[str]] = []

    def unavailable(route: Any) -> None:
        batches.append([event.get("name") for event in json.loads(route.request.post_data)["events"]])
        route.fulfill(status=503, body='{"error": "busy"}', content_type="application/json",
                      headers={"Access-Control-Allow-Origin": "*"})  # fmt: skip

    page.goto(f"{site.base_url}/ignore-dnt.html")
    wait_for(lambda: page.evaluate("sessionStorage.getItem('pulsegate_session')"))
    page.route("**/track/events/batch", unavailable)
    for round_ in range(6):
        # A full queue goes out at once, unless a batch is still in flight: wait for each answer.
        with page.expect_event("requestfinished", lambda request: "/track/events/batch" in request.url):
            page.evaluate(
                "from => { for (let i = from; i < from + 100; i++) PulseGate.track('e' + i) }", round_ * 100
            )
        page.wait_for_timeout(100)  # the tracker reads the 503 before the next round
        assert len(batches) == round_ + 1
    assert sum("e0" in batch for batch in batches) == 4  # the first try and three more
    assert "e100" in batches[4]  # then the next events get their turn


def test_the_operator_s_names_for_script_and_routes_are_used(tmp_path: Path, browser_context: Any) -> None:
    env = {"PULSEGATE_WEB__SCRIPT_ALIAS": "/p.js", "PULSEGATE_WEB__TRACKING_PREFIX": "/e"}
    with server_and_site(tmp_path, env) as (server, site):
        page = browser_context.new_page()
        sent: list[str] = []
        page.on("request", lambda request: sent.append(request.url) if request.method == "POST" else None)
        page.goto(f"{site.base_url}/alias.html")
        wait_for(lambda: page.evaluate("sessionStorage.getItem('pulsegate_session')"))
        assert sent == [f"{server.base_url}/e/session/start"]


@pytest.mark.parametrize("style", [[], ["--init"]])
def test_the_snippet_pulsegate_prints_tracks_a_page_and_sends_its_form(
    server: RunningServer, browser_context: Any, style: list[str]
) -> None:
    printed = subprocess.run(
        pulsegate_command("snippet", "--project", "snip", "--form", "--url", server.base_url, *style),
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    with DemoSite(server.base_url, {"snippet.html": f"<head><title>s</title>{printed}</head>"}) as site:
        page = browser_context.new_page()
        sent = tracking_requests(page)
        page.goto(f"{site.base_url}/snippet.html")
        session_id = wait_for(lambda: page.evaluate("sessionStorage.getItem('pulsegate_session')"))
        assert json.loads(sent[0].post_data)["project"] == "snip"
        page.fill("[name=name]", "Lin")
        page.fill("[name=email]", "lin@example.com")
        time.sleep(2)
        page.click("button[type=submit]")
        page.wait_for_selector(".pulsegate-sent")
    [lead] = leads(server)
    assert (lead["email"], lead["project"], lead["source"]) == ("lin@example.com", "snip", "contact")
    detail = httpx.get(
        f"{server.base_url}/analytics/leads/{lead['lead_id']}",
        headers={"X-API-Key": server_api_key(server.database)},
    )
    assert detail.json()["session_id"] == session_id


def test_a_site_s_own_website_field_is_data_not_the_honeypot(
    server: RunningServer, site: DemoSite, browser_context: Any
) -> None:
    page = browser_context.new_page()
    page.goto(f"{site.base_url}/website-field.html")
    page.fill("#w [name=email]", "cto@initech.example")
    page.fill("#w [name=website]", "https://initech.example")
    time.sleep(2)
    page.click("#w button")
    page.wait_for_selector("#w .pulsegate-sent")
    [lead] = leads(server)
    assert lead["status"] == "new"  # not spam
    detail = httpx.get(
        f"{server.base_url}/analytics/leads/{lead['lead_id']}",
        headers={"X-API-Key": server_api_key(server.database)},
    )
    assert json.loads(detail.json()["fields"]) == {"website": "https://initech.example"}


def test_long_text_is_cut_without_splitting_a_character(site: DemoSite, browser_context: Any) -> None:
    page = browser_context.new_page()
    page.goto(f"{site.base_url}/ignore-dnt.html")
    wait_for(lambda: page.evaluate("sessionStorage.getItem('pulsegate_session')"))
    with page.expect_response(lambda response: "/track/events/batch" in response.url) as batch:
        # 255 ASCII characters, then emoji: the 256-character cut falls inside the first emoji.
        page.evaluate(
            r"for (let i = 0; i < 100; i++) PulseGate.track('x'.repeat(255) + '\u{1F680}'.repeat(3), {v: 'y'.repeat(511) + '\u{1F680}'})"
        )
    assert batch.value.status == 200
    sent = json.loads(batch.value.request.post_data)["events"][0]
    assert sent["name"] == "x" * 255 and sent["props"]["v"] == "y" * 511
