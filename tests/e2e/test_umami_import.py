"""`pulsegate import umami` against a real PostgreSQL holding Umami's tables (tests/e2e/umami_db.py).

The expected numbers come from the generated rows by plain Python (`expected_sessions`: the rules
the README ("Import from Umami") states, written out again here, with the few source, browser and OS names
the data uses spelled out by hand), then through `tests/api/reports_reference.py`, which never
runs PulseGate's SQL. The import runs through the real CLI, offline and into a running server.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import psycopg
import pytest
from litestar.testing import TestClient

from pulsegate.app import create_app
from pulsegate.config import Settings, load_settings
from pulsegate.domain.clickhouse_target import parse_target
from pulsegate.domain.goals import Goal
from pulsegate.domain.reports import parse_filters
from pulsegate.domain.umami import UmamiWebsite
from pulsegate.store import rollup
from pulsegate.store.clickhouse.store import ClickHouseStore
from pulsegate.store.database import Database
from pulsegate.store.goals import upsert_goal
from pulsegate.store.umami_source import UmamiSource, UmamiUnavailable, us_of
from tests.api import reports_reference as ref
from tests.clickhouse_endpoint import ClickHouseEndpoint
from tests.e2e.running_server import RunningServer
from tests.e2e.test_clickhouse_serve import cli_on
from tests.e2e.umami_db import (
    CURRENT_SCHEMA,
    OLD_SCHEMA,
    PRE_2_10_SCHEMA,
    START,
    UmamiData,
    by_clock_hour,
    create_database,
    fingerprint,
    generate,
    load,
    postgres_bin,
    running_postgres,
)
from tests.helpers import cli, file_rows, new_api_key

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        postgres_bin() is None,
        reason="PostgreSQL is not installed here (apt-get install postgresql; .ci/run installs it)",
    ),
]

SITE = "aaaaaaaa-0000-4000-8000-000000000001"  # example.org, the current schema
BARE = "aaaaaaaa-0000-4000-8000-000000000003"  # no domain, no hostname: its name is the project
GONE = "aaaaaaaa-0000-4000-8000-000000000002"  # deleted: left out unless named
OLD = "bbbbbbbb-0000-4000-8000-000000000001"  # Umami 2.13's schema
LEGACY = "bbbbbbbb-0000-4000-8000-000000000009"  # Umami 2.9's schema: no visit_id
EDGE_SESSION = "cccccccc-0000-4000-8000-000000000001"  # its visits across a day window's end
OTHER_SESSION = "cccccccc-0000-4000-8000-000000000002"  # a visit in between
SINCE = START + timedelta(days=2, hours=10, minutes=30)  # inside an hour of EDGE_SESSION's
WINDOW = {"from": "2025-02-25", "to": "2025-03-10", "tz": "UTC"}
START_AT, END_AT = datetime(2025, 2, 25), datetime(2025, 3, 11)

# The names PulseGate gives the values the generator uses, spelled out by hand.
SOURCE_OF_UTM = {"newsletter": "newsletter", "google": "Google"}
SOURCE_OF_REFERRER = {"google.com": "Google", "news.ycombinator.com": "Hacker News", "reddit.com": "Reddit",
                      "t.co": "X", "other-site.net": "other-site.net"}  # fmt: skip
BROWSER_OF = {"chrome": "Chrome", "ios": "Mobile Safari", "firefox": "Firefox", "edge-chromium": "Edge",
              "samsung": "Samsung Internet", "crios": "Chrome Mobile iOS", None: None}  # fmt: skip
MOBILE_BROWSER_OF = {"Chrome": "Chrome Mobile", "Firefox": "Firefox Mobile"}
OS_OF = {"Windows 10": "Windows", "Mac OS": "Mac OS X", "iOS": "iOS", "Android OS": "Android", "Linux": "Linux",
         None: None}  # fmt: skip
DEVICE_OF = {"desktop": "desktop", "laptop": "desktop", "mobile": "mobile", "tablet": "tablet",
             "smarttv": "unknown", None: "unknown"}  # fmt: skip
GOALS = (
    Goal(name="Signup", kind="event", event="signup"),
    Goal(name="Pro signup", kind="event", event="signup", prop_key="plan", prop_value="pro"),
    Goal(name="Pricing", kind="page", page="/pricing"),
    Goal(name="Blog", kind="page", page="/blog/*"),
)
SESSION_DIMENSIONS = ("source", "referrer", "utm_source", "utm_medium", "utm_campaign", "utm_term",
                      "entry_page", "exit_page", "country", "browser", "os", "device", "screen", "language")  # fmt: skip
SESSION_METRICS = ("visitors", "sessions", "pageviews", "events", "bounce_rate", "views_per_session")
EVENT_METRICS = {"page": ("visitors", "sessions", "pageviews"), "event": ("visitors", "sessions", "events"),
                 "prop:plan": ("visitors", "events")}  # fmt: skip


@dataclass
class Umami:
    current: str  # the URL of the database with Umami's current schema
    old: str  # and of the one with 2.13's
    legacy: str  # and of the one with 2.9's (no visit_id)
    data: dict[str, UmamiData]


def add_visits_across_window_edges(data: UmamiData) -> None:
    """The website's first event at 00:17, and a visit of the next day's first hour on both sides
    of 00:17 (a day window that started on that first event would end inside the visit), with
    another visit between (its two parts would not be read one after the other); a visit on
    both sides of `SINCE`."""
    website_id = data.websites[0]["website_id"]
    data.sessions.append({**data.sessions[0], "session_id": EDGE_SESSION})
    data.sessions.append({**data.sessions[1], "session_id": OTHER_SESSION})
    moments = [START - timedelta(days=1) + timedelta(minutes=17), START + timedelta(minutes=5),
               START + timedelta(minutes=30), SINCE - timedelta(minutes=10), SINCE + timedelta(minutes=10),
               START + timedelta(minutes=10)]  # fmt: skip
    for n, at in enumerate(moments):
        event_type = 2 if n == 2 else 1
        data.events.append({
            "event_id": f"cccccccc-0000-4000-8000-00000000010{n}", "website_id": website_id,
            "session_id": EDGE_SESSION if n < 5 else OTHER_SESSION, "visit_id": EDGE_SESSION, "created_at": at,
            "url_path": "/pricing" if n else "/", "url_query": None, "referrer_domain": None,
            "referrer_path": None, "referrer_query": None, "page_title": "Pricing", "event_type": event_type,
            "event_name": "signup" if event_type == 2 else None, "hostname": None,
        })  # fmt: skip
    data.event_data.append({
        "event_data_id": "cccccccc-0000-4000-8000-000000000200", "website_id": website_id,
        "website_event_id": "cccccccc-0000-4000-8000-000000000102", "data_key": "plan", "string_value": "pro",
        "number_value": None, "data_type": 1, "created_at": START,
    })  # fmt: skip


@pytest.fixture(scope="module")
def umami() -> Iterator[Umami]:
    with running_postgres() as base:
        current = create_database(base, "umami")
        site = generate(
            1, website_id=SITE, domain="example.org", hostname="example.org", sessions=60, old=False
        )
        bare = generate(2, website_id=BARE, domain=None, hostname=None, sessions=8, old=False)
        gone = generate(3, website_id=GONE, domain="gone.example", hostname=None, sessions=4, old=False)
        gone.websites[0]["deleted_at"] = START
        load(current, CURRENT_SCHEMA, [site, bare, gone])
        old_url = create_database(base, "umami_old")
        old = generate(4, website_id=OLD, domain="docs.example.org", hostname="docs.example.org", sessions=30,
                       old=True)  # fmt: skip
        load(old_url, OLD_SCHEMA, [old])
        legacy_url = create_database(base, "umami_legacy")
        legacy = generate(5, website_id=LEGACY, domain="legacy.example.org", hostname="legacy.example.org",
                          sessions=40, old=True)  # fmt: skip
        add_visits_across_window_edges(legacy)
        load(legacy_url, PRE_2_10_SCHEMA, [legacy])
        yield Umami(current, old_url, legacy_url, {"site": site, "bare": bare, "gone": gone, "old": old,
                                                   "legacy": legacy})  # fmt: skip


def new_database(folder: Path, *, rolled_up: bool) -> Path:
    """A PulseGate file with an API key; `rolled_up`: its event rollup already holds every hour
    up to now, as a server's would (an import then has to make the facts of its hours again)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "pulsegate.duckdb"
    created = cli("keys", "create", "setup", "--quiet", database=path)
    assert created.returncode == 0, created.stderr
    database = Database.open(path)
    try:
        for goal in GOALS:
            upsert_goal(database.connection, goal, datetime(2025, 1, 1))
        if rolled_up:
            rollup.catch_up(database.connection, datetime.now(UTC).replace(tzinfo=None))
            assert rollup.coverage(database.connection) is not None
    finally:
        database.close()
    return path


