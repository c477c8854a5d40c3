"""Fixture traffic for the analytics tests, and the expected answers computed from it in plain Python.

The expectations never run PulseGate's SQL: they are counted here from the same lists that were
inserted, so a wrong query cannot agree with itself.
"""

from __future__ import annotations

import random
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import duckdb

from pulsegate.domain.visitor import visitor_key
from pulsegate.store.clickhouse.cursor import is_clickhouse

PROJECTS = ("acme", "globex")
COUNTRIES = ("US", "DE", "JP", None)
SOURCES = ("Google", "Direct", "Hacker News", "X")
PATHS = ("/", "/pricing", "/blog/launch", "/docs")
FIRST_DAY = datetime(2026, 3, 1)
DAYS = 10


@dataclass
class FixtureSession:
    session_id: str
    visitor_id: str
    project: str
    started_at: datetime
    is_bot: bool
    country: str | None
    source: str
    ended: bool
    page_views: int
    engaged_ms: int
    score: int | None
    events: list[tuple[datetime, str, str | None, int | None]] = field(
        default_factory=list
    )  # (at, type, path, engaged)


@dataclass
class FixtureLead:
    lead_id: str
    created_at: datetime
    project: str
    session: FixtureSession | None  # the session it was captured in; None: a form without the tracker
    is_spam: bool

    @property
    def traffic_source(self) -> str | None:
        return self.session.source if self.session else None


@dataclass
class Fixture:
    sessions: list[FixtureSession]
    leads: list[FixtureLead]


def build(seed: int = 42) -> Fixture:
    """About 400 sessions over ten days in two projects, with bots, events and leads."""
    rng = random.Random(seed)
    sessions: list[FixtureSession] = []
    for n in range(400):
        started = FIRST_DAY + timedelta(seconds=rng.randrange(DAYS * 86_400))
        sessions.append(_session(rng, n, started))
    # The timezone edge: 23:30 UTC on the 4th is already the 5th in Tokyo.
    sessions.append(_session(rng, 400, datetime(2026, 3, 4, 23, 30), force_human=True))
    leads = []
    for n in range(40):
        session = rng.choice(sessions) if rng.random() < 0.8 else None
        leads.append(
            FixtureLead(
                lead_id=f"lead-{n}",
                # In the session's first hour, so usually in the same window (not always: some
                # sessions start just before midnight).
                created_at=session.started_at + timedelta(seconds=rng.randrange(3600))
                if session
                else FIRST_DAY + timedelta(seconds=rng.randrange(DAYS * 86_400)),
                project=session.project if session else rng.choice(PROJECTS),
                session=session,
                is_spam=rng.random() < 0.2,
            )
        )
    return Fixture(sessions, leads)


def _session(rng: random.Random, n: int, started: datetime, *, force_human: bool = False) -> FixtureSession:
    ended = rng.random() < 0.8
    page_views = rng.randint(1, 6)
    session = FixtureSession(
        session_id=f"s-{n:04d}",
        visitor_id=f"v-{rng.randrange(250):03d}",
        project=rng.choice(PROJECTS),
        started_at=started,
        is_bot=not force_human and rng.random() < 0.1,
        country=rng.choice(COUNTRIES),
        source=rng.choice(SOURCES),
        ended=ended,
        page_views=page_views,
        engaged_ms=rng.randrange(0, 180_000),
        score=rng.randint(0, 100) if ended else None,
    )
    at = started
    for _ in range(page_views):
        path = rng.choice(PATHS)
        session.events.append((at, "pageview", path, None))
        at += timedelta(seconds=rng.randrange(1, 90))
        if rng.random() < 0.5:
            session.events.append((at, "engagement", path, rng.randrange(1000, 60_000)))
        if rng.random() < 0.3:
            session.events.append((at, "click", path, None))
    return session


def insert(connection: duckdb.DuckDBPyConnection, fixture: Fixture) -> None:
    """Write the fixture's rows as the server would have stored them (through DuckDB's appender,
    or one insert per table on ClickHouse)."""
    _append(
        connection, "sessions",
        ["session_id", "visitor_id", "visitor_key", "project", "started_at", "last_seen_at", "ended_at", "entry_url",
         "source", "country", "is_bot", "page_views", "event_count", "engaged_ms", "engagement_score"],
        [(s.session_id, s.visitor_id, visitor_key(s.visitor_id), s.project, s.started_at, s.started_at,
          s.started_at + timedelta(minutes=5) if s.ended else None, "https://example.com/", s.source,
          s.country, s.is_bot, s.page_views if s.ended else None, len(s.events) if s.ended else None,
          s.engaged_ms if s.ended else None, s.score)
         for s in fixture.sessions],
    )  # fmt: skip
    _append(
        connection, "events",
        ["received_at", "session_id", "visitor_id", "project", "type", "url", "path", "engaged_ms", "is_bot"],
        [(at, s.session_id, s.visitor_id, s.project, kind, f"https://example.com{path}", path, engaged, s.is_bot)
         for s in fixture.sessions for at, kind, path, engaged in s.events],
    )  # fmt: skip
    _append(
        connection, "leads",
        ["lead_id", "submission_id", "created_at", "project", "session_id", "traffic_source", "is_spam"],
        [(lead.lead_id, lead.lead_id, lead.created_at, lead.project,
          lead.session.session_id if lead.session else None, lead.traffic_source, lead.is_spam)
         for lead in fixture.leads],
    )  # fmt: skip


