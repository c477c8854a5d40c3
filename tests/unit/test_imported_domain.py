"""The pure rules of imports: Plausible's file names and values, which file a report adds, how it adds."""

from __future__ import annotations

from datetime import date

import pytest

from pulsegate.domain import imported, plausible_export
from pulsegate.domain.periods import Window
from pulsegate.domain.reports import dimension, parse_filters
from pulsegate.errors import InvalidInput


def test_file_names_are_read_with_or_without_the_prefix() -> None:
    found = plausible_export.parse_file_name("imported_entry_pages_20240101_20240331.csv")
    assert (found.kind, found.first_day, found.last_day, found.skipped) == (
        "entry_pages",
        date(2024, 1, 1),
        date(2024, 3, 31),
        False,
    )
    assert plausible_export.parse_file_name("devices_20240101_20240131.csv").kind == "devices"
    assert plausible_export.parse_file_name("imported_custom_props_20240101_20240131.csv").skipped
    for bad in ("my_data.csv", "imported_pages.csv", "imported_hours_20240101_20240131.csv",
                "imported_pages_20240131_20240101.csv", "imported_pages_20240101_20240131.txt"):  # fmt: skip
        with pytest.raises(InvalidInput):
            plausible_export.parse_file_name(bad)


def test_values_are_put_in_pulsegate_s_words() -> None:
    sources = plausible_export.KINDS["sources"]
    row = plausible_export.stored_row(
        sources,
        {"date": "2024-03-01", "source": "", "referrer": "www.Google.com/search", "visitors": "3"},
        "f",
        2,
    )
    assert row is not None and (row["source"], row["referrer"], row["visitors"], row["visits"]) == (
        "Direct",
        "google.com",
        3,
        0,
    )
    for given, named in (("Twitter", "X"), ("google.com", "Google"), ("duckduckgo", "DuckDuckGo"),
                         ("my-blog.example", "my-blog.example")):  # fmt: skip
        assert plausible_export.source_name(given) == named
    devices = plausible_export.KINDS["devices"]
    assert (
        plausible_export.stored_row(devices, {"date": "2024-03-01", "device": "Laptop"}, "f", 2)["device"]
        == "desktop"
    )  # type: ignore[index]
    systems = plausible_export.KINDS["operating_systems"]
    assert (
        plausible_export.stored_row(systems, {"date": "2024-03-01", "operating_system": "Mac"}, "f", 2)["os"]
        == "Mac OS X"
    )  # type: ignore[index]
    events = plausible_export.KINDS["custom_events"]
    assert plausible_export.stored_row(events, {"date": "2024-03-01", "name": "engagement"}, "f", 2) is None
    link = plausible_export.stored_row(
        events, {"date": "2024-03-01", "name": "File Download", "link_url": "https://x.org/a.pdf"}, "f", 2
    )
    assert link is not None and (link["download"], link.get("event")) == ("https://x.org/a.pdf", None)
    entries = plausible_export.KINDS["entry_pages"]
    entry = plausible_export.stored_row(
        entries, {"date": "2024-03-01", "entry_page": "/", "entrances": "7"}, "f", 2
    )
    assert entry is not None and entry["visits"] == 7  # entrances are the visits of this file
    with pytest.raises(InvalidInput, match="line 9: visitors"):
        plausible_export.stored_row(sources, {"date": "2024-03-01", "visitors": "1.5"}, "f", 9)


