"""Random multi-session journeys for the attribution tests, stored as the server stores sessions,
and the plain-Python reference of what each lead and the attribution report should say.

The reference is written from the README's rules, not from pulsegate/domain/attribution.py.
"""

from __future__ import annotations

import hashlib
import random
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import duckdb

from pulsegate.domain.ids import new_id
from pulsegate.domain.timestamps import utc_datetime
from pulsegate.domain.visitor import visitor_key

DAY_MS = 86_400_000
PROJECTS = ("acme", "globex")
# (source, referrer host, utm_source, utm_medium, utm_campaign, query the landing URL adds)
ORIGINS = (
    ("Direct", None, None, None, None, ""),
    ("Direct", None, None, None, None, ""),
    ("Google", "google.com", "google", "cpc", "spring", "gclid=G{n}"),
    ("newsletter", None, "newsletter", "email", None, ""),
    ("Hacker News", "news.ycombinator.com", None, None, None, ""),
    ("X", "t.co", "x", "social", "launch", "fbclid=F{n}"),
)
PATHS = ("/", "/pricing", "/blog/a")
COUNTRIES = ("DE", "US", None)
DEVICES = ("desktop", "mobile")
CURRENCIES = ("EUR", "USD")
LOW_SCORE = 20


@dataclass
class Visit:
    session_id: str
    visitor_id: str
    project: str
    started_ms: int
    source: str
    referrer_host: str | None
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    entry_url: str
    country: str | None
    device: str
    is_bot: bool
    is_hosting: bool
    score: int

    @property
    def landing_page(self) -> str:
        return urlsplit(self.entry_url).path

    def value(self, dimension: str) -> str | None:
        return {
            "source": self.source, "referrer": self.referrer_host, "utm_source": self.utm_source,
            "utm_medium": self.utm_medium, "utm_campaign": self.utm_campaign, "utm_content": None,
            "utm_term": None, "landing_page": self.landing_page, "country": self.country, "device": self.device,
        }[dimension]  # fmt: skip

    @property
    def click_ids(self) -> dict[str, str]:
        query = parse_qs(urlsplit(self.entry_url).query)
        return {key: values[0] for key, values in query.items() if key in ("gclid", "fbclid")}


@dataclass
class Journey:
    """A visitor's sessions and the lead they sent (from `converting`, or without a session)."""

    n: int
    project: str
    visits: list[Visit]
    converting: Visit | None
    spam: bool
    page_url: str
    stages: list[dict[str, Any]] = field(default_factory=list)  # callbacks, in the order sent
    lead_id: str = ""
    lead_ms: int = 0


def journeys(seed: int, now_ms: int, count: int, lookback_days: int) -> list[Journey]:
    """`count` journeys of 1-5 sessions over the last 120 days, with sessions just inside and just
    outside the lookback, bots, all-Direct visitors, another project's sessions, session-less
    leads, spam, and CRM stages."""
    rng = random.Random(seed)
    made = []
    for n in range(count):
        visitor = hashlib.sha256(f"visitor-{seed}-{n}".encode()).hexdigest()
        project = rng.choice(PROJECTS)
        offsets = [rng.randint(3_600_000, 120 * DAY_MS) for _ in range(rng.randint(1, 5))]
        if rng.random() < 0.3:  # just inside and just outside the lookback
            offsets += [lookback_days * DAY_MS - 120_000, lookback_days * DAY_MS + 120_000]
        all_direct = rng.random() < 0.15
        visits = [_visit(rng, visitor, project, now_ms - offset, n, direct=all_direct) for offset in offsets]
        if rng.random() < 0.2:  # the same visitor id on the other project's site
            other = PROJECTS[1 - PROJECTS.index(project)]
            visits.append(_visit(rng, visitor, other, now_ms - rng.randint(3_600_000, 10 * DAY_MS), n))
        own = [visit for visit in visits if visit.project == project]
        recent = [visit for visit in own if visit.started_ms > now_ms - lookback_days * DAY_MS]
        converting = None if rng.random() < 0.1 or not recent else rng.choice(recent)
        journey = Journey(
            n=n, project=project, visits=visits, converting=converting, spam=rng.random() < 0.15,
            page_url=rng.choice(("https://acme.example/contact?utm_source=hn&utm_campaign=launch",
                                 "https://acme.example/contact")),
        )  # fmt: skip
        journey.stages = _stages(rng)
        made.append(journey)
    return made


