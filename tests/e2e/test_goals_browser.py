"""Goals and funnels end to end in real Chromium: a tagged link and a tagged button on the demo site
(no code), goals and a funnel defined with the CLI while the server runs, read back through
/analytics/goals and /analytics/funnel and on the dashboard."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.browser import DESKTOP_CHROME
from tests.e2e.demo_site_server import DemoSite
from tests.e2e.running_server import RunningServer
from tests.e2e.test_dashboard import open_dashboard, texts
from tests.helpers import cli, wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture
def site(server: RunningServer) -> Iterator[DemoSite]:
    with DemoSite(server.base_url) as demo:
        yield demo


def test_a_tagged_link_and_button_convert_on_their_goals(
    server: RunningServer, site: DemoSite, chromium: Any
) -> None:
    for args in (
        ("goals", "add", "Demo booked", "--event", "Book demo"),
        ("goals", "add", "Brochure", "--event", "Download brochure", "--prop", "format=txt"),
        ("goals", "add", "Pro brochure", "--event", "Download brochure", "--prop", "format=pdf"),
        ("funnels", "add", "Brochure then demo", "--step", "page:/index.html", "--step", "goal:Brochure",
         "--step", "goal:Demo booked"),
    ):  # fmt: skip
        done = cli(*args, database=server.database)  # live: the server holds the file
        assert done.returncode == 0, done.stderr
    key = cli("keys", "create", "goals", "--quiet", database=server.database).stdout.strip()

    context = chromium.new_context(accept_downloads=True, user_agent=DESKTOP_CHROME)  # not a bot
    page = context.new_page()
    page.goto(f"{site.base_url}/index.html")
    wait_for(lambda: page.evaluate("sessionStorage.getItem('pulsegate_session')"), what="the session")
    with page.expect_download():
        page.click("a[download]")  # data-pulse-event="Download brochure" data-pulse-prop-format="txt"
    page.click("#book-demo")  # data-pulse-event="Book demo": no JavaScript on the page for it
    page.close(run_before_unload=True)  # the queued events go with the session's end

    def goals() -> dict[str, tuple[int, int, float | None]]:
        response = httpx.get(f"{server.base_url}/analytics/goals", headers={"X-API-Key": key}, timeout=10)
        assert response.status_code == 200, response.text
        return {
            g["name"]: (g["visitors"], g["conversions"], g["conversion_rate"])
            for g in response.json()["goals"]
        }

    # The browser stays open until they arrive: closing it can cut the end's request in flight
    # (it did once, on a loaded CI machine).
    converted = wait_for(lambda: (found := goals())["Demo booked"][1] == 1 and found, what="the conversions")
    context.close()
    assert converted == {"Brochure": (1, 1, 100.0), "Demo booked": (1, 1, 100.0), "Pro brochure": (0, 0, 0.0)}
    funnel = httpx.get(
        f"{server.base_url}/analytics/funnel",
        params={"name": "Brochure then demo"},
        headers={"X-API-Key": key},
    ).json()
    assert [step["visitors"] for step in funnel["steps"]] == [1, 1, 1]

    # The dashboard: the Goals panel, a click on a goal filters by it, the funnel's steps.
    dashboard = open_dashboard(chromium, server, key)
    wait_for(lambda: len(texts(dashboard, "#goals tbody tr[data-goal-row]")) == 3, what="the goals panel")
    row = texts(dashboard, "#goals tbody tr[data-goal-row='Demo booked'] td")
    assert row[:3] == ["Demo booked", "1", "1"] and row[3].startswith("100%")
    steps = texts(dashboard, "#funnel .step")
    assert len(steps) == 3 and all("1 visitors" in step for step in steps), steps
    assert "Brochure then demo" in texts(dashboard, "#funnel-name option")
    dashboard.click("#goals button[data-goal='Demo booked']")
    dashboard.wait_for_selector("#chips .chip[data-filter='goal==Demo booked']")
    assert "filter=goal%3D%3DDemo+booked" in dashboard.url  # the view lives in the URL
    wait_for(
        lambda: texts(dashboard, "#cards [data-metric=visitors] .value") == ["1"], what="the filtered cards"
    )
    assert dashboard.problems == []