def _append(connection: duckdb.DuckDBPyConnection, table: str, columns: list[str], rows: list[tuple]) -> None:
    if is_clickhouse(connection):
        connection.insert(table, columns, rows)  # type: ignore[attr-defined]
        return
    appender = connection.appender(table, columns=columns)
    appender.append_rows(rows)
    appender.flush()


# ---- expected answers, in plain Python ---------------------------------------------------------


def in_window(moment: datetime, start: datetime, end: datetime) -> bool:
    return start <= moment < end


def humans(
    fixture: Fixture, start: datetime, end: datetime, projects: tuple[str, ...] | None
) -> list[FixtureSession]:
    return [
        s for s in fixture.sessions
        if not s.is_bot and in_window(s.started_at, start, end) and (projects is None or s.project in projects)
    ]  # fmt: skip


def human_events(
    fixture: Fixture, start: datetime, end: datetime, projects: tuple[str, ...] | None
) -> list[tuple]:
    return [
        (s, at, kind, path, engaged)
        for s in fixture.sessions
        if not s.is_bot and (projects is None or s.project in projects)
        for at, kind, path, engaged in s.events
        if in_window(at, start, end)
    ]


def real_leads(
    fixture: Fixture, start: datetime, end: datetime, projects: tuple[str, ...] | None
) -> list[FixtureLead]:
    return [
        lead for lead in fixture.leads
        if not lead.is_spam and in_window(lead.created_at, start, end) and (projects is None or lead.project in projects)
    ]  # fmt: skip


def totals(fixture: Fixture, start: datetime, end: datetime, projects: tuple[str, ...] | None = None) -> dict:
    sessions = humans(fixture, start, end, projects)
    ended = [s for s in sessions if s.ended]
    return {
        "sessions": len(sessions),
        "visitors": len({s.visitor_id for s in sessions}),
        # Every event of the sessions that started in the window (the reports' session population).
        "events": sum(len(s.events) for s in sessions),
        "page_views": sum(1 for s in sessions for e in s.events if e[1] == "pageview"),
        "average_engaged_ms": statistics.fmean(s.engaged_ms for s in ended) if ended else None,
        "bounce_rate": sum(1 for s in ended if s.page_views <= 1) / len(ended) if ended else None,
        "leads": len(real_leads(fixture, start, end, projects)),
    }


def daily(fixture: Fixture, start: datetime, end: datetime, tz: str, days: list[date]) -> list[dict]:
    zone = ZoneInfo(tz)
    by_day: dict[date, list[FixtureSession]] = defaultdict(list)
    for s in humans(fixture, start, end, None):
        by_day[s.started_at.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone).date()].append(s)
    return [
        {
            "date": day.isoformat(),
            "sessions": len(by_day[day]),
            "visitors": len({s.visitor_id for s in by_day[day]}),
        }
        for day in days
    ]


def pages(fixture: Fixture, start: datetime, end: datetime) -> list[dict]:
    views: Counter[str] = Counter()
    visitors: dict[str, set[str]] = defaultdict(set)
    engaged: Counter[str] = Counter()
    for s, _at, kind, path, engaged_ms in human_events(fixture, start, end, None):
        if kind == "pageview":
            views[path] += 1
            visitors[path].add(s.visitor_id)
        if kind in ("pageview", "engagement") and engaged_ms:
            engaged[path] += engaged_ms
    ranked = sorted(views, key=lambda p: (-views[p], p))
    return [
        {
            "path": p,
            "views": views[p],
            "visitors": len(visitors[p]),
            "average_engaged_ms": engaged[p] / views[p],
        }
        for p in ranked
    ]


def geo(fixture: Fixture, start: datetime, end: datetime) -> list[dict]:
    sessions = humans(fixture, start, end, None)
    by_country: dict[str | None, list[FixtureSession]] = defaultdict(list)
    for s in sessions:
        by_country[s.country].append(s)
    ranked = sorted(by_country, key=lambda c: (-len(by_country[c]), c is None, c or ""))
    return [
        {"country": c, "sessions": len(by_country[c]), "visitors": len({s.visitor_id for s in by_country[c]}),
         "share": len(by_country[c]) / len(sessions)}
        for c in ranked
    ]  # fmt: skip


def engagement(fixture: Fixture, start: datetime, end: datetime) -> dict:
    scores = [s.score for s in humans(fixture, start, end, None) if s.score is not None]
    edges = [(0, 20), (21, 40), (41, 60), (61, 80), (81, 100)]
    return {
        "scored_sessions": len(scores),
        "buckets": [
            {"range": f"{low}-{high}", "sessions": sum(1 for x in scores if low <= x <= high)}
            for low, high in edges
        ],
        "mean": statistics.fmean(scores) if scores else None,
        "median": statistics.median(scores) if scores else None,
    }


def sources(fixture: Fixture, start: datetime, end: datetime) -> list[dict]:
    sessions = humans(fixture, start, end, None)
    by_source: dict[str, list[FixtureSession]] = defaultdict(list)
    for s in sessions:
        by_source[s.source].append(s)
    # Leads by their session's source; leads without a session belong to no source.
    leads = Counter(lead.traffic_source for lead in real_leads(fixture, start, end, None) if lead.session)
    ranked = sorted(by_source, key=lambda src: (-len(by_source[src]), src))
    return [
        {"source": src, "sessions": len(by_source[src]), "visitors": len({s.visitor_id for s in by_source[src]}),
         "leads": leads[src], "conversion_rate": leads[src] / len(by_source[src])}
        for src in ranked
    ]  # fmt: skip