def _visit(
    rng: random.Random, visitor: str, project: str, started_ms: int, n: int, *, direct: bool = False
) -> Visit:
    source, referrer, utm_source, utm_medium, utm_campaign, query = (
        ORIGINS[0] if direct else rng.choice(ORIGINS)
    )
    query = query.format(n=n)
    return Visit(
        session_id=new_id(started_ms, rng.getrandbits(74)), visitor_id=visitor, project=project,
        started_ms=started_ms, source=source, referrer_host=referrer, utm_source=utm_source,
        utm_medium=utm_medium, utm_campaign=utm_campaign,
        entry_url=f"https://{project}.example{rng.choice(PATHS)}" + (f"?{query}" if query else ""),
        country=rng.choice(COUNTRIES), device=rng.choice(DEVICES), is_bot=rng.random() < 0.15,
        is_hosting=rng.random() < 0.2, score=rng.randint(0, 100),
    )  # fmt: skip


def _stages(rng: random.Random) -> list[dict[str, Any]]:
    kind = rng.choice(("none", "qualified", "won", "lost", "won then lost", "late qualified"))
    value = {"value": float(rng.choice((500, 1200.5, 3000))), "currency": rng.choice(CURRENCIES)}
    return {
        "none": [],
        "qualified": [{"stage": "qualified", "at": 1_000}],
        "won": [{"stage": "Qualified", "at": 1_000}, {"stage": "won", "at": 2_000, **value}],
        "lost": [{"stage": "lost", "at": 1_000}],
        "won then lost": [{"stage": "won", "at": 1_000, **value}, {"stage": "lost", "at": 2_000}],
        # The CRM tells of the qualification after the win: won stays the latest.
        "late qualified": [{"stage": "won", "at": 2_000, **value}, {"stage": "qualified", "at": 1_000}],
    }[kind]


