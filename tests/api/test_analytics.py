"""The analytics API against fixture traffic whose expected numbers are counted in the test."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from litestar.testing import TestClient

from pulsegate.app import create_app
from pulsegate.config import Settings
from pulsegate.domain.timestamps import now_ms, utc_datetime
from pulsegate.ops import keys
from pulsegate.ops.keys import RevokeKey
from pulsegate.ops.runner import run_operation
from tests.api import analytics_fixture as fx
from tests.api.reports_reference import ENGINES
from tests.helpers import app_cursor, app_runtime, engine_settings, reload_keys, served_key

START, END = datetime(2026, 3, 3), datetime(2026, 3, 8)  # from=2026-03-03 to=2026-03-07, UTC
WINDOW = {"from": "2026-03-03", "to": "2026-03-07"}
ROUTES = [
    "overview",
    "sessions/daily",
    "pages/top",
    "geo",
    "engagement",
    "sources",
    "realtime",
    "storage",
    "projects",
]


@pytest.fixture(scope="module")
def fixture_data() -> fx.Fixture:
    return fx.build()


def serve_fixture(
    folder: Path, fixture_data: fx.Fixture, engine: str
) -> Iterator[tuple[TestClient[Any], Settings]]:
    # The fixture writes history by hand, under a running server: its rollup job stays off, so
    # event reports read raw events (tests/store/test_rollup.py covers the rollup).
    settings = engine_settings(folder, engine, rollup_interval_seconds=0)
    with TestClient(create_app(settings)) as client:
        with app_cursor(client) as cursor:
            fx.insert(cursor, fixture_data)
        yield client, settings


@pytest.fixture(scope="module", params=ENGINES)
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, fixture_data: fx.Fixture
) -> Iterator[tuple]:
    """One server on the fixture for the read-only tests (they only add keys), on each engine."""
    yield from serve_fixture(tmp_path_factory.mktemp("analytics"), fixture_data, request.param)


@pytest.fixture(params=ENGINES)
def served_alone(request: pytest.FixtureRequest, tmp_path: Path, fixture_data: fx.Fixture) -> Iterator[tuple]:
    """A server of its own, for a test that adds traffic."""
    yield from serve_fixture(tmp_path, fixture_data, request.param)


def get(client: TestClient[Any], route: str, key: str, **params: str) -> Any:
    response = client.get(f"/analytics/{route}", params=params, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200, response.text
    return response.json()


def close(actual: float | None, expected: float | None) -> bool:
    if actual is None or expected is None:
        return actual is expected
    return abs(actual - expected) < 1e-6


def test_overview_and_previous_period(served: tuple, fixture_data: fx.Fixture) -> None:
    client, _ = served
    body = get(client, "overview", served_key(client), **WINDOW)
    assert body["period"] == {"from": 1772496000000, "to": 1772928000000, "tz": "UTC"}
    for name, window in (("current", (START, END)), ("previous", (START - (END - START), START))):
        expected = fx.totals(fixture_data, *window)
        got = body[name]
        assert {k: got[k] for k in ("sessions", "visitors", "events", "page_views", "leads")} == {
            k: expected[k] for k in ("sessions", "visitors", "events", "page_views", "leads")
        }, name
        assert close(got["average_engaged_ms"], expected["average_engaged_ms"])
        assert close(got["bounce_rate"], expected["bounce_rate"])
    assert body["current"]["sessions"] > 100  # the fixture is not trivially empty


def test_daily_sessions_in_tokyo_are_zero_filled(served: tuple, fixture_data: fx.Fixture) -> None:
    client, _ = served
    body = get(
        client,
        "sessions/daily",
        served_key(client),
        **{"from": "2026-03-04", "to": "2026-03-05", "tz": "Asia/Tokyo"},
    )
    start, end = datetime(2026, 3, 3, 15), datetime(2026, 3, 5, 15)  # Tokyo midnights in UTC
    expected = fx.daily(fixture_data, start, end, "Asia/Tokyo", [date(2026, 3, 4), date(2026, 3, 5)])
    assert body["days"] == expected
    # The 23:30 UTC session of the 4th counts on the 5th in Tokyo.
    edge = next(s for s in fixture_data.sessions if s.session_id == "s-0400")
    assert edge.started_at.date() == date(2026, 3, 4)
    utc_days = get(
        client, "sessions/daily", served_key(client), **{"from": "2026-03-04", "to": "2026-03-05"}
    )["days"]
    assert utc_days == fx.daily(fixture_data, datetime(2026, 3, 4), datetime(2026, 3, 6), "UTC",
                                [date(2026, 3, 4), date(2026, 3, 5)])  # fmt: skip
    assert utc_days != body["days"]


def test_daily_zero_fills_days_without_traffic(served: tuple) -> None:
    client, _ = served
    days = get(client, "sessions/daily", served_key(client), **{"from": "2026-04-01", "to": "2026-04-03"})[
        "days"
    ]
    assert days == [{"date": f"2026-04-0{d}", "sessions": 0, "visitors": 0} for d in (1, 2, 3)]


def test_top_pages(served: tuple, fixture_data: fx.Fixture) -> None:
    client, _ = served
    expected = fx.pages(fixture_data, START, END)
    body = get(client, "pages/top", served_key(client), **WINDOW)
    assert [(p["path"], p["views"]) for p in body["pages"]] == [(p["path"], p["views"]) for p in expected]
    for got, want in zip(body["pages"], expected, strict=True):
        assert close(got["average_engaged_ms"], want["average_engaged_ms"])
        assert abs(got["visitors"] - want["visitors"]) <= max(
            1, want["visitors"] * 0.05
        )  # approximate by design
    second = get(client, "pages/top", served_key(client), limit="2", page="2", **WINDOW)
    assert [p["path"] for p in second["pages"]] == [p["path"] for p in expected[2:4]]
    assert (second["page"], second["limit"]) == (2, 2)


def test_geo(served: tuple, fixture_data: fx.Fixture) -> None:
    client, _ = served
    body = get(client, "geo", served_key(client), **WINDOW)
    expected = fx.geo(fixture_data, START, END)
    assert [(c["country"], c["sessions"], c["visitors"]) for c in body["countries"]] == [
        (c["country"], c["sessions"], c["visitors"]) for c in expected
    ]
    assert all(close(g["share"], e["share"]) for g, e in zip(body["countries"], expected, strict=True))
    assert body["total_sessions"] == sum(c["sessions"] for c in expected)


def test_engagement(served: tuple, fixture_data: fx.Fixture) -> None:
    client, _ = served
    body = get(client, "engagement", served_key(client), **WINDOW)
    expected = fx.engagement(fixture_data, START, END)
    assert body["buckets"] == expected["buckets"]
    assert body["scored_sessions"] == expected["scored_sessions"]
    assert close(body["mean"], expected["mean"]) and close(body["median"], expected["median"])


def test_sources_with_leads_and_conversion(served: tuple, fixture_data: fx.Fixture) -> None:
    client, _ = served
    body = get(client, "sources", served_key(client), **WINDOW)
    expected = fx.sources(fixture_data, START, END)
    assert [(s["source"], s["sessions"], s["visitors"], s["leads"]) for s in body["sources"]] == [
        (s["source"], s["sessions"], s["visitors"], s["leads"]) for s in expected
    ]
    assert all(
        close(g["conversion_rate"], e["conversion_rate"])
        for g, e in zip(body["sources"], expected, strict=True)
    )
    assert sum(s["leads"] for s in body["sources"]) > 0


def test_scoped_key_sees_only_its_project(served: tuple, fixture_data: fx.Fixture) -> None:
    client, _ = served
    acme = served_key(client, "acme")
    body = get(client, "overview", acme, **WINDOW)
    assert body["current"]["sessions"] == fx.totals(fixture_data, START, END, ("acme",))["sessions"]
    assert body["current"]["sessions"] < fx.totals(fixture_data, START, END)["sessions"]
    refused = client.get(
        "/analytics/overview", params={"project": "globex", **WINDOW}, headers={"X-API-Key": acme}
    )
    assert refused.status_code == 404 and "globex" in refused.json()["error"]
    storage = client.get("/analytics/storage", headers={"X-API-Key": acme})
    assert storage.status_code == 403 and "without --project" in storage.json()["error"]
    unscoped = get(client, "overview", served_key(client), project="globex", **WINDOW)
    assert unscoped["current"]["sessions"] == fx.totals(fixture_data, START, END, ("globex",))["sessions"]


def test_projects_lists_what_the_key_may_see(served: tuple, fixture_data: fx.Fixture) -> None:
    client, _ = served
    every = sorted({s.project for s in fixture_data.sessions} | {lead.project for lead in fixture_data.leads})
    assert get(client, "projects", served_key(client)) == {"values": every, "all_projects": True}
    assert get(client, "projects", served_key(client, "acme", "nowhere")) == {
        "values": ["acme"],
        "all_projects": False,
    }


@pytest.mark.parametrize("route", ROUTES)
def test_every_route_refuses_missing_wrong_and_revoked_keys(served: tuple, route: str) -> None:
    client, settings = served
    created = run_operation(settings, keys.CREATE, keys.CreateKey(name="soon revoked"))
    reload_keys(client)
    assert client.get(f"/analytics/{route}", headers={"X-API-Key": created.secret}).status_code == 200
    run_operation(settings, keys.REVOKE, RevokeKey(key_id=created.key.key_id))
    reload_keys(client)
    for headers in ({}, {"Authorization": "Bearer pgk_wrong"}, {"X-API-Key": "nope"}, {"X-API-Key": created.secret},
                    {"Authorization": "Basic dXNlcjpwYXNz"}):  # fmt: skip
        response = client.get(f"/analytics/{route}", headers=headers)
        assert response.status_code == 401, (route, headers)
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert response.headers["access-control-allow-origin"] == "*"
        assert response.json()["error"]


@pytest.mark.parametrize("route", ROUTES)
def test_preflight_needs_no_key_and_other_methods_are_405(served: tuple, route: str) -> None:
    client, _ = served
    preflight = client.options(
        f"/analytics/{route}", headers={"Origin": "https://x.example", "Access-Control-Request-Method": "GET"}
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-headers"].endswith("X-API-Key")
    assert client.post(f"/analytics/{route}").status_code == 405


@pytest.mark.parametrize(
    ("params", "named"),
    [({"period": "forever"}, "period"), ({"tz": "Nowhere/Land"}, "tz"), ({"limit": "5000"}, "limit"),
     ({"from": "garbage"}, "from"), ({"project": "bad project"}, "project")],
)  # fmt: skip
def test_bad_parameters_are_400_naming_them(served: tuple, params: dict[str, str], named: str) -> None:
    client, _ = served
    response = client.get("/analytics/pages/top", params=params, headers={"X-API-Key": served_key(client)})
    assert response.status_code == 400
    assert response.json()["error"].startswith(f"{named}:")


def test_realtime_counts_the_last_minutes(served_alone: tuple) -> None:
    client, _ = served_alone
    now = now_ms()
    rows = [  # (ms ago, session, visitor, path)
        (30_000, "rt-1", "rv-1", "/live"), (90_000, "rt-1", "rv-1", "/live"), (120_000, "rt-2", "rv-1", "/pricing"),
        (240_000, "rt-3", "rv-2", "/live"), (600_000, "rt-4", "rv-3", "/old"), (1_500_000, "rt-5", "rv-4", "/old"),
    ]  # fmt: skip
    with app_cursor(client) as cursor:
        cursor.executemany(
            "INSERT INTO events (received_at, session_id, visitor_id, type, url, path) VALUES (?, ?, ?, ?, ?, ?)",
            [
                (utc_datetime(now - ago), sid, vid, "pageview", f"https://e.com{path}", path)
                for ago, sid, vid, path in rows
            ],
        )
    body = get(client, "realtime", served_key(client))
    recent = [r for r in rows if r[0] < 5 * 60_000]
    assert body["active_sessions"] == len({r[1] for r in recent}) == 3
    assert body["active_visitors"] == len({r[2] for r in recent}) == 2
    assert body["events_last_minute"] == 1
    assert len(body["events_per_minute"]) == 30
    assert sum(m["events"] for m in body["events_per_minute"]) == 6  # all within the last 30 minutes
    assert body["top_pages"][0] == {"path": "/live", "views": 3}


def test_storage(served: tuple, fixture_data: fx.Fixture) -> None:
    client, settings = served
    on_clickhouse = settings.storage.engine == "clickhouse"
    if not on_clickhouse:
        with app_cursor(client) as cursor:
            cursor.execute("CHECKPOINT")
    body = get(client, "storage", served_key(client))
    tables = {t["table"]: t for t in body["tables"]}
    # ClickHouse keeps the sessions in session_rows (a version per start and end; one per fixture
    # session here, written whole) behind the `sessions` view.
    assert tables["session_rows" if on_clickhouse else "sessions"]["rows"] == len(fixture_data.sessions)
    assert tables["events"]["rows"] == sum(len(s.events) for s in fixture_data.sessions)
    assert tables["events"]["estimated_bytes"] > 0
    assert body["database_bytes"] > 0
    if on_clickhouse:
        assert body["database_path"] == settings.clickhouse.url  # chDB's: no password to hide
        assert body["database_bytes"] == sum(t["estimated_bytes"] for t in body["tables"])
    else:
        assert body["database_path"] == str(app_runtime(client).database.path)
    all_events = [at for s in fixture_data.sessions for at, *_ in s.events]
    assert body["oldest_event_ms"] == int(
        (min(all_events) - datetime(1970, 1, 1)) / timedelta(milliseconds=1)
    )


@pytest.mark.parametrize(("interval", "tz"), [("hour", "Asia/Kolkata"), ("day", "America/New_York"), ("week", "UTC"),
                                              ("month", "Asia/Tokyo")])  # fmt: skip
def test_timeseries_matches_a_plain_count_per_local_bucket(served: tuple, fixture_data: fx.Fixture, interval: str,
                                                           tz: str) -> None:  # fmt: skip
    client, _ = served
    params = {"from": "2026-03-03", "to": "2026-03-05", "tz": tz, "interval": interval}
    body = get(client, "timeseries", served_key(client), **params)
    zone = ZoneInfo(tz)
    start = datetime(2026, 3, 3, tzinfo=zone).astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
    end = datetime(2026, 3, 6, tzinfo=zone).astimezone(ZoneInfo("UTC")).replace(tzinfo=None)

    def bucket_of(moment: datetime) -> str:  # the reference: the local time, cut to the interval
        local = moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone).replace(tzinfo=None)
        cut = {"hour": local.replace(minute=0, second=0, microsecond=0),
               "day": local.replace(hour=0, minute=0, second=0, microsecond=0)}.get(interval)  # fmt: skip
        if interval == "week":
            cut = (local - timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
        if interval == "month":
            cut = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        assert cut is not None
        return cut.isoformat()

    expected: dict[str, list[fx.FixtureSession]] = {}
    for session in fx.humans(fixture_data, start, end, None):
        expected.setdefault(bucket_of(session.started_at), []).append(session)
    assert body["interval"] == interval
    got = {b["start"]: (b["sessions"], b["visitors"]) for b in body["buckets"] if b["sessions"]}
    assert got == {key: (len(rows), len({s.visitor_id for s in rows})) for key, rows in expected.items()}
    assert sum(b["sessions"] for b in body["buckets"]) == len(fx.humans(fixture_data, start, end, None))
    starts = [b["start"] for b in body["buckets"]]
    assert starts == sorted(starts) and len(starts) == len(set(starts))
    if interval == "hour":
        assert len(starts) == 72  # three whole local days, zero-filled


def test_timeseries_defaults_to_hours_for_today(served: tuple) -> None:
    client, _ = served
    body = get(client, "timeseries", served_key(client), period="today")
    assert body["interval"] == "hour" and 1 <= len(body["buckets"]) <= 24
