"""Random traffic over every dimension, and the reports' answers computed from it in plain Python.

The reference never runs PulseGate's SQL: it follows the rules the README states (session
population by start time, event dimensions by receive time, event filters select sessions, `!=`
and `!~` keep missing values, leads by creation time in their session's row) over the same lists
that were inserted, so a wrong query cannot agree with itself.
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
from hypothesis import strategies as st
from litestar.testing import TestClient

from pulsegate.app import create_app
from pulsegate.domain.goals import Goal, page_matches
from pulsegate.domain.reports import GOAL, Filter, dimension, matches, passes_event_filter
from pulsegate.domain.sources import path_of
from pulsegate.domain.visitor import visitor_key
from pulsegate.store import rollup
from pulsegate.store.clickhouse.cursor import is_clickhouse
from pulsegate.store.goals import upsert_goal
from tests.helpers import app_cursor, app_runtime, engine_settings, served_key

UTC = ZoneInfo("UTC")
# The window every check asks about, and the days traffic is spread over (the window, the one
# before it, and the same dates a year earlier, so both comparisons have something to compare).
WINDOW_FROM, WINDOW_TO = datetime(2026, 3, 3), datetime(2026, 3, 8)
SPANS = ((datetime(2026, 2, 25), 13), (datetime(2025, 3, 2), 7))

SOURCES = ("Google", "Direct", "X")
REFERRERS = (None, "google.com", "news.ycombinator.com")
UTM = (None, "spring", "Spring Sale", "a|b")  # a bar in a value: filters escape it as \|
PATHS = ("/", "/pricing", "/blog/a", "/Docs")
COUNTRIES = (None, "DE", "US")
BROWSERS = (None, "Firefox", "Safari", "Chrome")
SYSTEMS = (None, "Linux", "macOS", "iOS")
DEVICES = ("desktop", "mobile", "tablet")
WIDTHS = (None, 375, 800, 1280, 1920)
LANGUAGES = (None, "en", "de-DE")
PROJECTS = ("acme", "globex")
EVENT_NAMES = ("Signup", "Download brochure")
HREFS = ("https://other.org/x", "https://example.com/file.pdf")
FORMS = (None, "contact", "demo")
# The goals every check knows (stored by the tests): each kind, with and without its option.
GOALS = (
    Goal(name="Signup", kind="event", event="Signup"),
    Goal(name="Pro signup", kind="event", event="Signup", prop_key="plan", prop_value="pro"),
    Goal(name="Two seats", kind="event", event="Download brochure", prop_key="seats", prop_value="2"),
    Goal(name="Pricing", kind="page", page="/pricing"),
    Goal(name="Docs or blog", kind="page", page="/*o*"),
    Goal(name="Globex pricing", kind="page", page="/pricing", project="globex"),
    Goal(name="Any lead", kind="lead"),
    Goal(name="Demo form", kind="lead", form="demo"),
)


@dataclass
class Event:
    at: datetime
    type: str
    path: str | None = None
    name: str | None = None
    props: dict[str, Any] | None = None
    engaged_ms: int | None = None
    client_ms: int | None = None  # the browser's clock


@dataclass
class Session:
    session_id: str
    visitor_id: str
    project: str
    started_at: datetime
    is_bot: bool
    ended: bool
    values: dict[str, Any]  # the session dimensions' columns
    entry_url: str
    engaged_ms: int
    score: int | None
    events: list[Event] = field(default_factory=list)
    leads: list[Lead] = field(default_factory=list)

    @property
    def ended_at(self) -> datetime:
        """When an ended session ended: 8 hours after its start, or its last event if later (a
        session ends after its events, as the server's do)."""
        return max([self.started_at + timedelta(hours=8), *(event.at for event in self.events)])

    @property
    def page_views(self) -> int:
        return sum(1 for event in self.events if event.type == "pageview")

    @property
    def exit_url(self) -> str | None:
        views = [event for event in self.events if event.type == "pageview"]
        return f"https://example.com{views[-1].path}" if self.ended and views else None


@dataclass
class Lead:
    lead_id: str
    created_at: datetime
    project: str
    session: Session | None
    is_spam: bool
    source: str | None = None  # the form's


@dataclass
class Traffic:
    sessions: list[Session]
    leads: list[Lead]


# ---- generation --------------------------------------------------------------------------------


@st.composite
def events_of(draw: st.DrawFn, started: datetime) -> list[Event]:
    at = started
    first = draw(st.sampled_from(PATHS))
    found = [Event(at, "pageview", path=first)]
    for _ in range(draw(st.integers(0, 5))):
        at += timedelta(minutes=draw(st.integers(1, 400)))  # some sessions run past midnight
        kind = draw(st.sampled_from(("pageview", "pageview", "custom", "outbound", "download", "engagement")))
        path = draw(st.sampled_from(PATHS))
        if kind == "custom":
            props = draw(st.one_of(st.none(), st.fixed_dictionaries({}, optional={
                "plan": st.sampled_from(("pro", "free")), "seats": st.integers(1, 3), "trial": st.booleans()})))  # fmt: skip
            found.append(
                Event(at, kind, path=path, name=draw(st.sampled_from((*EVENT_NAMES, None))), props=props)
            )
        elif kind in ("outbound", "download"):
            found.append(Event(at, kind, path=path, props={"href": draw(st.sampled_from(HREFS))}))
        elif kind == "engagement":
            found.append(Event(at, kind, path=path, engaged_ms=draw(st.integers(1, 60_000))))
        else:
            found.append(Event(at, kind, path=path))
    return found


@st.composite
def sessions(draw: st.DrawFn, n: int) -> Session:
    first_day, days = draw(st.sampled_from(SPANS))
    started = first_day + timedelta(minutes=draw(st.integers(0, days * 1440 - 1)))
    entry_path = draw(st.sampled_from(PATHS))
    query = draw(st.sampled_from(("", "?utm_source=x", "#top")))
    values = {
        "source": draw(st.sampled_from(SOURCES)),
        "referrer_host": draw(st.sampled_from(REFERRERS)),
        **{
            f"utm_{part}": draw(st.sampled_from(UTM))
            for part in ("source", "medium", "campaign", "term", "content")
        },
        "country": draw(st.sampled_from(COUNTRIES)),
        "browser": draw(st.sampled_from(BROWSERS)),
        "os": draw(st.sampled_from(SYSTEMS)),
        "device": draw(st.sampled_from(DEVICES)),
        "screen_width": draw(st.sampled_from(WIDTHS)),
        "language": draw(st.sampled_from(LANGUAGES)),
    }
    session = Session(
        session_id=f"s{n:04d}",
        visitor_id=f"v{draw(st.integers(0, 30)):02d}",
        project=draw(st.sampled_from(PROJECTS)),
        started_at=started,
        is_bot=draw(st.integers(0, 9)) == 0,
        ended=draw(st.integers(0, 4)) > 0,
        values=values,
        entry_url=f"https://example.com{entry_path}{query}",
        engaged_ms=draw(st.integers(0, 200_000)),
        score=None,
    )
    session.events = draw(events_of(started))
    session.events[0].path = entry_path
    if session.ended:
        session.score = draw(st.integers(0, 100))
    return session


@st.composite
def traffic(draw: st.DrawFn) -> Traffic:
    found = [draw(sessions(n)) for n in range(draw(st.integers(0, 40)))]
    leads = []
    for n in range(draw(st.integers(0, 12))):
        session = draw(st.one_of(st.none(), st.sampled_from(found))) if found else None
        created = (
            session.started_at + timedelta(minutes=draw(st.integers(0, 90)))
            if session
            else WINDOW_FROM + timedelta(minutes=draw(st.integers(0, 5 * 1440)))
        )
        project = session.project if session else draw(st.sampled_from(PROJECTS))
        lead = Lead(
            f"l{n}", created, project, session, draw(st.integers(0, 4)) == 0, draw(st.sampled_from(FORMS))
        )
        leads.append(lead)
        if session is not None:
            session.leads.append(lead)
    return Traffic(found, leads)


def filter_texts() -> st.SearchStrategy[str]:
    """Filters that often match the generated values (and sometimes nothing)."""
    pools: dict[str, tuple[Any, ...]] = {
        "source": SOURCES, "referrer": REFERRERS[1:], "utm_campaign": UTM[1:], "utm_source": UTM[1:],
        "entry_page": PATHS, "exit_page": PATHS, "country": COUNTRIES[1:], "browser": BROWSERS[1:],
        "os": SYSTEMS[1:], "device": DEVICES, "screen": ("Mobile", "Tablet", "Laptop", "Desktop"),
        "language": LANGUAGES[1:], "project": PROJECTS, "page": PATHS, "event": EVENT_NAMES,
        "prop:plan": ("pro", "free"), "prop:seats": ("1", "2"), "outbound": HREFS, "download": HREFS,
        "goal": tuple(goal.name for goal in GOALS),
    }  # fmt: skip

    @st.composite
    def one(draw: st.DrawFn) -> str:
        name = draw(st.sampled_from(sorted(pools)))
        operator = draw(st.sampled_from(("==", "!=", "~", "!~")))
        values = draw(st.lists(st.sampled_from(pools[name]), min_size=1, max_size=2, unique=True))
        if operator in ("~", "!~"):  # a part of the value, in another case
            values = [
                draw(st.sampled_from((v[: max(1, len(v) // 2)].upper(), v[1:].lower() or v))) for v in values
            ]
        return name + operator + "|".join(v.replace("|", "\\|") for v in values)

    return one()


# ---- insertion ---------------------------------------------------------------------------------


def insert(
    connection: duckdb.DuckDBPyConnection, data: Traffic, rolled_up_to: datetime | None = None
) -> None:
    """Replace the tables' rows with `data`, as the server would have stored it, with the event
    rollup made up to the hour of `rolled_up_to` (None: no rollup, reports read raw events)."""
    on_clickhouse = is_clickhouse(connection)
    if on_clickhouse:
        for table in ("events", "session_rows", "session_activity", "leads", *rollup.FACT_TABLES):
            connection.execute(f"TRUNCATE TABLE {table}")
    else:
        for table in ("events", "sessions", "leads", *rollup.FACT_TABLES):
            connection.execute(f"DELETE FROM {table}")
    connection.execute("UPDATE rollup_state SET since = NULL, frontier = NULL, hash_probe = NULL WHERE true")
    session_columns = ["session_id", "visitor_id", "visitor_key", "project", "started_at", "last_seen_at", "ended_at",
                       "entry_url", "entry_path", "exit_url", "exit_path", "is_bot", "page_views", "event_count",
                       "engaged_ms", "engagement_score", *data.sessions[0].values] if data.sessions else []  # fmt: skip
    rows = [
        (s.session_id, s.visitor_id, visitor_key(s.visitor_id), s.project, s.started_at, s.started_at,
         s.ended_at if s.ended else None, s.entry_url, path_of(s.entry_url), s.exit_url,
         path_of(s.exit_url), s.is_bot, s.page_views if s.ended else None, len(s.events) if s.ended else None,
         s.engaged_ms if s.ended else None, s.score, *s.values.values())
        for s in data.sessions
    ]  # fmt: skip
    if rows:
        connection.executemany(
            f"INSERT INTO sessions ({', '.join(session_columns)}) VALUES ({', '.join('?' for _ in session_columns)})",
            rows,
        )
    events = sorted(
        ((e.at, s.session_id, s.visitor_id, s.project, e.type, e.name, f"https://example.com{e.path}", e.path,
          json.dumps(e.props) if e.props is not None else None, e.engaged_ms, s.is_bot, e.client_ms)
         for s in data.sessions for e in s.events),
        key=lambda row: row[0],
    )  # fmt: skip
    if events:
        connection.executemany(
            "INSERT INTO events (received_at, session_id, visitor_id, project, type, name, url, path, props, "
            "engaged_ms, is_bot, client_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            events,
        )
    leads = [(lead.lead_id, lead.lead_id, lead.created_at, lead.project,
              lead.session.session_id if lead.session else None,
              lead.session.visitor_id if lead.session else None, lead.is_spam, lead.source)
             for lead in data.leads]  # fmt: skip
    if leads:
        connection.executemany(
            "INSERT INTO leads (lead_id, submission_id, created_at, project, session_id, visitor_id, is_spam, "
            "source) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            leads,
        )
    if rolled_up_to is not None:
        rollup.catch_up(connection, rolled_up_to + rollup.SETTLE)


# ---- the reference -----------------------------------------------------------------------------

EVENT_TYPES = {
    "page": ("pageview",),
    "event": ("custom",),
    "outbound": ("outbound",),
    "download": ("download",),
}


def session_value(session: Session, name: str) -> Any:
    if name == "referrer":
        return session.values["referrer_host"]
    if name == "entry_page":
        return path_of(session.entry_url)
    if name == "exit_page":
        return path_of(session.exit_url)
    if name == "project":
        return session.project
    if name == "screen":
        width = session.values["screen_width"]
        if width is None:
            return None
        return (
            "Mobile" if width < 576 else "Tablet" if width < 992 else "Laptop" if width < 1440 else "Desktop"
        )
    return session.values[name]


def event_value(event: Event, name: str) -> str | None:
    """The event's value for an event dimension, None when it has none or is of another type."""
    if name.startswith("prop:"):
        if event.type != "custom" or not event.props or name[5:] not in event.props:
            return None
        value = event.props[name[5:]]
        return value if isinstance(value, str) else json.dumps(value)
    if event.type not in EVENT_TYPES[name]:
        return None
    if name == "page":
        return event.path
    if name == "event":
        return event.name
    return (event.props or {}).get("href")


def received(session: Session, start: datetime, end: datetime) -> list[Event]:
    return [event for event in session.events if start <= event.at < end]


def goal_hits(session: Session, goal: Goal, start: datetime, end: datetime) -> int:
    """The session's conversions on `goal` in [start, end): matching events received, or leads
    created (not spam) in it."""
    if session.is_bot or (goal.project is not None and session.project != goal.project):
        return 0
    if goal.kind == "lead":
        return sum(1 for lead in session.leads if counts_for(lead, goal, start, end))
    hits = 0
    for event in received(session, start, end):
        if goal.kind == "page":
            hits += event.type == "pageview" and page_matches(goal.page or "", event.path or "")
        elif event.type == "custom" and event.name == goal.event:
            if goal.prop_key is None:
                hits += 1
            elif event.props and goal.prop_key in event.props:
                value = event.props[goal.prop_key]
                hits += (value if isinstance(value, str) else json.dumps(value)) == goal.prop_value
    return hits


def counts_for(lead: Lead, goal: Goal, start: datetime, end: datetime) -> bool:
    """Whether a lead converts on a lead goal."""
    return (
        not lead.is_spam
        and start <= lead.created_at < end
        and (goal.form is None or lead.source == goal.form)
        and (goal.project is None or lead.project == goal.project)
    )


def passes(session: Session | None, filters: Iterable[Filter], start: datetime, end: datetime) -> bool:
    for filter_ in filters:
        name = filter_.dimension.name
        if session is None:
            if not filter_.negated:
                return False
        elif filter_.dimension == GOAL:
            converted = any(goal_hits(session, goal, start, end) for goal in filter_.goals)
            if converted == filter_.negated:
                return False
        elif filter_.dimension.scope == "session":
            if not matches(filter_, session_value(session, name)):
                return False
        else:
            # A bot's events are in no report (as in goal_hits): a lead of a bot's session is
            # filtered as if the session had none.
            events = received(session, start, end) if not session.is_bot else []
            values = [v for e in events if (v := event_value(e, name)) is not None]
            if not passes_event_filter(filter_, values):
                return False
    return True


def population(data: Traffic, filters: list[Filter], start: datetime, end: datetime) -> list[Session]:
    return [
        s
        for s in data.sessions
        if not s.is_bot and start <= s.started_at < end and passes(s, filters, start, end)
    ]


def counted_leads(data: Traffic, filters: list[Filter], start: datetime, end: datetime) -> list[Lead]:
    return [
        lead for lead in data.leads
        if not lead.is_spam and start <= lead.created_at < end and passes(lead.session, filters, start, end)
    ]  # fmt: skip


def session_metrics(group: list[Session], leads: list[Lead], all_leads: list[Lead]) -> dict[str, Any]:
    ended = [s for s in group if s.ended]
    converted = {lead.session.session_id for lead in all_leads if lead.session and not lead.is_spam}
    views = sum(s.page_views for s in group)
    scores = [s.score for s in group if s.score is not None]
    return {
        "visitors": len({s.visitor_id for s in group}),
        "sessions": len(group),
        "pageviews": views,
        "events": sum(len(s.events) for s in group),
        "views_per_session": views / len(group) if group else None,
        "bounce_rate": 100 * sum(1 for s in ended if s.page_views <= 1) / len(ended) if ended else None,
        "avg_engaged_ms": statistics.fmean(s.engaged_ms for s in ended) if ended else None,
        "avg_score": statistics.fmean(scores) if scores else None,
        "leads": len(leads),
        "conversion_rate": 100 * sum(1 for s in group if s.session_id in converted) / len(group)
        if group
        else None,
    }


def empty_row() -> dict[str, Any]:
    """A time bucket where nothing was counted (the API zero-fills counts, rates are null)."""
    return {**session_metrics([], [], []), "conversions": 0, "goal_conversion_rate": None}


def session_breakdown(
    data: Traffic, filters: list[Filter], start: datetime, end: datetime, key: Callable[[Session], Any] | None,
    lead_key: Callable[[Lead], Any] | None = None,
) -> dict[Any, dict[str, Any]]:  # fmt: skip
    """Rows by `key` of the session (None: one row of totals, keyed None), with the goal metrics."""
    groups: dict[Any, list[Session]] = defaultdict(list)
    for s in population(data, filters, start, end):
        groups[key(s) if key else None].append(s)
    # The goal metrics: conversions on the positive goal filters' goals, and the share of the
    # row's visitors without the goal filters who are in it.
    counted_goals = {g.name: g for f in filters if f.dimension == GOAL and not f.negated for g in f.goals}
    everyone: dict[Any, set[str]] = defaultdict(set)
    for s in population(data, [f for f in filters if f.dimension != GOAL], start, end):
        everyone[key(s) if key else None].add(s.visitor_id)
    lead_groups: dict[Any, list[Lead]] = defaultdict(list)
    for lead in counted_leads(data, filters, start, end):
        if lead_key is not None:
            value = lead_key(lead)
        else:
            value = key(lead.session) if key and lead.session else None
        lead_groups[value].append(lead)
    if key is None:
        groups.setdefault(None, [])
    rows = {
        value: session_metrics(groups.get(value, []), lead_groups.get(value, []), data.leads)
        for value in {*groups, *lead_groups}
    }
    for value, row in rows.items():
        group = groups.get(value, [])
        row["conversions"] = sum(goal_hits(s, g, start, end) for s in group for g in counted_goals.values())
        base = everyone.get(value, set())
        row["goal_conversion_rate"] = 100 * len({s.visitor_id for s in group}) / len(base) if base else None
    return rows


def event_breakdown(data: Traffic, filters: list[Filter], start: datetime, end: datetime, name: str) -> dict:
    own = [f for f in filters if f.dimension.name == name]
    rows: dict[str, list[tuple[Session, Event]]] = defaultdict(list)
    engaged: dict[str, int] = defaultdict(int)
    for s in data.sessions:
        if s.is_bot or not passes(s, filters, start, end):
            continue
        for e in received(s, start, end):
            engaged_page = name == "page" and e.engaged_ms is not None and e.path is not None
            if engaged_page and all(matches(f, e.path) for f in own):
                engaged[e.path] += e.engaged_ms
            value = event_value(e, name)
            if value is not None and all(matches(f, value) for f in own):
                rows[value].append((s, e))
    return {
        value: {
            "visitors": len({s.visitor_id for s, _ in hits}),
            "sessions": len({s.session_id for s, _ in hits}),
            "pageviews": len(hits),
            "events": len(hits),
            "avg_engaged_ms": engaged.get(value, 0) / len(hits),
        }
        for value, hits in rows.items()
    }


def breakdown(data: Traffic, filters: list[Filter], start: datetime, end: datetime, name: str) -> dict:
    if dimension(name).scope == "event":
        return event_breakdown(data, filters, start, end, name)
    return session_breakdown(data, filters, start, end, lambda s: session_value(s, name))


def local_day(moment: datetime, tz: str) -> str:
    return moment.replace(tzinfo=UTC).astimezone(ZoneInfo(tz)).date().isoformat() + "T00:00:00"


def days(data: Traffic, filters: list[Filter], start: datetime, end: datetime, tz: str) -> dict:
    return session_breakdown(
        data,
        filters,
        start,
        end,
        lambda s: local_day(s.started_at, tz),
        lambda lead: local_day(lead.created_at, tz),
    )


def properties(data: Traffic, filters: list[Filter], start: datetime, end: datetime, event_name: str) -> dict:
    """{key: (events, visitors)} of the custom events called `event_name`."""
    found: dict[str, list[Session]] = defaultdict(list)
    for s in data.sessions:
        if s.is_bot or not passes(s, filters, start, end):
            continue
        for e in received(s, start, end):
            if e.type == "custom" and e.name == event_name and e.props:
                for key in e.props:
                    found[key].append(s)
    return {key: (len(hits), len({s.visitor_id for s in hits})) for key, hits in found.items()}


def listed_leads(data: Traffic, filters: list[Filter], start: datetime, end: datetime) -> set[str]:
    """The ids /analytics/leads lists (spam included, as the listing shows every status)."""
    return {
        lead.lead_id
        for lead in data.leads
        if start <= lead.created_at < end and passes(lead.session, filters, start, end)
    }


def goal_report(
    data: Traffic, filters: list[Filter], start: datetime, end: datetime, goal: Goal
) -> tuple[int, int]:
    """(visitors who converted, conversions) of `goal`: sessions that started in the window and
    pass the filters, and leads without a session when every filter is a negation."""
    visitors, total = set(), 0
    for s in population(data, filters, start, end):
        if hits := goal_hits(s, goal, start, end):
            visitors.add(s.visitor_id)
            total += hits
    if goal.kind == "lead" and passes(None, filters, start, end):
        total += sum(1 for lead in data.leads if lead.session is None and counts_for(lead, goal, start, end))
    return len(visitors), total


ENGINES = ["duckdb", "clickhouse"]  # the stores every report must answer the same on


def examples_on(client: TestClient[Any], on_duckdb: int) -> int:
    """How many examples an example test runs on the served app's engine: half as many on chDB,
    whose statements cost more (the example tests took 2.5x as long there), each checked against
    the reference all the same."""
    return on_duckdb if app_runtime(client).settings.storage.engine == "duckdb" else on_duckdb // 2


@contextmanager
def served_app(folder: Path, engine: str = "duckdb") -> Iterator[tuple[TestClient[Any], str]]:
    """An app on a file in `folder` (or ClickHouse through chDB there) with the goals of GOALS
    stored, and an API key. The tests make the event rollup themselves (`insert`), so the server's
    rollup job stays off."""
    config = engine_settings(folder, engine, rollup_interval_seconds=0)
    with TestClient(create_app(config)) as client:
        with app_cursor(client) as cursor:
            for goal in GOALS:
                upsert_goal(cursor, goal, datetime(2026, 1, 1))
        yield client, served_key(client)