def store_visits(cursor: duckdb.DuckDBPyConnection, visits: list[Visit]) -> None:
    """The sessions rows, ended, in start order (as the server keeps them)."""
    rows = [
        (v.session_id, v.visitor_id, v.project, utc_datetime(v.started_ms), utc_datetime(v.started_ms + 60_000),
         utc_datetime(v.started_ms + 60_000), v.entry_url, urlsplit(v.entry_url).path, v.source, v.referrer_host,
         v.utm_source, v.utm_medium, v.utm_campaign, v.country, v.device, v.is_bot, v.is_hosting, 3, 5,
         40_000, v.score, "client", visitor_key(v.visitor_id))
        for v in sorted(visits, key=lambda visit: visit.started_ms)
    ]  # fmt: skip
    cursor.executemany(
        "INSERT INTO sessions (session_id, visitor_id, project, started_at, last_seen_at, ended_at, entry_url, "
        "entry_path, source, referrer_host, utm_source, utm_medium, utm_campaign, country, device, is_bot, "
        "is_hosting, page_views, event_count, engaged_ms, engagement_score, end_reason, visitor_key) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


# ---- the reference -----------------------------------------------------------------------------


@dataclass
class Expected:
    """What a lead's attribution should be; touches are Visits, or None for the submission's own."""

    touches: list[Visit | None]
    first: Visit | None
    last: Visit | None
    time_to_convert_ms: int


def expected(journey: Journey, *, lookback_days: int, last_touch: str, cross_visit: bool) -> Expected:
    converting = journey.converting
    if converting is None:
        return Expected(touches=[None], first=None, last=None, time_to_convert_ms=0)
    since = journey.lead_ms - lookback_days * DAY_MS
    touches = [
        visit
        for visit in journey.visits
        if visit is converting
        or (cross_visit and visit.project == journey.project and not visit.is_bot
            and since <= visit.started_ms <= journey.lead_ms)
    ]  # fmt: skip
    touches.sort(key=lambda visit: (visit.started_ms, visit.session_id))
    last = converting
    if last_touch == "last_non_direct":
        not_direct = [visit for visit in touches if visit.source != "Direct"]
        last = not_direct[-1] if not_direct else converting
    return Expected(
        touches=list(touches), first=touches[0], last=last,
        time_to_convert_ms=journey.lead_ms - touches[0].started_ms,
    )  # fmt: skip


def outcome(journey: Journey) -> tuple[bool, str | None, float | None, str | None]:
    """(ever qualified or won, latest stage, its value, its currency) after the callbacks."""
    if not journey.stages:
        return False, None, None, None
    latest = max(enumerate(journey.stages), key=lambda item: (item[1]["at"], item[0]))[1]
    qualified = any(stage["stage"].lower() in ("qualified", "won") for stage in journey.stages)
    return qualified, latest["stage"].lower(), latest.get("value"), latest.get("currency")


def submitted_value(journey: Journey, dimension: str) -> str | None:
    """A session-less lead's value: its page URL's."""
    query = parse_qs(urlsplit(journey.page_url).query)
    utm_source = query.get("utm_source", [None])[0]
    return {
        "source": "Hacker News" if utm_source == "hn" else "Direct", "referrer": None,
        "utm_source": utm_source, "utm_campaign": query.get("utm_campaign", [None])[0],
        "utm_medium": None, "utm_content": None, "utm_term": None,
        "landing_page": urlsplit(journey.page_url).path, "country": None, "device": None,
    }[dimension]  # fmt: skip


def report(
    chosen: list[Journey],
    all_visits: list[Visit],
    settings: dict[str, Any],
    model: str,
    dimension: str,
    window: tuple[int, int],
    projects: tuple[str, ...] | None,
    country: str | None = None,
) -> dict[Any, dict[str, Any]]:
    """The attribution report's rows by value, for leads of `chosen` (all created in `window`),
    optionally filtered to converting sessions from `country`."""
    credited: dict[Any, list[tuple[Journey, float]]] = defaultdict(list)
    for journey in chosen:
        if projects is not None and journey.project not in projects:
            continue
        if country is not None and (journey.converting is None or journey.converting.country != country):
            continue
        found = expected(journey, **settings)
        touches = found.touches
        if model == "first":
            picked = [(found.first, 1.0)]
        elif model == "last":
            picked = [(found.last, 1.0)]
        else:
            picked = [(touch, 1.0 / len(touches)) for touch in touches]
        for touch, weight in picked:
            value = submitted_value(journey, dimension) if touch is None else touch.value(dimension)
            credited[value].append((journey, weight))
    sessions: dict[Any, int] = defaultdict(int)
    for visit in all_visits:
        in_scope = projects is None or visit.project in projects
        in_window = window[0] <= visit.started_ms < window[1]
        if in_window and not visit.is_bot and in_scope and (country is None or visit.country == country):
            sessions[visit.value(dimension)] += 1
    rows = {}
    for value, leads in credited.items():
        real = [(journey, weight) for journey, weight in leads if not journey.spam]
        with_session = [(j, w) for j, w in leads if j.converting is not None]
        revenue: dict[str, float] = defaultdict(float)
        for journey, weight in real:
            _, stage, amount, currency = outcome(journey)
            if stage == "won" and amount is not None:
                revenue[currency] += weight * amount  # type: ignore[index]
        count = sum(weight for _, weight in real)
        times = [expected(journey, **settings).time_to_convert_ms for journey, _ in real]
        rows[value] = {
            "leads": count,
            "qualified": sum(w for j, w in real if outcome(j)[0]),
            "won": sum(w for j, w in real if outcome(j)[1] == "won"),
            "revenue": dict(revenue),
            "conversion_rate": 100.0 * count / sessions[value] if sessions.get(value) else None,
            "median_time_to_convert_ms": statistics.median(times) if times else None,
            "avg_touches": statistics.mean(len(expected(j, **settings).touches) for j, _ in real) if real else None,
            "spam_share": 100.0 * sum(w for j, w in leads if j.spam) / sum(w for _, w in leads),
            "hosting_share": 100.0 * sum(w for j, w in with_session if j.converting.is_hosting)  # type: ignore[union-attr]
            / sum(w for _, w in with_session) if with_session else None,
            "low_engagement_share": 100.0 * sum(w for j, w in with_session if j.converting.score < LOW_SCORE)  # type: ignore[union-attr]
            / sum(w for _, w in with_session) if with_session else None,
        }  # fmt: skip
    return rows
