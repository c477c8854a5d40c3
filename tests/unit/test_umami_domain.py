"""Umami's rows as native sessions (pulsegate/domain/umami.py), on the documented example rows."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import msgspec
import pytest

from pulsegate.domain import umami
from pulsegate.domain.umami import ResumePoint, UmamiRow, UmamiWebsite

SITE = UmamiWebsite("aaaaaaaa-0000-4000-8000-000000000001", "Example", "example.org")
VISIT = "22222222-0000-4000-8000-000000000001"
SESSION = "11111111-0000-4000-8000-000000000001"


def us(text: str) -> int:
    moment = datetime.fromisoformat(text).replace(tzinfo=UTC)
    return int(moment.timestamp()) * 1_000_000 + moment.microsecond


def row(**fields: object) -> UmamiRow:
    base = UmamiRow(
        visit_id=VISIT, session_id=SESSION, created_us=us("2024-03-01 09:15:02.123"), event_type=1,
        url_path="/", url_query=None, hostname="example.org", page_title="Home", referrer_domain=None,
        referrer_path=None, referrer_query=None, utm_source=None, utm_medium=None, utm_campaign=None,
        utm_content=None, utm_term=None, event_name=None, data=None, browser="chrome", os="Windows 10",
        device="laptop", screen="1920x1080", language="en-US", country="DE",
    )  # fmt: skip
    return replace(base, **fields)  # type: ignore[arg-type]


# import-formats.md 2.10: a page view from Google with UTM tags, internal navigation, a custom event.
EXAMPLE = [
    row(url_query="utm_source=newsletter&utm_medium=email", utm_source="newsletter", utm_medium="email",
        referrer_domain="google.com", referrer_path="/search", referrer_query="q=example"),
    row(created_us=us("2024-03-01 09:16:30"), url_path="/pricing", page_title="Pricing, plans",
        referrer_domain="example.org", referrer_path="/"),
    row(created_us=us("2024-03-01 09:17:05"), url_path="/pricing", page_title="Pricing, plans", event_type=2,
        event_name="signup", referrer_domain="example.org", referrer_path="/",
        data=[("cart.total", "19.9000", 19.9, 2), ("plan", "pro", None, 1), ("trial", "true", None, 3)]),
]  # fmt: skip


def test_the_documented_visit_becomes_one_ended_session_with_its_events() -> None:
    session = umami.session_of_visit(SITE, EXAMPLE)
    assert session.session_id == f"umami-{VISIT}" and session.visitor_id == f"umami-{SESSION}"
    assert session.started_us == EXAMPLE[0].created_us and session.last_us == EXAMPLE[2].created_us
    assert session.entry_url == "https://example.org/?utm_source=newsletter&utm_medium=email"
    assert session.exit_url == "https://example.org/pricing"
    assert session.referrer == "https://google.com/search?q=example"
    assert (session.source, session.referrer_host) == ("newsletter", "google.com")  # UTM wins, as native
    assert (session.utm_source, session.utm_medium, session.utm_campaign) == ("newsletter", "email", None)
    assert (session.page_views, session.interactions) == (2, 1)
    assert (session.browser, session.os, session.device) == ("Chrome", "Windows", "desktop")
    assert (session.screen_width, session.screen_height, session.language, session.country) == (
        1920, 1080, "en-US", "DE"
    )  # fmt: skip
    assert [(e.type, e.name) for e in session.events] == [
        ("pageview", None),
        ("pageview", None),
        ("custom", "signup"),
    ]
    assert json.loads(session.events[2].props or "") == {"cart.total": 19.9, "plan": "pro", "trial": True}
    assert session.events[1].referrer == "https://example.org/" and session.events[0].props is None


def test_a_referrer_on_the_site_itself_is_direct_and_names_no_host() -> None:
    for host in ("example.org", "www.example.org"):
        session = umami.session_of_visit(SITE, [row(referrer_domain=host, referrer_path="/a")])
        assert (session.source, session.referrer_host) == ("Direct", None)
    # The website's domain counts as the site too, when the event names another host.
    session = umami.session_of_visit(SITE, [row(hostname="shop.example.net", referrer_domain="example.org")])
    assert (session.source, session.referrer_host) == ("Direct", None)
    session = umami.session_of_visit(
        SITE, [row(referrer_domain="news.ycombinator.com", referrer_path="/item")]
    )
    assert (session.source, session.referrer_host) == ("Hacker News", "news.ycombinator.com")


def test_utm_fields_come_from_the_query_string_when_the_columns_are_null() -> None:
    old = row(url_query="utm_source=google&utm_campaign=spring%20sale&utm_term=caf%C3%A9")
    session = umami.session_of_visit(SITE, [old])
    assert (session.utm_source, session.utm_campaign, session.utm_term) == ("google", "spring sale", "café")
    assert session.source == "Google"
    # A column that is set wins over the query (Umami decoded it), and an empty one is no value.
    newer = replace(old, utm_source="Newsletter", utm_campaign="")
    session = umami.session_of_visit(SITE, [newer])
    assert (session.utm_source, session.utm_campaign, session.utm_term) == ("Newsletter", None, "café")


def test_the_landing_event_is_the_first_page_view_else_the_first_event() -> None:
    custom_first = [row(event_type=2, event_name="consent", url_path="/a"), row(url_path="/b")]
    session = umami.session_of_visit(SITE, custom_first)
    assert session.entry_url == "https://example.org/b" and session.started_us == custom_first[0].created_us
    only_custom = umami.session_of_visit(SITE, [row(event_type=2, event_name="ping", url_path="/c")])
    assert only_custom.entry_url == "https://example.org/c"
    assert (only_custom.exit_url, only_custom.page_views) == (None, 0)


@pytest.mark.parametrize(
    ("host", "path", "query", "url"),
    [
        ("example.org", "/docs#install", "a=1", "https://example.org/docs?a=1#install"),
        ("example.org", "", None, "https://example.org/"),
        (None, "/x", None, "/x"),
        (None, "", "q=1", "/?q=1"),
        ("example.org", "blog/🚀", None, "https://example.org/blog/🚀"),
    ],
)
def test_page_urls_put_the_query_before_the_fragment(
    host: str | None, path: str, query: str | None, url: str
) -> None:
    assert umami.page_url(host, path, query) == url


def test_a_page_without_a_host_takes_the_website_s_domain() -> None:
    session = umami.session_of_visit(SITE, [row(hostname=None, url_path="/p")])
    assert session.entry_url == "https://example.org/p"
    bare = UmamiWebsite("b", "No domain", None)
    assert umami.session_of_visit(bare, [row(hostname=None, url_path="/p")]).entry_url == "/p"


@pytest.mark.parametrize(
    ("browser", "device", "expected"),
    [("chrome", "desktop", "Chrome"), ("chrome", "mobile", "Chrome Mobile"), ("chrome", "tablet", "Chrome"),
     ("ios", "mobile", "Mobile Safari"), ("crios", "mobile", "Chrome Mobile iOS"), ("edge-chromium", None, "Edge"),
     ("samsung", "mobile", "Samsung Internet"), ("firefox", "mobile", "Firefox Mobile"), ("brave", None, "brave"),
     (None, "mobile", None), ("searchbot", None, None)],
)  # fmt: skip
def test_browser_names_are_ua_parser_families(
    browser: str | None, device: str | None, expected: str | None
) -> None:
    assert umami.browser_name(browser, device) == expected


@pytest.mark.parametrize(
    ("os", "expected"),
    [("Windows 10", "Windows"), ("Windows 7", "Windows"), ("Windows Mobile", "Windows Phone"),
     ("Mac OS", "Mac OS X"), ("Android OS", "Android"), ("iOS", "iOS"), ("Linux", "Linux"), (None, None)],
)  # fmt: skip
def test_operating_systems_are_ua_parser_families(os: str | None, expected: str | None) -> None:
    assert umami.os_name(os) == expected


def test_devices_screens_and_project_names() -> None:
    assert [umami.device_class(d) for d in ("desktop", "laptop", "mobile", "tablet", "smarttv", None)] == [
        "desktop", "desktop", "mobile", "tablet", "unknown", "unknown"
    ]  # fmt: skip
    assert umami.screen_size("390x844") == (390, 844)
    assert (
        umami.screen_size("junk") == umami.screen_size(None) == umami.screen_size("9999999x1") == (None, None)
    )
    assert umami.project_name(UmamiWebsite("abcdef12-x", "Blog", "https://www.Example.org/")) == "example.org"
    assert umami.project_name(UmamiWebsite("abcdef12-x", "My blog ✨ (2024)", None)) == "My-blog-2024"
    assert umami.project_name(UmamiWebsite("abcdef12-x", "✨", "")) == "umami-abcdef12"


def test_event_data_becomes_properties_under_native_limits() -> None:
    data = [
        ("seats", "2.0000", 2.0, 2), ("price", "19.9000", None, 2), ("on", "false", None, 3),
        ("when", "2024-02-28T12:00:00.000Z", None, 4), ("tags", '["a","b"]', None, 5),
        ("k" * 65, "too long a key", None, 1), ("empty", None, None, 1),
    ]  # fmt: skip
    assert json.loads(umami.event_props(data) or "") == {
        "seats": 2, "price": 19.9, "on": False, "when": "2024-02-28T12:00:00.000Z", "tags": '["a","b"]'
    }  # fmt: skip
    many = [(f"key{n}", "v", None, 1) for n in range(40)]
    assert len(json.loads(umami.event_props(many) or "")) == 30
    assert umami.event_props(None) is None and umami.event_props([("k" * 65, "x", None, 1)]) is None


def visit(visit_id: str, start: int, events: int, path: str = "/") -> list[UmamiRow]:
    return [row(visit_id=visit_id, created_us=start + n, url_path=path) for n in range(events)]


def test_batches_hold_whole_visits_and_end_at_the_last_visit_s_place() -> None:
    rows = visit("v1", 100, 3) + visit("v2", 100, 2) + visit("v3", 200, 1)
    batches = list(umami.visit_batches(SITE, rows, max_visits=2))
    assert [[s.session_id for s in b.sessions] for b in batches] == [["umami-v1", "umami-v2"], ["umami-v3"]]
    assert [b.resume for b in batches] == [ResumePoint(100, "v2"), ResumePoint(200, "v3")]
    assert [b.rows for b in batches] == [5, 1] and all(b.dropped_rows == 0 for b in batches)
    assert ResumePoint(100, "v2") < ResumePoint(100, "v3") < ResumePoint(101, "a")
    assert list(umami.visit_batches(SITE, [])) == []


def test_batches_stay_under_their_size_and_a_huge_visit_keeps_its_first_events() -> None:
    long_path = "/" + "🚀" * 499
    rows = visit("small", 1, 2) + visit("huge", 2, 400, long_path) + visit("after", 3, 1)
    batches = list(umami.visit_batches(SITE, rows, max_bytes=100_000))
    for batch in batches:
        assert sum(len(msgspec.json.encode(s)) for s in batch.sessions) <= 100_000
    huge = next(s for b in batches for s in b.sessions if s.session_id == "umami-huge")
    assert 0 < len(huge.events) < 400 and huge.page_views == len(huge.events)
    assert [e.at_us for e in huge.events] == list(range(2, 2 + len(huge.events)))  # the earliest kept
    assert sum(b.dropped_rows for b in batches) == 400 - len(huge.events)
    assert sum(b.rows for b in batches) == 403
    assert [s.session_id for b in batches for s in b.sessions] == ["umami-small", "umami-huge", "umami-after"]


def test_a_visit_whose_rows_come_apart_is_one_session_of_a_batch() -> None:
    # The same visit id twice, with another visit between (the rows of one clock hour read in two
    # windows): one session with every event, in time order, where the visit first came.
    rows = visit("v1", 100, 2) + visit("v2", 150, 1) + visit("v1", 300, 2, "/later") + visit("v3", 400, 1)
    (batch,) = umami.visit_batches(SITE, rows)
    assert [s.session_id for s in batch.sessions] == ["umami-v1", "umami-v2", "umami-v3"]
    v1 = batch.sessions[0]
    assert [e.at_us for e in v1.events] == [100, 101, 300, 301]
    assert (v1.started_us, v1.last_us, v1.page_views, v1.exit_url) == (
        100,
        301,
        4,
        "https://example.org/later",
    )
    assert (batch.rows, batch.dropped_rows, batch.resume) == (6, 0, ResumePoint(400, "v3"))
    # Within the batch's size: the merged visit keeps its earliest events that fit.
    long_path = "/" + "🚀" * 499
    rows = visit("v1", 1, 40, long_path) + visit("v2", 200, 1) + visit("v1", 300, 40, long_path)
    batches = list(umami.visit_batches(SITE, rows, max_bytes=150_000))
    sessions = [s for b in batches for s in b.sessions]
    assert [s.session_id for s in sessions] == ["umami-v1", "umami-v2"]
    for batch in batches:
        assert sum(len(msgspec.json.encode(s)) for s in batch.sessions) <= 150_000
    assert len(batches) == 1 and 40 < len(sessions[0].events) < 80
    assert [e.at_us for e in sessions[0].events][:41] == [*range(1, 41), 300]
    assert batches[0].dropped_rows == 80 - len(sessions[0].events) and batches[0].rows == 81


@pytest.mark.parametrize(
    ("url", "hidden"),
    [
        ("postgresql://admin:s3cret@db/umami", ["s3cret"]),
        ("postgresql://admin:s3%40cret@db/umami", ["s3%40cret", "s3@cret"]),  # percent-encoded
        ("postgresql://admin:s3c@ret@db/umami", ["s3c@ret", "s3c", "ret"]),  # libpq ends it at the first @
        ("postgresql://admin:ab/s3cret@db/umami", ["ab/s3cret", "s3cret"]),  # libpq reads ab as a port
        ("postgresql://admin@db/umami?sslmode=require&password=s3cret", ["s3cret"]),
        ("postgresql://admin:x@db/umami", ["x"]),
        ("postgresql://admin@db/umami", []),
    ],
)
def test_a_connection_url_s_password_never_shows_in_a_message(url: str, hidden: list[str]) -> None:
    from pulsegate.store.umami_source import password_parts, scrubbed, url_scheme

    parts = password_parts(url)
    assert set(hidden) <= set(parts) and bool(parts) == bool(hidden)
    message = f"failed: {url}\n\t{' and '.join(hidden)} quoted"
    clean = scrubbed(message, url)
    assert "\n" not in clean and "admin" in clean
    for part in hidden:
        assert part not in clean
    assert url_scheme(url) == "postgresql" and url_scheme("mysql://a:b@c/d") == "mysql"
    assert url_scheme("host=db password=s3cret") is None
