"""The dashboard's reports in real Chromium: a click on a row filters every panel (each checked
against the API with the same filter), chips remove filters, the view lives in the URL, panels
switch tabs, the details view searches, pages and downloads CSV, custom events open their
properties, and the chart draws any metric with a dashed comparison."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from tests.e2e.running_server import RunningServer
from tests.e2e.test_dashboard import ARTIFACTS, api, open_dashboard, seeded, texts  # noqa: F401 (a fixture)
from tests.helpers import wait_for

pytestmark = pytest.mark.e2e
WINDOW = {"period": "30d", "tz": "UTC"}


def breakdown(
    server: RunningServer, key: str, dimension: str, metrics: str, filters: list[str], **more: Any
) -> Any:
    return api(server, key, "/analytics/breakdown", dimension=dimension, metrics=metrics, filter=filters,
               limit=10, **WINDOW, **more)  # fmt: skip


def assert_every_panel_shows(page: Any, server: RunningServer, key: str, filters: list[str]) -> None:
    """Cards, chart, panels, engagement and leads: each one the API's answer for `filters`."""
    current = api(server, key, "/analytics/overview", filter=filters, **WINDOW)["current"]
    wait_for(
        lambda: page.text_content("[data-metric=sessions] .value") == f"{current['sessions']:,}", page=page
    )
    for metric in ("visitors", "page_views", "leads"):
        assert page.text_content(f"[data-metric={metric}] .value") == f"{current[metric]:,}", metric
    days = api(server, key, "/analytics/timeseries", metrics="sessions,visitors", filter=filters, **WINDOW)
    total = sum(bucket["sessions"] for bucket in days["buckets"])
    page.mouse.move(1, 1)
    wait_for(lambda: page.text_content("#daily-chart .readout") == f"{total:,} sessions in {len(days['buckets'])} days",
             page=page)  # fmt: skip
    panels = {"sources": ("source", "sessions"), "pages": ("page", "pageviews"), "devices": ("browser", "sessions"),
              "events": ("event", "events")}  # fmt: skip
    for table, (dimension, metric) in panels.items():
        rows = breakdown(server, key, dimension, metric, filters)["rows"]
        wait_for(lambda t=table, r=rows, m=metric: texts(page, f"#{t} tbody td.num") == [f"{row[m]:,}" for row in r],
                 page=page)  # fmt: skip
    countries = breakdown(server, key, "country", "sessions", filters)["rows"]
    assert texts(page, "#countries tbody td.num") == [f"{row['sessions']:,}" for row in countries]
    engagement = api(server, key, "/analytics/engagement", filter=filters, **WINDOW)
    assert page.text_content("#engagement-summary").startswith(
        f"{engagement['scored_sessions']:,} scored sessions"
    )
    leads = api(server, key, "/analytics/leads", filter=filters, limit=20, page=1, **WINDOW)
    assert page.text_content("#leads-page").endswith(f"{leads['total']:,} leads in this period")


def test_a_click_on_a_row_filters_every_panel_and_a_chip_removes_it(
    chromium: Any,
    seeded: tuple[RunningServer, str],  # noqa: F811
) -> None:
    server, key = seeded
    page = open_dashboard(chromium, server, key)
    unfiltered = api(server, key, "/analytics/overview", **WINDOW)["current"]["sessions"]
    country = breakdown(server, key, "country", "sessions", [])["rows"][1]["value"]  # the second country
    page.click("#countries tbody button >> nth=1")
    wait_for(lambda: texts(page, "#chips .chip > span:first-child") != [], page=page)
    assert len(texts(page, "#chips .chip")) == 1 and f"filter=country%3D%3D{country}" in page.url
    assert_every_panel_shows(page, server, key, [f"country=={country}"])

    # A second filter from another panel: both hold.
    browser = breakdown(server, key, "browser", "sessions", [f"country=={country}"])["rows"][0]["value"]
    page.click("#devices tbody button >> nth=0")
    wait_for(lambda: len(texts(page, "#chips .chip")) == 2, page=page)
    assert_every_panel_shows(page, server, key, [f"country=={country}", f"browser=={browser}"])

    # Removing the first chip leaves the second.
    page.click("#chips .chip >> nth=0 >> button")
    wait_for(lambda: len(texts(page, "#chips .chip")) == 1, page=page)
    assert "country" not in page.url
    assert_every_panel_shows(page, server, key, [f"browser=={browser}"])
    page.click("#chips .chip button")
    wait_for(lambda: page.text_content("[data-metric=sessions] .value") == f"{unfiltered:,}", page=page)
    assert page.is_hidden("#chips") and "filter=" not in page.url
    assert page.problems == []
    page.context.close()


