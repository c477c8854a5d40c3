"""Lead attribution against a plain-Python reference on random multi-session journeys: each lead's
touches (lookback edges, all-Direct journeys, bots, another project's sessions, session-less
leads), the CRM's stages, and GET /analytics/attribution by model and dimension, with spam,
filters and scoped keys; also when every lead's attribution was lost to a crash between its two
commits and the sweep stored it afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar.testing import TestClient

from pulsegate.app import create_app
from pulsegate.config import load_settings
from pulsegate.domain.timestamps import now_ms
from pulsegate.services.attribution import IN_FLIGHT_MS
from tests.api.attribution_reference import (
    Visit,
    expected,
    journeys,
    outcome,
    report,
    store_visits,
)
from tests.helpers import (
    app_cursor,
    app_rows,
    app_runtime,
    chdb_url,
    copy_everything,
    new_api_key,
    on_engine,
    served_key,
    wait_for,
)  # fmt: skip

CALLBACK = "attribution-callback-secret"
SETTINGS = (
    {"lookback_days": 30, "last_touch": "last_non_direct", "cross_visit": True},
    {"lookback_days": 90, "last_touch": "last", "cross_visit": True},
    {"lookback_days": 90, "last_touch": "last_non_direct", "cross_visit": False},
    {"lookback_days": 90, "last_touch": "last_non_direct", "cross_visit": True},  # swept
)
SWEPT = 3  # the world whose attribution rows are all left to the sweep


def captured(
    folder: Path, attribution: dict[str, Any], seed: int, *, swept: bool = False, clickhouse: str = ""
) -> Iterator[tuple[Any, ...]]:
    """The leads of random journeys captured by a server on DuckDB (on ClickHouse with a
    `clickhouse` URL): its client, settings, journeys and visits."""
    storage = {"database": str(folder / "attribution.duckdb"), "rollup_interval_seconds": 0}
    if clickhouse:
        storage["engine"] = "clickhouse"
    config = load_settings(None, environ={}, overrides={
        "storage": storage, "attribution": attribution, "crm": {"callback_secret": CALLBACK},
        "rate_limits": {"enabled": False}, "clickhouse": {"url": clickhouse} if clickhouse else {},
    })  # fmt: skip
    with TestClient(create_app(config)) as client:
        made = journeys(seed, now_ms(), 40, attribution["lookback_days"])
        visits = [visit for journey in made for visit in journey.visits]
        with app_cursor(client) as cursor:
            store_visits(cursor, visits)
        attributions = app_runtime(client).leads.attributions
        if swept:  # as if the server died after each lead's commit, before its attribution's
            attributions.queue = lambda place, lead_id, origin: attributions.give_up(place)  # type: ignore[method-assign]
        for journey in made:
            lead = {"submission_id": f"journey-{seed}-{journey.n:04d}", "email": f"p{journey.n}@example.com",
                    "project": journey.project, "page_url": journey.page_url, "elapsed_ms": 9000}  # fmt: skip
            if journey.converting is not None:
                lead["session_id"] = journey.converting.session_id
            if journey.n % 3 == 0:  # a page's visitor id that is not the session's: the session wins
                lead["visitor_id"] = f"not-the-visitor-{journey.n}"
            if journey.spam:
                lead["website"] = "http://spam.example"
            receipt = client.post("/lead.capture", json=lead)
            assert receipt.status_code == 200, receipt.text
            journey.lead_id, journey.lead_ms = receipt.json()["lead_id"], receipt.json()["timestamp"]
            for stage in journey.stages:
                answer = client.post("/lead.capture/crm-callback", json={"lead_id": journey.lead_id, **stage},
                                     headers={"Authorization": f"Bearer {CALLBACK}"})  # fmt: skip
                assert answer.status_code == 200, answer.text
        if swept:
            with app_cursor(client) as cursor:
                assert cursor.execute("SELECT count(*) FROM lead_attribution").fetchall() == [(0,)]
            assert client.blocking_portal.call(attributions.sweep) == 0  # captures may be under way
            later = now_ms() + IN_FLIGHT_MS + 1
            assert client.blocking_portal.call(attributions.sweep, later) == len(made)
            assert client.blocking_portal.call(attributions.sweep, later) == 0  # once is enough
        yield client, config, made, visits


ON_CLICKHOUSE = len(SETTINGS)  # the world captured on ClickHouse, with SETTINGS[0]'s rules


@pytest.fixture(
    scope="module", params=range(len(SETTINGS) + 1),
    ids=["lookback30", "last", "no-cross-visit", "swept", "clickhouse"],
)  # fmt: skip
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Any, ...]]:
    folder = tmp_path_factory.mktemp("attribution")
    if request.param == ON_CLICKHOUSE:
        url = chdb_url("attribution_" + folder.name.replace("-", "_"))
        yield from captured(folder, SETTINGS[0], seed=1000 + request.param, clickhouse=url)
        return
    attribution = SETTINGS[request.param]
    yield from captured(folder, attribution, seed=1000 + request.param, swept=request.param == SWEPT)


def _session(touch: dict[str, Any] | None) -> str | None:
    return touch["session_id"] if touch is not None else None


def _id(visit: Visit | None) -> str | None:
    return visit.session_id if visit is not None else None


def test_each_lead_keeps_its_touches_as_the_rules_say(world: tuple[Any, ...]) -> None:
    client, config, made, _ = world
    settings = {
        name: getattr(config.attribution, name) for name in ("lookback_days", "last_touch", "cross_visit")
    }
    auth = {"X-API-Key": served_key(client)}
    for journey in made:
        want = expected(journey, **settings)
        detail = client.get(f"/analytics/leads/{journey.lead_id}", headers=auth).json()
        lead = detail["lead"]
        assert [touch["session_id"] for touch in detail["touch_list"]] == [_id(v) for v in want.touches], (
            journey.n
        )
        assert lead["touches"] == len(want.touches)
        assert detail["time_to_convert_ms"] == want.time_to_convert_ms
        if journey.converting is None:  # the submission's own touch, from its page URL
            assert lead["first_touch"] == lead["last_touch"]
            assert lead["first_touch"]["session_id"] is None
            assert lead["first_touch"]["landing_page"] == "/contact"
            hn = "utm_source=hn" in journey.page_url
            assert lead["first_touch"]["source"] == ("Hacker News" if hn else "Direct")
            assert detail["converting_session"] is None
            continue
        assert _session(lead["first_touch"]) == _id(want.first), journey.n
        assert _session(lead["last_touch"]) == _id(want.last), journey.n
        assert lead["first_touch"]["click_ids"] == want.first.click_ids  # type: ignore[union-attr]
        assert lead["first_touch"]["utm_campaign"] == want.first.utm_campaign  # type: ignore[union-attr]
        assert detail["converting_session"]["engagement_score"] == journey.converting.score
        assert detail["from_hosting"] is journey.converting.is_hosting
        _, stage, value, currency = outcome(journey)
        assert (lead["stage"], lead["stage_value"], lead["stage_currency"]) == (stage, value, currency)
        assert [entry["stage"] for entry in detail["stages"]] == [s["stage"].lower() for s in journey.stages]


def test_the_attribution_report_agrees_with_the_reference(world: tuple[Any, ...]) -> None:
    client, config, made, visits = world
    auth = {"X-API-Key": served_key(client)}
    scoped = {"X-API-Key": served_key(client, "acme")}
    agrees_with_the_reference(client, config, made, visits, auth, scoped)


def test_on_clickhouse_the_report_of_the_same_leads_agrees_too(
    world: tuple[Any, ...], unique_database: str
) -> None:
    """The leads captured on DuckDB, copied into ClickHouse (chDB) as `storage copy` does, and the
    report asked of a server on ClickHouse."""
    client, config, made, visits = world
    if config.storage.engine == "clickhouse":
        pytest.skip("captured on ClickHouse already")
    auth = {"X-API-Key": served_key(client)}
    scoped = {"X-API-Key": served_key(client, "acme")}  # made before the copy, which carries them
    url = chdb_url(unique_database)
    with app_cursor(client) as cursor:
        copy_everything(cursor, url)
    on_clickhouse = load_settings(None, environ={}, overrides={
        "storage": {"engine": "clickhouse", "rollup_interval_seconds": 0}, "clickhouse": {"url": url},
        "attribution": msgspec.structs.asdict(config.attribution), "rate_limits": {"enabled": False},
    })  # fmt: skip
    with TestClient(create_app(on_clickhouse)) as served:
        agrees_with_the_reference(served, config, made, visits, auth, scoped)


def agrees_with_the_reference(
    client: TestClient[Any], config: Any, made: list[Any], visits: list[Visit],
    auth: dict[str, str], scoped: dict[str, str],
) -> None:  # fmt: skip
    settings = {
        name: getattr(config.attribution, name) for name in ("lookback_days", "last_touch", "cross_visit")
    }
    window = (min(j.lead_ms for j in made) - 7 * 86_400_000, max(j.lead_ms for j in made) + 1)
    cases = [
        ("first", "source", auth, None, None),
        ("last", "utm_campaign", auth, None, None),
        ("linear", "source", auth, None, None),
        ("linear", "landing_page", scoped, ("acme",), None),
        ("first", "country", auth, None, "DE"),
        ("last", "device", scoped, ("acme",), "US"),
    ]
    for model, dimension, key, projects, country in cases:
        params = {"model": model, "dimension": dimension, "from": str(window[0]), "to": str(window[1]),
                  "limit": "100"}  # fmt: skip
        if country:
            params["filter"] = f"country=={country}"
        answer = client.get("/analytics/attribution", params=params, headers=key)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        want = report(made, visits, settings, model, dimension, window, projects, country)
        got = {row["value"]: row for row in body["rows"]}
        assert set(got) == set(want), (model, dimension)
        assert body["total_rows"] == len(want)
        for value, expected_row in want.items():
            row = got[value]
            for name, number in expected_row.items():
                if name == "revenue":
                    assert {r["currency"]: r["amount"] for r in row["revenue"]} == pytest.approx(number)
                elif number is None:
                    assert row[name] is None, (model, dimension, value, name)
                else:
                    assert row[name] == pytest.approx(number), (model, dimension, value, name)
        ranked = [row["leads"] for row in body["rows"]]
        assert ranked == sorted(ranked, reverse=True)


def test_linear_credit_adds_up_to_the_leads(world: tuple[Any, ...]) -> None:
    client, _, made, _ = world
    auth = {"X-API-Key": served_key(client)}
    period = {"period": "7d"}
    totals = {}
    for model in ("first", "last", "linear"):
        rows = client.get("/analytics/attribution", params={**period, "model": model, "limit": "100"},
                          headers=auth).json()["rows"]  # fmt: skip
        totals[model] = sum(row["leads"] for row in rows)
    real = sum(1 for journey in made if not journey.spam)
    assert totals == pytest.approx({"first": real, "last": real, "linear": real})


def test_a_scoped_key_never_sees_another_project_s_leads(world: tuple[Any, ...]) -> None:
    client, _, made, _ = world
    scoped = {"X-API-Key": served_key(client, "globex")}
    rows = client.get("/analytics/attribution", params={"model": "first", "period": "7d", "limit": "100"},
                      headers=scoped).json()["rows"]  # fmt: skip
    assert sum(row["leads"] for row in rows) == sum(
        1 for journey in made if journey.project == "globex" and not journey.spam
    )
    acme_lead = next(journey for journey in made if journey.project == "acme")
    assert client.get(f"/analytics/leads/{acme_lead.lead_id}", headers=scoped).status_code == 404


def test_bad_parameters_are_refused_with_a_reason(world: tuple[Any, ...]) -> None:
    client, _, _, _ = world
    auth = {"X-API-Key": served_key(client)}
    for params, named in (
        ({"model": "u-shaped"}, "model"),
        ({"dimension": "browser"}, "dimension"),
        ({"metrics": "leads,profit"}, "metrics"),
        ({"order": "revenue"}, "order"),
        ({"order": "leads:sideways"}, "order"),
    ):
        answer = client.get("/analytics/attribution", params=params, headers=auth)
        assert answer.status_code == 400 and answer.json()["error"].startswith(named), params
    assert client.get("/analytics/attribution").status_code == 401


@pytest.mark.parametrize("engine", ["duckdb", "clickhouse"])
def test_the_page_s_visitor_id_finds_the_same_touches(
    make_settings: Any, engine: str, unique_database: str
) -> None:
    """form.js sends the tracker's visitor id with the lead: its visits are read beside the lead's
    session. The right id, a wrong one and none give the same touches."""
    settings = on_engine(make_settings, engine, unique_database)(rate_limits={"enabled": False})
    with TestClient(create_app(settings)) as client:
        headers = {"X-Visitor-ID": "raw-visitor-1"}
        first = client.post("/track/session/start", headers=headers,
                            json={"url": "https://a.example/?utm_source=google&utm_campaign=spring"}).json()  # fmt: skip
        client.post("/track/session/end", json={"session_id": first["session_id"]})
        last = client.post(
            "/track/session/start", headers=headers, json={"url": "https://a.example/x"}
        ).json()
        found = {}
        for n, page_id in enumerate(("raw-visitor-1", "raw-visitor-2", None)):
            lead: dict[str, Any] = {"submission_id": f"hint-{n:05d}", "email": f"h{n}@example.com",
                                    "session_id": last["session_id"], "elapsed_ms": 9000}  # fmt: skip
            if page_id:
                lead["visitor_id"] = page_id
            receipt = client.post("/lead.capture", json=lead).json()
            detail = client.get(f"/analytics/leads/{receipt['lead_id']}",
                                headers={"X-API-Key": served_key(client)}).json()  # fmt: skip
            found[page_id] = [(t["session_id"], t["utm_campaign"]) for t in detail["touch_list"]]
            assert receipt["visitor_id"] == last["visitor_id"]
    want = [(first["session_id"], "spring"), (last["session_id"], None)]
    assert found == {"raw-visitor-1": want, "raw-visitor-2": want, None: want}


def test_a_server_starting_stores_the_attribution_a_crash_left_out(tmp_path: Path) -> None:
    storage = {"database": str(tmp_path / "crash.duckdb"), "rollup_interval_seconds": 0}
    config = load_settings(
        None, environ={}, overrides={"storage": storage, "rate_limits": {"enabled": False}}
    )
    page = "https://acme.example/contact?utm_source=hn&utm_campaign=launch"
    with TestClient(create_app(config)) as client:
        attributions = app_runtime(client).leads.attributions
        attributions.queue = lambda place, lead_id, origin: attributions.give_up(place)  # type: ignore[method-assign]
        receipt = client.post("/lead.capture", json={"submission_id": "crash-lead-1", "email": "c@example.com",
                                                     "page_url": page, "elapsed_ms": 9000})  # fmt: skip
        assert receipt.status_code == 200, receipt.text
        with app_cursor(client) as cursor:
            assert cursor.execute("SELECT count(*) FROM lead_attribution").fetchall() == [(0,)]
    with TestClient(create_app(config)) as client:  # the sweep runs as the server starts
        lead_id = receipt.json()["lead_id"]
        stored = wait_for(lambda: app_rows(client, "SELECT touches, touch_list[1].source, "
                                                     "touch_list[1].utm_campaign FROM lead_attribution"),
                          what="the sweep")  # fmt: skip
        assert stored == [(1, "Hacker News", "launch")]  # the page's UTM tags: no session was known
        detail = client.get(f"/analytics/leads/{lead_id}", headers={"X-API-Key": new_api_key(config)}).json()
        assert detail["lead"]["first_touch"]["utm_campaign"] == "launch"


def test_a_form_started_reads_the_visitor_ahead_and_the_lead_still_sees_every_session(
    make_settings: Any,
) -> None:
    """The tracker's form_start reads the visitor's sessions before the lead arrives; a session the
    visitor starts after that read (another tab) is still a touch of the lead."""
    with TestClient(create_app(make_settings(rate_limits={"enabled": False}))) as client:
        headers = {"X-Visitor-ID": "raw-visitor-ahead"}

        def start(campaign: str) -> str:
            url = f"https://a.example/?utm_source=mail&utm_campaign={campaign}"
            answer = client.post("/track/session/start", headers=headers, json={"url": url})
            assert answer.status_code == 200, answer.text
            return str(answer.json()["session_id"])

        first = start("first")
        client.post("/track/session/end", json={"session_id": first})
        form = start("form")
        started = client.post("/track/event", json={"session_id": form, "type": "form_start", "name": "contact",
                                                     "url": "https://a.example/contact"})  # fmt: skip
        assert started.status_code == 200, started.text
        histories = app_runtime(client).leads.histories
        assert histories is not None
        known = wait_for(lambda: histories.known(form), what="the read ahead")
        assert {found.touch.session_id for found in known.sessions} == {first, form}
        other_tab = start("other-tab")  # after the read ahead
        receipt = client.post("/lead.capture", json={"submission_id": "ahead-lead-1", "email": "a@example.com",
                                                     "session_id": form, "visitor_id": "raw-visitor-ahead",
                                                     "elapsed_ms": 9000})  # fmt: skip
        assert receipt.status_code == 200, receipt.text
        detail = client.get(f"/analytics/leads/{receipt.json()['lead_id']}",
                            headers={"X-API-Key": new_api_key(app_runtime(client).settings)}).json()  # fmt: skip
    touches = [(t["session_id"], t["utm_campaign"]) for t in detail["touch_list"]]
    assert touches == [(first, "first"), (form, "form"), (other_tab, "other-tab")]
    assert detail["lead"]["first_touch"]["session_id"] == first
    assert detail["lead"]["last_touch"]["session_id"] == other_tab  # the latest that is not Direct


@pytest.mark.parametrize("engine", ["duckdb", "clickhouse"])
def test_a_lead_from_an_open_session_keeps_its_running_totals(
    make_settings: Any, engine: str, unique_database: str
) -> None:
    """The converting session's summary at capture comes from the open session (the stored row has
    none until the session ends): the pages it has seen so far."""
    settings = on_engine(make_settings, engine, unique_database)(rate_limits={"enabled": False})
    with TestClient(create_app(settings)) as client:
        session = client.post("/track/session/start", json={"url": "https://a.example/"}).json()["session_id"]
        pages = ["https://a.example/pricing", "https://a.example/about", "https://a.example/contact"]
        for url in pages:
            answer = client.post("/track/event", json={"session_id": session, "type": "pageview", "url": url})
            assert answer.status_code == 200, answer.text
        receipt = client.post("/lead.capture", json={"submission_id": "open-lead-1", "email": "o@example.com",
                                                     "session_id": session, "elapsed_ms": 9000})  # fmt: skip
        detail = client.get(f"/analytics/leads/{receipt.json()['lead_id']}",
                            headers={"X-API-Key": served_key(client)}).json()  # fmt: skip
    # The session's start is its first page view; then one for each page event.
    assert detail["converting_session"]["page_views"] == 1 + len(pages)
    assert detail["converting_session"]["landing_page"] == "/"