def import_umami(database: Path, url: str, *args: str) -> Any:
    done = cli("import", "umami", "--from", url, *args, database=database, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


# ---- the expected sessions, in plain Python ------------------------------------------------------


def page_path(url_path: str) -> str:
    path = url_path.split("#")[0]
    return path if path.startswith("/") else "/" + path


def umami_props(data: UmamiData, event_id: str) -> dict[str, Any] | None:
    props: dict[str, Any] = {}
    for row in data.event_data:
        if row["website_event_id"] == event_id:
            if row["data_type"] == 2:
                number = row["number_value"]
                props[row["data_key"]] = (
                    int(number) if number == number.to_integral_value() else float(number)
                )
            elif row["data_type"] == 3:
                props[row["data_key"]] = row["string_value"] == "true"
            else:
                props[row["data_key"]] = row["string_value"]
    return props or None


def expected_sessions(data: UmamiData, project: str, self_host: str | None) -> list[ref.Session]:
    """One session per visit of the website's page views and custom events before now."""
    website_id = data.websites[0]["website_id"]
    sessions_by_id = {row["session_id"]: row for row in data.sessions}
    visits: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in data.events:
        if event["website_id"] == website_id and event["event_type"] in (1, 2):
            visits[event["visit_id"]].append(event)
    found = []
    for visit_id, events in visits.items():
        events.sort(key=lambda e: (e["created_at"], e["event_id"]))
        if events[0]["created_at"] > datetime.now(UTC) - timedelta(hours=1):
            continue  # still going on: a later run imports it
        views = [e for e in events if e["event_type"] == 1]
        landing = views[0] if views else events[0]
        query = parse_qs(landing["url_query"] or "")
        utm = {}
        for key in ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"):
            value = landing.get(key) if landing.get(key) is not None else (query.get(key) or [None])[0]
            utm[key] = value or None
        referrer = landing["referrer_domain"]
        internal = referrer is None or referrer == self_host
        if utm["utm_source"]:
            source = SOURCE_OF_UTM[utm["utm_source"]]
        else:
            source = "Direct" if internal else SOURCE_OF_REFERRER[referrer]
        umami_session = sessions_by_id[landing["session_id"]]
        browser = BROWSER_OF[umami_session["browser"]]
        if umami_session["device"] == "mobile":
            browser = MOBILE_BROWSER_OF.get(browser, browser)
        screen = re.fullmatch(r"(\d+)x(\d+)", umami_session["screen"] or "")
        session = ref.Session(
            session_id=f"umami-{visit_id}", visitor_id=landing["session_id"], project=project,
            started_at=events[0]["created_at"].replace(tzinfo=None), is_bot=False, ended=True,
            values={"source": source, "referrer_host": None if internal else referrer, **utm,
                    "country": umami_session["country"], "browser": browser, "os": OS_OF[umami_session["os"]],
                    "device": DEVICE_OF[umami_session["device"]],
                    "screen_width": int(screen.group(1)) if screen else None,
                    "language": umami_session["language"]},
            entry_url="https://x" + page_path(landing["url_path"]), engaged_ms=0, score=None,
        )  # fmt: skip
        for event in events:
            custom = event["event_type"] == 2
            session.events.append(
                ref.Event(
                    event["created_at"].replace(tzinfo=None), "custom" if custom else "pageview",
                    path=page_path(event["url_path"]), name=event["event_name"] if custom else None,
                    props=umami_props(data, event["event_id"]) if custom else None,
                )
            )  # fmt: skip
        found.append(session)
    return found


def funnel_visitors(sessions: list[ref.Session], steps: list[Goal]) -> list[int]:
    """Visitors whose session went through the steps in order (from the step's first moment,
    each next step strictly later): GET /analytics/funnel within=session."""
    reached: list[set[str]] = [set() for _ in steps]
    for session in sessions:
        moments = []
        for goal in steps:
            single = ref.Session(**{**session.__dict__, "events": []})
            found = []
            for event in session.events:
                single.events = [event]
                if ref.goal_hits(single, goal, START_AT, END_AT):
                    found.append(int(event.at.replace(tzinfo=UTC).timestamp() * 1000))
            moments.append(found)
        if not moments[0]:
            continue
        at = min(moments[0])
        reached[0].add(session.visitor_id)
        for n in range(1, len(steps)):
            later = [m for m in moments[n] if m > at]
            if not later:
                break
            at = min(later)
            reached[n].add(session.visitor_id)
    return [len(visitors) for visitors in reached]


# ---- comparing the reports --------------------------------------------------------------------------


def store_settings(database: Path, clickhouse_url: str | None = None) -> Settings:
    """The settings of the DuckDB file `database`, or of the ClickHouse store at `clickhouse_url`."""
    storage: dict[str, Any] = {"database": str(database), "rollup_interval_seconds": 0}
    overrides: dict[str, Any] = {"storage": storage}
    if clickhouse_url is not None:
        storage["engine"] = "clickhouse"
        overrides["clickhouse"] = {"url": clickhouse_url}
    return load_settings(None, environ={}, overrides=overrides)


def same(got: Any, want: Any, where: str) -> None:
    if want is None or got is None:
        assert got == want, where
    else:
        assert got == pytest.approx(want), where


def check_reports(
    database: Path, sessions: list[ref.Session], project: str, clickhouse_url: str | None = None
) -> dict[str, Any]:
    """Every report of `project` in the window against the reference over `sessions`; returns
    the goals' answers and the funnel's steps (so a test can see they counted something)."""
    data = ref.Traffic(sessions, [])
    filters = [f"project=={project}"]
    parsed = list(parse_filters(filters))
    settings = store_settings(database, clickhouse_url)
    # Made before the app starts, which reads the keys then (on ClickHouse, again only later).
    headers = {"Authorization": f"Bearer {new_api_key(settings)}"}
    with TestClient(create_app(settings)) as client:

        def ask(route: str, params: list[tuple[str, str]]) -> Any:
            response = client.get(f"/analytics/{route}", params=[*WINDOW.items(), *params], headers=headers)
            assert response.status_code == 200, response.text
            return response.json()

        overview = ask("overview", [("filter", f) for f in filters])["current"]
        (totals,) = ref.session_breakdown(data, parsed, START_AT, END_AT, None).values()
        assert (overview["sessions"], overview["visitors"], overview["page_views"], overview["events"]) == (
            totals["sessions"], totals["visitors"], totals["pageviews"], totals["events"]
        )  # fmt: skip
        same(100 * overview["bounce_rate"], totals["bounce_rate"], "bounce rate")  # a share here, % in rows
        assert overview["average_engaged_ms"] is None  # Umami never recorded it

        for name in (*SESSION_DIMENSIONS, *EVENT_METRICS):
            metrics = EVENT_METRICS.get(name, SESSION_METRICS)
            answer = ask("breakdown", [("dimension", name), ("metrics", ",".join(metrics)), ("limit", "1000"),
                                       *(("filter", f) for f in filters)])  # fmt: skip
            expected = ref.breakdown(data, parsed, START_AT, END_AT, name)
            got = {row["value"]: row for row in answer["rows"]}
            assert set(got) == set(expected), name
            for value, row in got.items():
                for metric in metrics:
                    same(row[metric], expected[value][metric], f"{name}={value}: {metric}")

        goals = {goal["name"]: goal for goal in ask("goals", [("filter", f) for f in filters])["goals"]}
        for goal in GOALS:
            visitors, conversions = ref.goal_report(data, parsed, START_AT, END_AT, goal)
            assert (goals[goal.name]["visitors"], goals[goal.name]["conversions"]) == (visitors, conversions)

        steps = ["page:/", "page:/pricing", "event:signup"]
        funnel = ask(
            "funnel",
            [("step", s) for s in steps] + [("within", "session")] + [("filter", f) for f in filters],
        )
        step_goals = [Goal(name="/", kind="page", page="/"), Goal(name="/pricing", kind="page", page="/pricing"),
                      Goal(name="signup", kind="event", event="signup")]  # fmt: skip
        assert [step["visitors"] for step in funnel["steps"]] == funnel_visitors(sessions, step_goals)
    return {"goals": goals, "funnel": [step["visitors"] for step in funnel["steps"]]}


# ---- the tests -----------------------------------------------------------------------------------------


def test_every_report_of_an_imported_website_agrees_with_plain_python(umami: Umami, tmp_path: Path) -> None:
    database = new_database(tmp_path, rolled_up=True)
    before = fingerprint(umami.current)
    started = time.monotonic()
    done = import_umami(database, umami.current, "--json")
    elapsed = time.monotonic() - started
    results = {item["website_id"]: item for item in json.loads(done.stdout)}
    assert set(results) == {SITE, BARE}  # the deleted website only when named
    site = expected_sessions(umami.data["site"], "example.org", "example.org")
    bare = expected_sessions(umami.data["bare"], "Site-2", None)
    assert results[SITE]["project"] == "example.org" and results[BARE]["project"] == "Site-2"
    assert results[SITE]["sessions"] == len(site) and results[SITE]["complete"] is True
    assert results[SITE]["events"] == sum(len(s.events) for s in site) and results[SITE]["skipped"] == 0
    assert fingerprint(umami.current) == before  # nothing written to Umami
    print(f"imported {len(site) + len(bare)} visits in {elapsed:.1f}s")

    counted = check_reports(database, site, "example.org")
    assert counted["goals"]["Pro signup"]["conversions"] > 0 and counted["goals"]["Blog"]["visitors"] > 0
    assert counted["funnel"][-1] > 0  # the reference is not vacuous
    check_reports(database, bare, "Site-2")
    # The 500-character path, the emoji and the fragment-less docs page are stored as such.
    paths = {path for (path,) in file_rows(database, "SELECT DISTINCT path FROM events")}
    assert {"/long/" + "ü" * 10 + "x" * 484, "/blog/emoji-🚀-post", "/docs", "/"} <= paths
    listed = cli("import", "list", "--json", database=database)
    imports = {item["label"]: item for item in json.loads(listed.stdout)}
    assert imports[SITE]["status"] == "complete" and imports[SITE]["origin"] == "umami"
    assert imports[SITE]["rows"] == sum(len(s.events) for s in site)
    days = sorted({s.started_at.date().isoformat() for s in site})
    assert (imports[SITE]["first_day"], imports[SITE]["last_day"]) == (days[0], days[-1])

    again = json.loads(import_umami(database, umami.current, "--json").stdout)
    assert [(item["sessions"], item["events"], item["complete"]) for item in again] == [(0, 0, True)] * 2
    assert file_rows(database, "SELECT count(*) FROM sessions")[0][0] == len(site) + len(bare)

    # The deleted website, asked for by id, goes into the project asked for.
    gone = import_umami(database, umami.current, "--website", GONE, "--project", "archive")
    assert "complete" in gone.stdout
    check_reports(database, expected_sessions(umami.data["gone"], "archive", "gone.example"), "archive")


def test_an_old_umami_without_utm_columns_and_with_the_host_on_the_session(
    umami: Umami, tmp_path: Path
) -> None:
    database = new_database(tmp_path, rolled_up=False)
    import_umami(database, umami.old, "--website", OLD.upper())
    sessions = expected_sessions(umami.data["old"], "docs.example.org", "docs.example.org")
    assert any(s.values["utm_campaign"] == "spring sale" for s in sessions)  # from the query strings
    check_reports(database, sessions, "docs.example.org")
    urls = {url for (url,) in file_rows(database, "SELECT DISTINCT entry_url FROM sessions")}
    assert all(url.startswith("https://docs.example.org/") for url in urls)


def test_an_interrupted_import_continues_where_it_stopped_in_a_running_server(
    umami: Umami, tmp_path: Path
) -> None:
    database = new_database(tmp_path, rolled_up=False)
    site = expected_sessions(umami.data["site"], "example.org", "example.org")
    first = import_umami(database, umami.current, "--website", SITE, "--batch-visits", "10", "--max-batches", "3",
                         "--json")  # fmt: skip
    (stopped,) = json.loads(first.stdout)
    assert (stopped["sessions"], stopped["complete"]) == (30, False)
    listed = json.loads(cli("import", "list", "--json", database=database).stdout)
    assert [(item["status"], item["rows"]) for item in listed] == [("loading", stopped["events"])]
    # The first 30 visits in the order they are read: by first event, then visit id.
    order = sorted(site, key=lambda s: (s.events[0].at, s.session_id))
    written = {session_id for (session_id,) in file_rows(database, "SELECT session_id FROM sessions")}
    assert written == {s.session_id for s in order[:30]}

    # A resume point behind what was written (none here) cannot come from a stop, as each batch
    # commits with its point; it shows that visits written before are skipped, not written twice.
    file = Database.open(database)
    file.connection.execute("UPDATE imports SET state = NULL")
    file.close()

    server = RunningServer(database, tmp_path).start()
    try:
        second = import_umami(database, umami.current, "--website", SITE, "--batch-visits", "10", "--json")
        (resumed,) = json.loads(second.stdout)
        assert (resumed["sessions"], resumed["skipped"], resumed["complete"]) == (len(site) - 30, 30, True)
        assert resumed["continued"] is True
        again = import_umami(database, umami.current, "--website", SITE, "--json")
        assert [(item["sessions"], item["events"]) for item in json.loads(again.stdout)] == [(0, 0)]
    finally:
        assert server.stop() == 0
    check_reports(database, site, "example.org")
    assert (
        file_rows(database, "SELECT count(*), count(DISTINCT session_id) FROM sessions")[0]
        == (len(site),) * 2
    )


def test_import_remove_takes_out_exactly_the_imported_rows(umami: Umami, tmp_path: Path) -> None:
    database = new_database(tmp_path, rolled_up=True)
    native = Database.open(database)
    try:  # a native session of the same days, and its page views, which must stay
        native.connection.execute(
            "INSERT INTO sessions (session_id, visitor_id, project, started_at, last_seen_at, entry_url, entry_path) "
            "VALUES ('native-1', 'v', 'example.org', '2025-03-02 10:00', '2025-03-02 10:05', 'https://example.org/', '/')"
        )
        native.connection.execute(
            "INSERT INTO events (received_at, session_id, visitor_id, project, type, url, path) VALUES "
            "('2025-03-02 10:00', 'native-1', 'v', 'example.org', 'pageview', 'https://example.org/', '/'), "
            "('2025-03-02 10:05', 'native-1', 'v', 'example.org', 'pageview', 'https://example.org/', '/')"
        )
        rollup.rebuild(native.connection, datetime(2025, 3, 2, 10), datetime(2025, 3, 2, 11))
        facts_before = native.connection.execute("SELECT count(*), sum(views) FROM page_facts").fetchall()
    finally:
        native.close()
    import_umami(database, umami.current, "--website", SITE)
    (item,) = json.loads(cli("import", "list", "--json", database=database).stdout)
    removed = cli("import", "remove", str(item["id"]), database=database)
    assert removed.returncode == 0 and f"Removed import {item['id']} (umami" in removed.stdout
    assert file_rows(database, "SELECT session_id FROM sessions") == [("native-1",)]
    assert file_rows(database, "SELECT count(*) FROM events") == [(2,)]
    assert file_rows(database, "SELECT count(*) FROM imported_sessions") == [(0,)]
    assert file_rows(database, "SELECT count(*), sum(views) FROM page_facts") == facts_before


def test_bad_sources_are_one_line_and_exit_2(umami: Umami, tmp_path: Path) -> None:
    database = new_database(tmp_path, rolled_up=False)
    port = umami.current.rsplit(":", 1)[1].split("/")[0]
    for url, message in (
        ("mysql://admin:s3cret@db/umami", "Error: --from: a postgresql:// URL of the Umami database (got a mysql:// URL)"),
        ("admin:s3cret@db/umami", "(got no URL scheme)"),
        ("postgresql://admin:s3cret@127.0.0.1:1/umami", "Error: --from: cannot connect to PostgreSQL at 127.0.0.1:1/umami"),
        ("postgresql://postgres:s3cret@127.0.0.1:1/umami?connect_timeout=5", "cannot connect to PostgreSQL at 127.0.0.1:1"),
        # libpq quotes the URL, or pieces of it, in these messages.
        ("postgresql://admin:s3cret@[::1/umami", 'in IPv6 host address in URI: "postgresql://admin:***@[::1/umami"'),
        ("postgresql://admin:s3%zzcret@127.0.0.1:1/umami", 'invalid percent-encoded token: "***"'),
        ("postgresql://admin:s3 cret@127.0.0.1:1/umami", 'unexpected spaces found in "***"'),
        ("postgresql://admin:ab/s3cret@127.0.0.1:1/umami", "cannot connect to PostgreSQL at admin:***@127.0.0.1:1/umami"),
        ("postgresql://admin:s3c@ret@127.0.0.1:1/umami", "failed to resolve host '***@127.0.0.1'"),
        ("postgresql://admin@127.0.0.1:1/umami?password=s3cret&foo=1", 'invalid URI query parameter: "foo"'),
        (f"postgresql://postgres:s3cret@127.0.0.1:{port}/postgres", "has no Umami tables"),
    ):  # fmt: skip
        done = cli("import", "umami", "--from", url, database=database)
        assert done.returncode == 2, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1 and message in done.stderr, done.stderr
        assert "s3c" not in done.stderr and "cret" not in done.stderr, done.stderr
        assert done.stdout == ""
    unknown = cli("import", "umami", "--from", umami.current, "--website", BARE[:-1] + "9", database=database)
    assert unknown.returncode == 2 and unknown.stderr.startswith("Error: --website: no website")
    bad_project = cli("import", "umami", "--from", umami.current, "--project", "a b", database=database)
    assert bad_project.returncode == 2 and "--project" in bad_project.stderr
    bad_since = cli("import", "umami", "--from", umami.current, "--since", "2025-02-30", database=database)
    assert bad_since.returncode == 2 and bad_since.stderr.startswith("Error: --since: a date")
    no_source = cli("import", "umami", database=database)
    assert no_source.returncode == 2 and no_source.stderr.strip().splitlines() == [
        "Error: --from: the Umami database's postgresql:// URL (or $PULSEGATE_UMAMI_URL) is needed"
    ]
    assert file_rows(database, "SELECT count(*) FROM imports") == [(0,)]
    assert not (tmp_path / "missing.duckdb").exists()
    missing = cli("import", "umami", "--from", umami.current, database=tmp_path / "missing.duckdb")
    assert missing.returncode == 2 and len(missing.stderr.strip().splitlines()) == 1, missing.stderr
    assert not (tmp_path / "missing.duckdb").exists()


def test_a_failure_while_reading_umami_is_one_line_and_exit_1(umami: Umami, tmp_path: Path) -> None:
    # A database whose website_event fails when read (a server error after connecting).
    base = umami.current.rsplit("/", 1)[0]
    broken = create_database(base, "umami_broken")
    with psycopg.connect(broken, autocommit=True) as connection:
        connection.execute(
            "CREATE TABLE website (website_id uuid PRIMARY KEY, name text, domain text);"
            f"INSERT INTO website VALUES ('{SITE}', 'Broken', 'broken.example');"
            "CREATE VIEW website_event AS SELECT website_id AS event_id, website_id, website_id AS session_id,"
            " website_id AS visit_id, now() - interval '1 day' * (1 / (length(name) * 0)) AS created_at,"
            " '/'::text AS url_path, 1 AS event_type FROM website"
        )
    with_password = broken.replace("postgres@", "postgres:s3cret@")
    database = new_database(tmp_path, rolled_up=False)
    done = cli("import", "umami", "--from", with_password, database=database)
    assert done.returncode == 1, done.stderr
    assert done.stderr.strip().splitlines() == [
        f"Error: reading the Umami database at 127.0.0.1:{broken.split(':')[-1]} failed: division by zero "
        "(what was imported is kept: run the same command again to continue)"
    ]

    # A connection lost in the middle of an import: the same, in-process.
    with UmamiSource(umami.current.replace("postgres@", "postgres:s3cret@")) as source:
        with psycopg.connect(umami.current, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", [source._connection.info.backend_pid])
        website = UmamiWebsite(SITE, "Site", "example.org")
        with pytest.raises(UmamiUnavailable) as failed:
            list(source.rows(website, None, None, us_of(datetime.now(UTC))))
    assert failed.value.exit_code == 1 and "\n" not in failed.value.message
    assert failed.value.message.startswith("reading the Umami database at 127.0.0.1:")
    assert "s3cret" not in failed.value.message and "run the same command again" in failed.value.message


def test_an_umami_before_2_10_makes_one_visit_of_each_session_s_clock_hour(
    umami: Umami, tmp_path: Path
) -> None:
    # Plain Python: a visit is a session's clock hour; the hour 00:00-01:00 of March 1st is one.
    sessions = expected_sessions(
        by_clock_hour(umami.data["legacy"]), "legacy.example.org", "legacy.example.org"
    )
    edge = sorted((s for s in sessions if s.visitor_id == EDGE_SESSION), key=lambda s: s.started_at)
    assert [(s.started_at, len(s.events)) for s in edge] == [
        (datetime(2025, 2, 28, 0, 17), 1), (datetime(2025, 3, 1, 0, 5), 2), (datetime(2025, 3, 3, 10, 20), 2)
    ]  # fmt: skip
    assert len({s.started_at.date() for s in sessions}) > 3  # windows follow one another

    whole = new_database(tmp_path / "whole", rolled_up=False)
    (done,) = json.loads(import_umami(whole, umami.legacy, "--json").stdout)
    assert (done["sessions"], done["events"], done["skipped"], done["complete"]) == (
        len(sessions), sum(len(s.events) for s in sessions), 0, True
    )  # fmt: skip
    assert sorted(file_rows(whole, "SELECT session_id FROM sessions")) == sorted(
        (s.session_id,) for s in sessions
    )
    counted = check_reports(whole, sessions, "legacy.example.org")
    assert counted["goals"]["Pro signup"]["conversions"] > 0  # event_data under its first column names

    # A visit a batch (stopped, and continued): each visit whole, none twice.
    pieces = new_database(tmp_path / "pieces", rolled_up=False)
    (stopped,) = json.loads(import_umami(pieces, umami.legacy, "--batch-visits", "1", "--max-batches", "10",
                                         "--json").stdout)  # fmt: skip
    assert (stopped["sessions"], stopped["skipped"], stopped["complete"]) == (10, 0, False)
    (resumed,) = json.loads(import_umami(pieces, umami.legacy, "--batch-visits", "1", "--json").stdout)
    assert (resumed["sessions"], resumed["skipped"], resumed["complete"]) == (len(sessions) - 10, 0, True)
    check_reports(pieces, sessions, "legacy.example.org")

    # From a moment inside an hour: the visits that start from it on, each whole.
    with UmamiSource(umami.legacy) as source:
        (website,) = source.websites()
        rows = list(source.rows(website, us_of(SINCE), None, us_of(datetime.now(UTC) - timedelta(hours=2))))
    want = {s.session_id.removeprefix("umami-"): len(s.events) for s in sessions
            if s.started_at >= SINCE.replace(tzinfo=None)}  # fmt: skip
    assert Counter(row.visit_id for row in rows) == want


def test_the_umami_connection_refuses_writes(umami: Umami) -> None:
    with UmamiSource(umami.current) as source:
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction), source._connection.transaction():
            source._connection.execute("DELETE FROM website_event")
        assert [w.website_id for w in source.websites() if not w.deleted] == [SITE, BARE]


def clickhouse_rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    """The rows of DuckDB's `sql` on the ClickHouse store at `url` (translated there)."""
    store = ClickHouseStore.open(parse_target(url))
    try:
        return store.connection.execute(sql).fetchall()
    finally:
        store.close()


def test_into_clickhouse_a_crashed_batch_is_written_again_once_and_removed_whole(
    umami: Umami, tmp_path: Path, clickhouse_endpoint: ClickHouseEndpoint, unique_database: str
) -> None:
    """The import on ClickHouse (over its HTTP interface, as a server would be reached), where no
    transaction holds a batch together: a batch whose rows were written but not marked (a crash
    between its inserts) is written again without a row twice, and `import remove` takes out
    exactly what the import brought, the rollup facts of its hours with it."""
    url = clickhouse_endpoint.url(unique_database)
    store = ClickHouseStore.open(parse_target(url))
    try:  # as new_database(rolled_up=True) makes a file
        for goal in GOALS:
            upsert_goal(store.connection, goal, datetime(2025, 1, 1))  # type: ignore[arg-type]
        rollup.catch_up(store.connection, datetime.now(UTC).replace(tzinfo=None))  # type: ignore[arg-type]
    finally:
        store.close()
    site = expected_sessions(umami.data["site"], "example.org", "example.org")
    first = cli_on(url, "import", "umami", "--from", umami.current, "--website", SITE, "--batch-visits", "10",
                   "--max-batches", "3", "--json")  # fmt: skip
    assert first.returncode == 0, first.stderr
    (stopped,) = json.loads(first.stdout)
    assert (stopped["sessions"], stopped["complete"]) == (30, False)

    # A crash after a batch's events and sessions were stored, before its marks and resume point:
    # the next run finds those sessions unmarked and the import at its start.
    crash = ClickHouseStore.open(parse_target(url))
    try:
        crash.connection.execute("DELETE FROM imported_sessions WHERE true")
        crash.connection.execute("UPDATE imports SET state = NULL WHERE true")
    finally:
        crash.close()
    second = cli_on(url, "import", "umami", "--from", umami.current, "--website", SITE, "--json")
    assert second.returncode == 0, second.stderr
    (resumed,) = json.loads(second.stdout)
    assert (resumed["sessions"], resumed["complete"]) == (len(site), True)
    stored = clickhouse_rows(url, "SELECT count(*), count(DISTINCT session_id) FROM sessions")
    assert stored == [(len(site), len(site))]
    assert clickhouse_rows(url, "SELECT count(*) FROM events") == [(sum(len(s.events) for s in site),)]
    check_reports(tmp_path / "unused.duckdb", site, "example.org", clickhouse_url=url)
    facts = clickhouse_rows(url, "SELECT count(*) FROM page_facts")[0][0]
    assert facts > 0  # the import made the facts of its hours (so their removal below shows)

    (item,) = json.loads(cli_on(url, "import", "list", "--json").stdout)
    assert (item["origin"], item["status"], item["rows"]) == (
        "umami",
        "complete",
        stopped["events"] + resumed["events"],
    )
    removed = cli_on(url, "import", "remove", str(item["id"]))
    assert removed.returncode == 0 and f"Removed import {item['id']} (umami" in removed.stdout, removed.stderr
    for table in ("sessions", "events", "imported_sessions", "imports", "page_facts", "session_activity"):
        assert clickhouse_rows(url, f"SELECT count(*) FROM {table}") == [(0,)], table