def test_the_view_is_in_the_url_and_a_reload_restores_it(
    chromium: Any,
    seeded: tuple[RunningServer, str],  # noqa: F811
) -> None:
    server, key = seeded
    page = open_dashboard(chromium, server, key)
    page.click("#sources tbody button >> nth=0")
    wait_for(lambda: len(texts(page, "#chips .chip")) == 1, page=page)
    page.select_option("#compare", "previous")
    page.select_option("#chart-metric", "leads")
    page.select_option("#chart-interval", "week")
    wait_for(lambda: page.text_content("#daily-title") == "Leads per week", page=page)
    source = breakdown(server, key, "source", "sessions", [])["rows"][0]["value"]
    for part in (f"filter=source%3D%3D{source}", "compare=previous", "metric=leads", "interval=week"):
        assert part in page.url, part
    filters = [f"source=={source}"]
    series = api(server, key, "/analytics/timeseries", metrics="leads", interval="week", compare="previous",
                 filter=filters, **WINDOW)  # fmt: skip
    assert page.locator("#daily-chart rect.bar").count() == len(series["buckets"])
    assert page.locator("#daily-chart polyline.comparison").count() == 1  # the earlier period, dashed
    cards = [page.text_content(f"[data-metric={m}] .value") for m in ("sessions", "visitors", "leads")]

    page.reload()
    page.wait_for_selector("body[data-loaded=true]")
    assert texts(page, "#chips .chip > span:first-child") == [f"Source is {source}"]
    assert page.input_value("#compare") == "previous" and page.input_value("#chart-metric") == "leads"
    assert (
        page.input_value("#chart-interval") == "week"
        and page.text_content("#daily-title") == "Leads per week"
    )
    assert [
        page.text_content(f"[data-metric={m}] .value") for m in ("sessions", "visitors", "leads")
    ] == cards
    page.mouse.move(1, 1)
    total = sum(bucket["leads"] for bucket in series["buckets"])
    assert page.text_content("#daily-chart .readout") == f"{total:,} leads in {len(series['buckets'])} weeks"
    assert page.problems == []
    page.context.close()