def test_a_report_adds_the_one_file_that_carries_its_dimension_and_filters() -> None:
    def plan(by: str | None, *filters: str, interval: str | None = None) -> imported.Plan:
        return imported.plan(dimension(by) if by else None, parse_filters(filters), ["visitors", "leads"],
                             interval=interval)  # fmt: skip

    assert plan(None).kind == "visitors" and plan(None).native_only == ("leads",)
    assert plan("utm_campaign", "source==Google").kind == "sources"
    assert plan(None, "country==DE").kind == "locations"
    assert plan("project").kind == "visitors"
    assert plan("page", "project==a").kind == "pages"
    assert plan("page", "browser==Chrome").kind is None
    assert plan("language").reason == "the imported data has no language breakdown"
    assert plan("source", "screen==Mobile").kind is None
    assert plan(None, interval="hour").kind is None and plan(None, interval="week").kind == "visitors"
    assert imported.plan(None, (), ["visitors"], include=False).reason == "include_imported=false"
    # A page or event filter: one value's rows, and only the metrics those rows can say.
    one_page = plan(None, "page==/pricing")
    assert one_page.kind == "pages" and one_page.usable == {"visitors", "sessions"}
    assert plan(None, "page==/a|/b").kind is None and plan(None, "page~blog").kind is None
    assert plan("page", "page==/a|/b").kind == "pages"  # the rows are the pages themselves
    assert plan("page", "page!=/a").kind is None and plan(None, "event!=Signup").kind is None


def test_a_day_counts_where_its_noon_falls() -> None:
    # 3 to 5 March in Berlin; noon of the 2nd and of the 6th are outside.
    berlin = Window(1709420400000, 1709679600000, "Europe/Berlin")
    assert imported.imported_days(berlin) == (date(2024, 3, 3), date(2024, 3, 5))
    # A window of an hour holds no noon.
    assert imported.imported_days(Window(1709420400000, 1709424000000, "UTC")) is None
    held = imported.held_range((date(2024, 3, 3), date(2024, 3, 5)), [(date(2024, 3, 4), date(2024, 4, 1))])
    assert held is not None and (held.first_day, held.last_day) == (date(2024, 3, 4), date(2024, 3, 5))
    assert (
        imported.held_range((date(2024, 3, 3), date(2024, 3, 5)), [(date(2024, 1, 1), date(2024, 3, 2))])
        is None
    )


def test_numbers_add_and_rates_are_weighted_by_sessions() -> None:
    own = {"visitors": 4, "sessions": 5, "pageviews": 10, "events": 12, "bounce_rate": 40.0,
           "views_per_session": 2.0, "avg_engaged_ms": 900.0, "leads": 1}  # fmt: skip
    sums = imported.DailySums(visitors=3, visits=5, pageviews=20, bounces=1, events=0)
    merged = imported.add_imported(own, sums, imported.plan(dimension("source"), (), list(own)), list(own))
    assert (merged["visitors"], merged["sessions"], merged["pageviews"], merged["events"]) == (7, 10, 30, 32)
    assert merged["bounce_rate"] == pytest.approx((40.0 * 5 + 100 * 1) / 10)
    assert merged["views_per_session"] == pytest.approx((2.0 * 5 + 20) / 10)
    assert (merged["avg_engaged_ms"], merged["leads"]) == (900.0, 1)  # PulseGate's own only
    nothing = {"visitors": 0, "sessions": 0, "bounce_rate": None}
    alone = imported.add_imported(
        nothing, sums, imported.plan(dimension("device"), (), list(nothing)), list(nothing)
    )
    assert alone["bounce_rate"] == pytest.approx(20.0)
    by_event = imported.plan(dimension("event"), (), ["visitors", "events"])
    events = imported.add_imported({"visitors": 0, "events": 2}, imported.DailySums(events=5), by_event,
                                   ["visitors", "events"])  # fmt: skip
    assert events["events"] == 7


def test_merged_rows_rank_as_the_sql_does() -> None:
    rows = [{"value": "b", "n": 2}, {"value": None, "n": 2}, {"value": "a", "n": 2}, {"value": "c", "n": None},
            {"value": "d", "n": 5}]  # fmt: skip
    page, total = imported.rank_rows(rows, "n", True, 3, 0)
    assert total == 5 and [row["value"] for row in page] == ["d", "a", "b"]
    rest, _ = imported.rank_rows(rows, "n", True, 3, 3)
    assert [row["value"] for row in rest] == [None, "c"]
    ascending, _ = imported.rank_rows(rows, "n", False, None, 0)
    assert [row["value"] for row in ascending] == ["a", "b", None, "d", "c"]
