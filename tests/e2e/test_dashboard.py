"""The dashboard in real Chromium against a real server on a seeded database.

What the page shows is compared with what the API answers for the same view; the screenshots
of the main views (desktop and mobile, light and dark) go to test-artifacts/dashboard/ (or
$PULSEGATE_TEST_ARTIFACTS), for people to look at.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.running_server import RunningServer
from tests.helpers import cli_output, wait_for

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("PULSEGATE_TEST_ARTIFACTS", ROOT / "test-artifacts")) / "dashboard"
# How often the realtime panel refreshes, as dashboard.js says.
_DASHBOARD_JS = (ROOT / "web_assets" / "dashboard" / "dashboard.js").read_text("utf-8")
REALTIME_MS = int(re.search(r"const REALTIME_MS = ([\d_]+);", _DASHBOARD_JS)[1].replace("_", ""))  # type: ignore[index]
VIEWPORTS = {"desktop": {"width": 1366, "height": 900}, "mobile": {"width": 390, "height": 844}}


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, str]]:
    """A server on a database filled by `pulsegate demo seed`, and a key for it."""
    folder = tmp_path_factory.mktemp("dashboard")
    database = folder / "demo.duckdb"
    cli_output("demo", "seed", "--sessions", "1500", "--days", "30", "--seed", "4", database=database)
    key = cli_output("keys", "create", "dashboard", "--quiet", database=database).strip()
    server = RunningServer(database, folder).start()
    yield server, key
    server.stop()


def open_dashboard(
    chromium: Any,
    server: RunningServer,
    key: str | None,
    *,
    url: str = "/dashboard",
    fake_clock: bool = False,
    **context: Any,
) -> Any:
    """A page signed in with `key` (if given) and fully drawn, recording problems and requests;
    with `fake_clock`, its timers are Playwright's (time still flows; `page.clock.fast_forward`
    fires what is due at once)."""
    browser_context = chromium.new_context(timezone_id="UTC", locale="en-US", **context)
    if fake_clock:
        browser_context.clock.install()
    page = browser_context.new_page()
    page.problems = []  # console errors and uncaught exceptions
    page.requested = []
    page.on(
        "console", lambda message: page.problems.append(message.text) if message.type == "error" else None
    )
    page.on("pageerror", lambda error: page.problems.append(str(error)))
    page.on("request", lambda request: page.requested.append(request.url))
    page.goto(server.base_url + url)
    if key is not None:
        page.fill("#key", key)
        page.click("#key-form button")
        page.wait_for_selector("body[data-loaded=true]")
    return page


def api(server: RunningServer, key: str, path: str, **params: Any) -> Any:
    response = httpx.get(f"{server.base_url}{path}", headers={"X-API-Key": key}, params=params, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def texts(page: Any, selector: str) -> list[str]:
    return [text.strip() for text in page.locator(selector).all_inner_texts()]


def test_the_numbers_shown_are_the_api_s(chromium: Any, seeded: tuple[RunningServer, str]) -> None:
    server, key = seeded
    # Read before the page: on ClickHouse a table gets its first part when a background job first
    # writes to it, so one may be listed by a later read and not by the page's.
    tables = [t["table"] for t in api(server, key, "/analytics/storage")["tables"]]
    page = open_dashboard(chromium, server, key)
    window = {"period": "30d", "tz": "UTC"}
    current = api(server, key, "/analytics/overview", **window)["current"]
    for metric in ("sessions", "visitors", "page_views", "leads"):
        assert page.text_content(f"[data-metric={metric}] .value") == f"{current[metric]:,}", metric
    # JavaScript's toFixed(0) rounds a half up (62.5 shows 63%); Python's format rounds it to even.
    shown_percent = math.floor(current["bounce_rate"] * 100 + 0.5)
    assert page.text_content("[data-metric=bounce_rate] .value") == f"{shown_percent}%"

    daily = api(server, key, "/analytics/sessions/daily", **window)["days"]
    assert page.locator("#daily-chart rect.bar").count() == len(daily)
    page.mouse.move(1, 1)  # off the chart (the sign-in click left the pointer over it)
    assert (
        page.text_content("#daily-chart .readout")
        == f"{sum(d['sessions'] for d in daily):,} sessions in {len(daily)} days"
    )
    page.hover("#daily-chart rect.hit >> nth=-1")  # the hover readout names the day and its count
    assert (
        page.text_content("#daily-chart .readout")
        == f"{daily[-1]['date']} ({daily[-1]['visitors']:,} visitors): {daily[-1]['sessions']:,}"
    )

    pages = api(server, key, "/analytics/pages/top", **window, limit=10)["pages"]
    assert texts(page, "#pages tbody td.name") == [p["path"] for p in pages]
    assert texts(page, "#pages tbody td.num") == [f"{p['views']:,}" for p in pages]
    sources = api(server, key, "/analytics/sources", **window, limit=10)["sources"]
    assert texts(page, "#sources tbody td.name") == [s["source"] for s in sources]
    assert texts(page, "#sources tbody td.num") == [f"{s['sessions']:,}" for s in sources]
    countries = api(server, key, "/analytics/geo", **window, limit=10)["countries"]
    assert texts(page, "#countries tbody td.num") == [f"{c['sessions']:,}" for c in countries]
    assert "United States" in texts(page, "#countries tbody td.name")

    engagement = api(server, key, "/analytics/engagement", **window)
    assert page.locator("#engagement-chart rect.bar").count() == 5
    assert page.text_content("#engagement-summary").startswith(
        f"{engagement['scored_sessions']:,} scored sessions"
    )

    leads = api(server, key, "/analytics/leads", limit=20, page=1, **window)  # the cards' period
    assert texts(page, "#leads tbody td:nth-child(3)") == [lead["email"] for lead in leads["leads"]]
    assert (
        page.text_content("#leads-page")
        == f"Page 1 of {-(-leads['total'] // 20)} · {leads['total']:,} leads in this period"
    )
    findings = api(server, key, "/analytics/anomalies")["findings"]
    assert page.locator("#anomalies li.finding").count() == len(findings)
    assert all(table in page.text_content("#storage") for table in tables)
    assert page.problems == []
    assert not any(key in url for url in page.requested)
    page.context.close()


def test_filters_update_the_view_and_live_in_the_url(
    chromium: Any, seeded: tuple[RunningServer, str]
) -> None:
    server, key = seeded
    page = open_dashboard(chromium, server, key)
    spam = api(server, key, "/analytics/leads", status="spam", limit=20, period="30d", tz="UTC")
    with page.expect_response(
        lambda response: "/analytics/leads?" in response.url and "status=spam" in response.url
    ):
        page.select_option("#lead-status", "spam")
    wait_for(
        lambda: texts(page, "#leads tbody td:nth-child(3)") == [lead["email"] for lead in spam["leads"]],
        page=page,
    )
    assert set(texts(page, "#leads .status")) == {"spam"}
    assert "status=spam" in page.url

    # The period picker: seven days, then the lead's detail with its visitor's timeline.
    with page.expect_response(
        lambda response: "/analytics/overview?" in response.url and "period=7d" in response.url
    ):
        page.select_option("#period", "7d")
    seven = api(server, key, "/analytics/overview", period="7d", tz="UTC")["current"]
    wait_for(
        lambda: page.text_content("[data-metric=sessions] .value") == f"{seven['sessions']:,}", page=page
    )
    assert "period=7d" in page.url

    # Paging: the second page of all leads.
    page.select_option("#lead-status", "")
    page.select_option("#period", "30d")
    second = api(server, key, "/analytics/leads", limit=20, page=2, period="30d", tz="UTC")
    with page.expect_response(
        lambda response: "/analytics/leads?" in response.url and "page=2" in response.url
    ):
        page.click("#leads-next")
    wait_for(
        lambda: texts(page, "#leads tbody td:nth-child(3)") == [lead["email"] for lead in second["leads"]],
        page=page,
    )
    assert "page=2" in page.url and page.is_enabled("#leads-prev")

    # Custom dates: both needed, then the window is exactly those days.
    page.select_option("#period", "custom")
    assert page.is_visible("#from") and page.is_visible("#to")
    page.fill("#from", "2026-01-05")
    with page.expect_response(
        lambda response: "/analytics/overview?" in response.url and "from=2026-01-05" in response.url
    ) as custom:
        page.fill("#to", "2026-01-11")
    assert "to=2026-01-11" in custom.value.url and "period=" not in custom.value.url
    assert "from=2026-01-05" in page.url and "to=2026-01-11" in page.url
    page.select_option("#lead-status", "spam")
    page.select_option("#period", "30d")  # the window `spam` was asked for: its first lead is listed

    first = spam["leads"][0]
    page.click(f"#leads button[data-lead='{first['lead_id']}']")
    page.wait_for_selector("#lead-detail[open]")
    detail = api(server, key, f"/analytics/leads/{first['lead_id']}")
    assert page.locator("#lead-timeline > li").count() == len(detail["timeline"])
    assert first["email"] in page.text_content("#lead-fields")
    page.keyboard.press("Escape")
    page.select_option("#period", "7d")

    # A reload keeps the view (from the URL) and the key (this tab's sessionStorage).
    page.reload()
    page.wait_for_selector("body[data-loaded=true]")
    assert page.input_value("#lead-status") == "spam" and page.input_value("#period") == "7d"
    assert not any(key in url for url in page.requested) and key not in page.url
    assert page.problems == []
    page.context.close()


def test_realtime_refreshes_without_flicker_and_stops_on_sign_out(
    chromium: Any, seeded: tuple[RunningServer, str]
) -> None:
    server, key = seeded
    page = open_dashboard(chromium, server, key, fake_clock=True)
    # Record any moment the realtime panel is blank while it refreshes.
    page.evaluate(
        """() => {
            window.blanks = [];
            new MutationObserver(() => {
                for (const id of ["rt-sessions", "rt-visitors", "rt-events", "rt-chart"]) {
                    const node = document.getElementById(id);
                    if (!node.textContent.trim() && !node.querySelector("svg")) window.blanks.push(id);
                }
            }).observe(document.querySelector("#realtime").parentNode, {subtree: true, childList: true, characterData: true});
        }"""
    )
    calls = lambda: len([url for url in page.requested if "/analytics/realtime" in url])  # noqa: E731
    before = calls()
    page.clock.fast_forward(REALTIME_MS)  # the refresh interval, without waiting it out
    wait_for(lambda: calls() > before, timeout=15, page=page)
    page.wait_for_timeout(300)
    assert page.evaluate("window.blanks") == []
    assert page.text_content("#rt-sessions").replace(",", "").isdigit()

    page.click("#sign-out")
    page.wait_for_selector("#sign-in:not([hidden])")
    assert page.evaluate("sessionStorage.length") == 0
    asked = len(page.requested)
    page.clock.fast_forward(3 * REALTIME_MS)  # three refresh intervals
    page.wait_for_timeout(1_000)  # for a request they would have sent to show
    assert [url for url in page.requested[asked:] if "/analytics/" in url] == []
    assert page.problems == []
    page.context.close()


def test_a_slow_answer_to_an_older_choice_never_overwrites_the_newer(
    chromium: Any, seeded: tuple[RunningServer, str]
) -> None:
    server, key = seeded
    page = open_dashboard(chromium, server, key)
    held: list[Any] = []
    page.route("**/analytics/overview?*period=90d*", lambda route: held.append(route))
    page.select_option("#period", "90d")
    wait_for(lambda: held, page=page)  # the 90-day answer is on hold
    with page.expect_response(
        lambda response: "/analytics/overview?" in response.url and "period=7d" in response.url
    ):
        page.select_option("#period", "7d")
    seven = api(server, key, "/analytics/overview", period="7d", tz="UTC")["current"]["sessions"]
    wait_for(lambda: page.text_content("[data-metric=sessions] .value") == f"{seven:,}", page=page)
    for route in held:
        route.continue_()  # now the old answer arrives
    page.wait_for_timeout(500)
    assert page.text_content("[data-metric=sessions] .value") == f"{seven:,}"
    assert page.problems == []
    page.context.close()


def test_a_key_for_one_project_sees_that_project_only(
    chromium: Any, seeded: tuple[RunningServer, str]
) -> None:
    server, _ = seeded
    scoped = cli_output(
        "keys", "create", "acme only", "--project", "acme", "--quiet", database=server.database
    ).strip()
    page = open_dashboard(chromium, server, scoped)
    options = page.eval_on_selector_all("#project option", "options => options.map(o => o.value)")
    assert options == ["", "acme"]
    sessions = api(server, scoped, "/analytics/overview", period="30d", tz="UTC")["current"]["sessions"]
    assert page.text_content("[data-metric=sessions] .value") == f"{sessions:,}"
    assert "limited to some" in page.text_content("#storage")
    assert not any(
        "/analytics/storage" in url for url in page.requested
    )  # not even asked: no 403 in the console
    assert page.problems == []
    page.context.close()


def test_a_wrong_key_is_refused_and_an_empty_database_shows_the_snippet(
    chromium: Any, server: RunningServer
) -> None:
    page = open_dashboard(chromium, server, None)
    assert page.is_visible("#sign-in")
    page.fill("#key", "pgk_not_a_real_key")
    page.click("#key-form button")
    page.wait_for_selector("#key-error:not([hidden])")
    assert "not accepted" in page.text_content("#key-error")
    assert page.input_value("#key") == "pgk_not_a_real_key"  # kept, to be corrected rather than retyped
    assert not any("pgk_not_a_real_key" in url for url in page.requested)
    key = cli_output("keys", "create", "fresh", "--quiet", database=server.database).strip()
    page.fill("#key", key)
    page.click("#key-form button")
    page.wait_for_selector("body[data-loaded=true]")
    assert page.is_visible("#empty")
    assert (
        page.text_content("#snippet")
        == f'<script src="{server.base_url}/pulse.js" data-project="your-site" defer></script>'
    )
    # Seeding works while the server runs (through its control socket); the page fills in.
    assert "Stored 50 sessions" in cli_output(
        "demo", "seed", "--sessions", "50", "--days", "3", database=server.database
    )
    page.reload()
    page.wait_for_selector("body[data-loaded=true]")
    assert page.is_hidden("#empty")
    humans = api(server, key, "/analytics/overview", period="30d", tz="UTC")["current"]["sessions"]
    assert 0 < humans <= 50 and page.text_content("[data-metric=sessions] .value") == str(humans)
    page.context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", sorted(VIEWPORTS))
def test_screenshots_of_the_main_views(
    chromium: Any, seeded: tuple[RunningServer, str], width: str, scheme: str
) -> None:
    server, key = seeded
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = open_dashboard(chromium, server, key, viewport=VIEWPORTS[width], color_scheme=scheme)
    page.mouse.move(0, 0)
    page.screenshot(path=ARTIFACTS / f"overview-{width}-{scheme}.png", full_page=True)
    page.click("#leads tbody button >> nth=0")
    page.wait_for_selector("#lead-detail[open]")
    page.screenshot(path=ARTIFACTS / f"lead-{width}-{scheme}.png")
    # Narrow or wide, nothing spills sideways.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.problems == []
    page.context.close()


def test_today_is_drawn_by_the_hour(chromium: Any, seeded: tuple[RunningServer, str]) -> None:
    server, key = seeded
    page = open_dashboard(chromium, server, key, url="/dashboard?period=today")
    series = api(server, key, "/analytics/timeseries", period="today", tz="UTC")
    assert series["interval"] == "hour"
    assert page.locator("#daily-chart rect.bar").count() == len(series["buckets"]) >= 1
    assert page.text_content("#daily-title") == "Sessions per hour"
    page.mouse.move(1, 1)
    total = sum(b["sessions"] for b in series["buckets"])
    assert (
        page.text_content("#daily-chart .readout") == f"{total:,} sessions in {len(series['buckets'])} hours"
    )
    assert page.problems == []
    page.context.close()


def test_a_reversed_custom_range_says_so_once_and_hides_the_old_numbers(
    chromium: Any, seeded: tuple[RunningServer, str]
) -> None:
    server, key = seeded
    page = open_dashboard(chromium, server, key)
    asked = len(page.requested)
    page.select_option("#period", "custom")
    page.fill("#from", "2026-03-10")
    page.fill("#to", "2026-03-01")
    page.wait_for_selector("#range-error:not([hidden])")
    assert page.text_content("#range-error") == "The start date is after the end date."
    assert page.locator("[role=alert]:visible").count() == 1  # one message, not one per panel
    assert page.is_hidden("#cards") and page.is_hidden("#daily-chart")  # no numbers of another window
    assert [url for url in page.requested[asked:] if "/analytics/overview" in url] == []
    with page.expect_response(
        lambda response: "/analytics/overview?" in response.url and "to=2026-03-20" in response.url
    ):
        page.fill("#to", "2026-03-20")
    page.wait_for_selector("#range-error", state="hidden")
    assert page.is_visible("#cards")
    assert page.problems == []
    page.context.close()


def test_a_lead_s_other_fields_read_as_names_and_values(chromium: Any, server: RunningServer) -> None:
    lead = httpx.post(f"{server.base_url}/lead.capture", json={
        "submission_id": "fields-0001", "email": "f@example.com", "fields": {"budget": "$10k", "seats": 12},
    }, timeout=10).json()  # fmt: skip
    key = cli_output("keys", "create", "fields", "--quiet", database=server.database).strip()
    page = open_dashboard(chromium, server, key)
    page.click(f"#leads button[data-lead='{lead['lead_id']}']")
    page.wait_for_selector("#lead-detail[open]")
    names = texts(page, "#lead-fields dt")
    values = texts(page, "#lead-fields dd")
    shown = dict(zip(names, values, strict=True))
    assert shown["budget"] == "$10k" and shown["seats"] == "12"
    assert "Other fields" not in names and "{" not in "".join(values)
    assert page.problems == []
    page.context.close()


def test_the_goals_and_funnel_panels_show_the_api_s_numbers(
    chromium: Any, seeded: tuple[RunningServer, str]
) -> None:
    """`demo seed` adds sample goals and a funnel: the panels draw what the API answers."""
    server, key = seeded
    page = open_dashboard(chromium, server, key)
    goals = api(server, key, "/analytics/goals", period="30d", tz="UTC", compare="previous")["goals"]
    assert len(goals) == 4 and any(goal["conversions"] for goal in goals)
    rows = {}
    for goal in goals:
        cells = texts(page, f"#goals tr[data-goal-row='{goal['name']}'] td")
        rows[goal["name"]] = cells[:3]
    assert rows == {g["name"]: [g["name"], f"{g['visitors']:,}", f"{g['conversions']:,}"] for g in goals}
    funnel = api(server, key, "/analytics/funnel", name="Pricing to signup", period="30d", tz="UTC")
    assert funnel["steps"][0]["visitors"] > funnel["steps"][-1]["visitors"] > 0
    wait_for(lambda: len(texts(page, "#funnel .step")) == 3, what="the funnel")
    drawn = texts(page, "#funnel .step .num")
    assert [text.split(" visitors")[0] for text in drawn] == [f"{s['visitors']:,}" for s in funnel["steps"]]
    assert len(texts(page, "#funnel .dropoff")) == 2
    assert page.problems == []


def test_the_leads_section_shows_attribution_won_deals_forms_and_touches(
    chromium: Any, seeded: tuple[RunningServer, str]
) -> None:
    """The demo's leads come from returning visitors and carry CRM stages: each panel draws the
    API's numbers, the model switch and the tabs ask again, and a lead's page marks its touches."""
    server, key = seeded
    page = open_dashboard(chromium, server, key)
    window = {"period": "30d", "tz": "UTC"}
    for model, dimension in (("last", "source"), ("first", "source"), ("linear", "utm_campaign")):
        if model != "last":
            page.select_option("#attribution-model", model)
        if dimension != "source":
            page.click(f"#attribution-tabs [data-dimension={dimension}]")
        report = api(
            server, key, "/analytics/attribution", model=model, dimension=dimension, limit=20, **window
        )
        assert report["rows"]
        first = report["rows"][0]
        value = "(none)" if first["value"] is None else first["value"]
        cell = f"#attribution tr[data-value='{value}'] td[data-metric=leads]"
        leads = first["leads"]
        shown = f"{int(leads):,}" if float(leads).is_integer() else f"{leads:,.2f}".rstrip("0").rstrip(".")
        wait_for(lambda cell=cell, shown=shown: texts(page, cell) == [shown], what=f"{model} by {dimension}")
    assert "model=linear" in page.url and "by=utm_campaign" in page.url
    won = api(server, key, "/analytics/attribution", model="linear", dimension="utm_campaign",
              metrics="won,revenue,leads", order="won:desc", limit=10, **window)["rows"]  # fmt: skip
    winners = [row for row in won if row["won"] > 0]
    assert winners, "the demo has won deals"
    wait_for(lambda: len(texts(page, "#won li[data-campaign]")) == len(winners), what="won by campaign")
    assert all("EUR" in text for text in texts(page, "#won li[data-campaign]"))
    forms = api(server, key, "/analytics/forms", limit=10, **window)["rows"]
    drawn = texts(page, "#forms .form-funnel[data-form] h3")
    assert [text.split(" ")[0] for text in drawn] == [row["value"] for row in forms]
    seen = texts(page, f"#forms .form-funnel[data-form='{forms[0]['value']}'] .step .num")
    assert seen[0].split(" ")[0] == f"{forms[0]['views']:,}"
    # A returning visitor's lead: its page says where it came from and marks those sessions.
    listed = api(server, key, "/analytics/leads", limit=100, **window)["leads"]
    lead = next(item for item in listed if item["touches"] and item["touches"] > 1 and item["stage"])
    page.evaluate("id => document.querySelector(`button[data-lead='${id}']`)?.click()", lead["lead_id"])
    if not page.locator("#lead-detail[open]").count():  # not on the first page of the list
        page.evaluate("id => { const b = document.createElement('button'); b.dataset.lead = id;"
                      " document.querySelector('#leads tbody').append(b); b.click(); }", lead["lead_id"])  # fmt: skip
    page.wait_for_selector("#lead-detail[open]")
    wait_for(lambda: texts(page, "#lead-attribution dd[data-pair='Touches']") == [str(lead["touches"])],
             what="the lead's touches")  # fmt: skip
    assert texts(page, "#lead-attribution dd[data-pair='First touch']")[0].startswith(
        lead["first_touch"]["source"]
    )
    assert lead["stage"] in texts(page, "#lead-attribution dd[data-pair='CRM stage']")[0]
    roles = page.locator("#lead-timeline > li[data-role]:not([data-role=''])").count()
    assert roles == lead["touches"]
    assert page.problems == []