def test_tabs_details_search_paging_and_csv(chromium: Any, seeded: tuple[RunningServer, str]) -> None:  # noqa: F811
    server, key = seeded
    page = open_dashboard(chromium, server, key, accept_downloads=True)
    page.click("#panel-pages [role=tab]:has-text('Entry')")
    entries = breakdown(server, key, "entry_page", "sessions,visitors,leads,conversion_rate", [])["rows"]
    wait_for(lambda: texts(page, "#pages tbody td.name") == [row["value"] for row in entries], page=page)
    assert texts(page, "#pages thead th") == ["Entry", "Entries"] and "tab.pages=1" in page.url
    page.reload()  # the chosen tab is part of the view
    page.wait_for_selector("body[data-loaded=true]")
    assert texts(page, "#pages tbody td.name") == [row["value"] for row in entries]
    assert page.get_attribute("#panel-pages [role=tab]:has-text('Entry')", "aria-selected") == "true"

    page.click("#panel-pages .details-open")
    page.wait_for_selector("#details[open]")
    metrics = "visitors,sessions,bounce_rate,avg_engaged_ms,leads,conversion_rate"
    first = api(
        server,
        key,
        "/analytics/breakdown",
        dimension="entry_page",
        metrics=metrics,
        limit=20,
        page=1,
        **WINDOW,
    )
    wait_for(lambda: page.text_content("#details-page") == f"Page 1 of {-(-first['total_rows'] // 20)} · "
             f"{first['total_rows']:,} rows", page=page)  # fmt: skip
    assert texts(page, "#details-table tbody td.name") == [row["value"] for row in first["rows"]]
    if first["total_rows"] > 20:
        page.click("#details-next")
        second = api(server, key, "/analytics/breakdown", dimension="entry_page", metrics=metrics, limit=20, page=2,
                     **WINDOW)  # fmt: skip
        wait_for(
            lambda: texts(page, "#details-table tbody td.name") == [r["value"] for r in second["rows"]],
            page=page,
        )
    page.fill("#details-q", "DOCS")  # contains, whatever the case
    searched = api(server, key, "/analytics/breakdown", dimension="entry_page", metrics=metrics, limit=20,
                   filter=["entry_page~DOCS"], **WINDOW)  # fmt: skip
    assert searched["rows"], "the demo site has /docs pages"
    wait_for(
        lambda: texts(page, "#details-table tbody td.name") == [r["value"] for r in searched["rows"]],
        page=page,
    )
    with page.expect_download() as download:
        page.click("#details-csv")
    rows = list(csv.reader(io.StringIO(download.value.path().read_text())))
    assert rows[0] == ["value", *metrics.split(",")]
    assert [row[0] for row in rows[1:]] == [r["value"] for r in searched["rows"]]
    assert [int(row[2]) for row in rows[1:]] == [r["sessions"] for r in searched["rows"]]

    # A value in the details view filters the dashboard, as on the panel.
    page.click("#details-table tbody button >> nth=0")
    wait_for(lambda: texts(page, "#chips .chip > span:first-child") == [f"Entry page is {searched['rows'][0]['value']}"],
             page=page)  # fmt: skip
    assert page.is_hidden("#details")
    page.screenshot(path=ARTIFACTS / "filtered-desktop-light.png", full_page=True)
    assert page.problems == []
    page.context.close()


def test_a_custom_event_opens_its_properties(chromium: Any, seeded: tuple[RunningServer, str]) -> None:  # noqa: F811
    server, key = seeded
    page = open_dashboard(chromium, server, key)
    events = breakdown(server, key, "event", "events,visitors", [])["rows"]
    assert {"Signup", "Pricing toggle"} <= {row["value"] for row in events}
    page.click("#events tbody button:has-text('Signup')")
    page.wait_for_selector("#details[open]")
    keys = [
        p["key"] for p in api(server, key, "/analytics/properties", event="Signup", **WINDOW)["properties"]
    ]
    wait_for(lambda: texts(page, "#details-properties button") == keys, page=page)
    plans = api(server, key, "/analytics/breakdown", dimension=f"prop:{keys[0]}", metrics="visitors,events",
                filter=["event==Signup"], limit=20, **WINDOW)["rows"]  # fmt: skip
    wait_for(lambda: texts(page, "#details-table tbody td.name") == [r["value"] for r in plans], page=page)
    assert texts(page, "#details-table tbody td.num:nth-child(3)") == [f"{r['events']:,}" for r in plans]
    page.screenshot(path=ARTIFACTS / "event-properties-desktop-light.png")
    page.click("#details-table tbody button >> nth=0")  # filters by the event and that value
    wait_for(lambda: len(texts(page, "#chips .chip")) == 2, page=page)
    assert texts(page, "#chips .chip > span:first-child") == [
        "Event is Signup",
        f"Property {keys[0]} is {plans[0]['value']}",
    ]
    assert_every_panel_shows(page, server, key, ["event==Signup", f"prop:{keys[0]}=={plans[0]['value']}"])
    assert page.problems == []
    page.context.close()
