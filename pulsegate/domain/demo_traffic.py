"""Realistic sample traffic and leads for `pulsegate demo seed` (pure: a seeded random generator).

Visits follow a working week and a day's rhythm, grow a little over the period, come from a
plausible mix of sources, countries and devices, read a few pages, click, scroll, and now and
then send a lead. Every visit is built from the same domain objects real traffic produces, so
its summary and engagement score come from the same code.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from dataclasses import dataclass, field

from pulsegate.domain.engagement import engagement_score
from pulsegate.domain.enrichment import SessionOrigin
from pulsegate.domain.ids import new_id
from pulsegate.domain.leads import LeadSubmission, StageEntry
from pulsegate.domain.sessions import OpenSession
from pulsegate.domain.tracking import EventFields, SessionStart

DAY_MS = 86_400_000
SITE = "https://www.acme-rockets.example"
LINKS = {"outbound": "https://github.com/pulsegate/pulsegate", "download": f"{SITE}/files/brochure.pdf"}
PROJECTS = (("acme", 0.8), ("acme-docs", 0.2))
# (source as analytics groups it, referrer URL or None, utm_source, weight)
SOURCES = (
    ("Google", "https://www.google.com/", None, 36),
    ("Direct", None, None, 24),
    ("Hacker News", "https://news.ycombinator.com/item?id=42", None, 8),
    ("X", "https://t.co/abc123", None, 6),
    ("LinkedIn", "https://www.linkedin.com/feed/", None, 6),
    ("Reddit", "https://www.reddit.com/r/selfhosted/", None, 5),
    ("newsletter", None, "newsletter", 5),
    ("Bing", "https://www.bing.com/", None, 4),
    ("GitHub", "https://github.com/acme/rockets", None, 3),
    ("DuckDuckGo", "https://duckduckgo.com/", None, 3),
)
COUNTRIES = (("US", 30), ("DE", 12), ("GB", 10), ("IN", 8), ("FR", 7), ("CA", 5), ("NL", 4), ("BR", 4),
             ("JP", 3), ("AU", 3), ("ES", 3), ("SE", 2), ("PL", 2), ("IT", 2), (None, 2))  # fmt: skip
DEVICES = (("desktop", 62), ("mobile", 34), ("tablet", 4))
BROWSERS = {
    "desktop": (("Chrome", "Windows", 45), ("Chrome", "Mac OS X", 15), ("Safari", "Mac OS X", 12),
                ("Firefox", "Windows", 10), ("Edge", "Windows", 12), ("Firefox", "Linux", 6)),
    "mobile": (("Mobile Safari", "iOS", 48), ("Chrome Mobile", "Android", 46),
               ("Samsung Internet", "Android", 6)),
    "tablet": (("Mobile Safari", "iOS", 80), ("Chrome Mobile", "Android", 20)),
}  # fmt: skip
HOSTING_NETWORKS = ("DigitalOcean, LLC", "Amazon.com, Inc.", "M247 Europe SRL", "Hetzner Online GmbH")
PAGES = {
    "acme": ("/", "/pricing", "/features", "/blog/launch-week", "/blog/duckdb-analytics", "/about",
             "/contact", "/signup", "/customers", "/careers"),
    "acme-docs": ("/docs/", "/docs/install", "/docs/api", "/docs/tracking", "/docs/forms", "/docs/faq"),
}  # fmt: skip
TITLES = {"/": "Acme Rockets", "/docs/": "Docs"}
FORM_PAGES = ("/contact", "/signup", "/docs/faq")
NAMES = ("Ada Lovelace", "Grace Hopper", "Alan Turing", "Katherine Johnson", "Linus Svensson",
         "Mina Patel", "Jonas Weber", "Chloé Martin", "Hiro Tanaka", "Sofia Rossi", "Priya Nair",
         "Lucas Silva")  # fmt: skip
COMPANIES = ("Initech", "Globex", "Umbrella Labs", "Hooli", "Stark Industries", "Wayne Enterprises", None)
LEAD_STATUSES = (("synced", 55), ("forwarded", 18), ("new", 12), ("failed", 5), ("spam", 10))


@dataclass(frozen=True, slots=True)
class DemoVisitor:
    """Who visits: the same person comes back with the same device, place and site."""

    visitor_id: str
    project: str
    country: str | None
    device: str
    browser: str
    os: str
    language: str
    is_bot: bool
    hosting: bool


@dataclass(slots=True)
class DemoEvent:
    """One event of a visit and when the server received it."""

    at_ms: int
    fields: EventFields


@dataclass(slots=True)
class DemoLead:
    """A lead a visit sent, with what became of it."""

    lead_id: str
    created_ms: int
    submission: LeadSubmission
    status: str  # new, forwarded, synced, failed, spam
    spam_reason: str | None
    crm_lead_id: str | None
    stages: list[StageEntry] = field(default_factory=list)  # what the CRM reported back


@dataclass(slots=True)
class DemoVisit:
    """One session: how it started, what it did, how it ended, and its lead if it sent one."""

    session: OpenSession
    start: SessionStart
    origin: SessionOrigin
    user_agent: str
    events: list[DemoEvent] = field(default_factory=list)
    ended_ms: int = 0
    end_reason: str = "client"
    score: int = 0
    lead: DemoLead | None = None


def _pick(rng: random.Random, weighted: tuple[tuple, ...]) -> tuple:
    return rng.choices(weighted, weights=[item[-1] for item in weighted])[0]


def _visit_time(rng: random.Random, now_ms: int, days: int) -> int:
    """A moment in the last `days`: weekdays busier than weekends, afternoons busier than nights,
    and a little more traffic lately."""
    while True:
        # Later days are likelier (up to 40% more at the end of the period).
        back = rng.random() ** 1.15 * days * DAY_MS
        at = now_ms - int(back)
        hour = (at // 3_600_000) % 24
        weekday = (at // DAY_MS + 3) % 7  # 1970-01-01 was a Thursday; 0 is Monday
        rhythm = (0.35 + 0.65 * max(0.0, 1 - abs(hour - 14) / 10)) * (0.55 if weekday >= 5 else 1.0)
        if rng.random() < rhythm:
            return at


def generate_visits(*, seed: int, days: int, sessions: int, now_ms: int) -> list[DemoVisit]:
    """`sessions` visits over the last `days` days, oldest first, the same for the same seed."""
    rng = random.Random(seed)
    visitors = [_visitor(rng, seed, n) for n in range(max(1, sessions * 7 // 10))]  # some come back
    visits = []
    for n in range(sessions):
        # A few visits are happening right now, so the realtime panel has something to show.
        started = (
            now_ms - rng.randint(0, 240_000)
            if n < max(1, sessions // 200)
            else _visit_time(rng, now_ms, days)
        )
        visits.append(_visit(rng, started, rng.choice(visitors), now_ms))
    visits.sort(key=lambda visit: visit.session.started_ms)
    return visits


def _visitor(rng: random.Random, seed: int, n: int) -> DemoVisitor:
    device = _pick(rng, DEVICES)[0]
    browser, os_name, _ = _pick(rng, BROWSERS[device])
    return DemoVisitor(
        visitor_id=hashlib.sha256(f"demo-visitor-{seed}-{n}".encode()).hexdigest(),
        project=_pick(rng, PROJECTS)[0],
        country=_pick(rng, COUNTRIES)[0],
        device=device,
        browser=browser,
        os=os_name,
        language=rng.choice(("en-US", "en-GB", "de-DE", "fr-FR")),
        is_bot=rng.random() < 0.02,
        hosting=rng.random() < 0.03,
    )


def _visit(rng: random.Random, started_ms: int, visitor: DemoVisitor, now_ms: int) -> DemoVisit:
    project, country, device, is_bot, hosting = (
        visitor.project, visitor.country, visitor.device, visitor.is_bot, visitor.hosting
    )  # fmt: skip
    browser, os_name = visitor.browser, visitor.os
    source, referrer, utm_source, _ = _pick(rng, SOURCES)
    pages = PAGES[project]
    landing = rng.choice(pages[:5])
    query = "?utm_source=newsletter&utm_medium=email&utm_campaign=november" if utm_source else ""
    start = SessionStart(
        url=f"{SITE}{landing}{query}",
        referrer=referrer,
        title=TITLES.get(landing, landing.strip("/").title()),
        project=project,
        screen_width=1440 if device == "desktop" else 390,
        screen_height=900 if device == "desktop" else 844,
        language=visitor.language,
        timezone="Europe/Berlin",
        timestamp=started_ms,
    )
    origin = SessionOrigin(
        source=source,
        referrer_host=referrer.split("/")[2] if referrer else None,
        utm_source=utm_source,
        utm_medium="email" if utm_source else None,
        utm_campaign="november" if utm_source else None,
        utm_term=None,
        utm_content=None,
        country=country,
        as_organisation=rng.choice(HOSTING_NETWORKS) if hosting else None,
        is_hosting=hosting,
        browser="Googlebot" if is_bot else browser,
        os=os_name,
        device="bot" if is_bot else device,
        is_bot=is_bot,
    )
    session_id = new_id(started_ms, rng.getrandbits(74))
    session = OpenSession(session_id, visitor.visitor_id, project, started_ms, started_ms, is_bot=is_bot)
    session.activity.record("pageview", start.url, None)
    visit = DemoVisit(session, start, origin, f"Mozilla/5.0 (demo; {device}) {browser}")
    at = started_ms
    page_count = 1 if rng.random() < 0.42 else min(1 + int(rng.expovariate(0.45)), 9)
    path = landing
    for page_number in range(page_count):
        if page_number:
            path = rng.choice(pages)
            at += rng.randint(4_000, 70_000)
            visit.events.append(
                DemoEvent(
                    at,
                    EventFields(
                        type="pageview", url=f"{SITE}{path}", title=TITLES.get(path, path.strip("/").title())
                    ),
                )
            )
        for _ in range(rng.choices((0, 1, 2, 3), weights=(45, 30, 15, 10))[0]):
            at += rng.randint(2_000, 20_000)
            kind = rng.choices(("click", "outbound", "download"), weights=(85, 10, 5))[0]
            name = {
                "click": rng.choice(("Get started", "See pricing", "Menu", "Read more")),
                "outbound": "GitHub",
                "download": "brochure.pdf",
            }[kind]
            # Links carry their address, as the tracker sends it (the outbound and download reports).
            props = {"href": LINKS[kind]} if kind in LINKS else None
            visit.events.append(
                DemoEvent(at, EventFields(type=kind, name=name, url=f"{SITE}{path}", props=props))
            )
        depth = rng.choice((25, 50, 75, 100)) if rng.random() < 0.7 else 10
        engaged = int(rng.expovariate(1 / 25_000)) if rng.random() < 0.8 else 0
        at += rng.randint(1_000, 15_000)
        visit.events.append(
            DemoEvent(at, EventFields(type="scroll", url=f"{SITE}{path}", props={"depth": depth}))
        )
        if engaged:
            visit.events.append(
                DemoEvent(
                    at, EventFields(type="engagement", url=f"{SITE}{path}", props={"engaged_ms": engaged})
                )
            )
        # People see a form page's form (crawlers run no form.js); half start it; a visit sends one
        # lead at most.
        if path in FORM_PAGES and not is_bot:
            visit.events.append(
                DemoEvent(at, EventFields(type="form_view", name=form_label(path), url=f"{SITE}{path}"))
            )
        if path in FORM_PAGES and not is_bot and visit.lead is None and rng.random() < 0.5:
            at += rng.randint(3_000, 30_000)
            visit.events.append(
                DemoEvent(at, EventFields(type="form_start", name=form_label(path), url=f"{SITE}{path}"))
            )
            if rng.random() < 0.55:
                at += rng.randint(8_000, 90_000)
                visit.events.append(
                    DemoEvent(at, EventFields(type="form_submit", name=form_label(path), url=f"{SITE}{path}"))
                )
                visit.lead = _lead(rng, visit, path, at, now_ms)
                # What a site sends with PulseGate.track() after a signup: a custom event with properties.
                if path == "/signup":
                    plan = {"plan": rng.choice(("free", "free", "pro", "team")), "seats": rng.randint(1, 5)}
                    visit.events.append(_custom(at, "Signup", path, plan))
        elif path == "/pricing" and not is_bot and rng.random() < 0.15:
            at += rng.randint(3_000, 30_000)
            billing = {"billing": rng.choice(("monthly", "yearly"))}
            visit.events.append(_custom(at, "Pricing toggle", path, billing))
    # Visits still going on would be open sessions the server does not know of: end them all.
    for event in visit.events:
        event.at_ms = min(event.at_ms, now_ms - 1_000)
        session.activity.record(event.fields.type, event.fields.url, event.fields.props)
    session.last_seen_ms = max([started_ms] + [event.at_ms for event in visit.events])
    visit.end_reason = "client" if rng.random() < 0.7 else "idle"
    visit.ended_ms = min(session.last_seen_ms + rng.randint(1_000, 20_000), now_ms)
    visit.score = engagement_score(session.activity)
    if visit.lead is not None:
        visit.lead.created_ms = min(visit.lead.created_ms, now_ms - 1_000)
    return visit


def _custom(at_ms: int, name: str, path: str, props: dict[str, str | int]) -> DemoEvent:
    """A custom event, as `PulseGate.track(name, props)` sends it."""
    return DemoEvent(at_ms, EventFields(type="custom", name=name, url=f"{SITE}{path}", props=props))


def form_label(path: str) -> str:
    """The label a demo page's form goes by: its events' name and its leads' source."""
    return path.strip("/").replace("docs/", "docs-")


def _lead(rng: random.Random, visit: DemoVisit, path: str, at_ms: int, now_ms: int) -> DemoLead:
    name = rng.choice(NAMES)
    status = _pick(rng, LEAD_STATUSES)[0]
    spam_reason = rng.choice(("honeypot", "too fast")) if status == "spam" else None
    first = name.split()[0].lower().replace("é", "e")
    submission = LeadSubmission(
        submission_id=uuid.UUID(int=rng.getrandbits(128)).hex,
        name=name,
        email=f"{first}.{rng.randint(1, 999)}@example.com",
        company=rng.choice(COMPANIES),
        message=rng.choice(("Can we get a demo?", "Pricing for 20 seats?", None)),
        project=visit.session.project,
        source=form_label(path),
        fields={"team_size": rng.choice(("1-10", "11-50", "51-200"))},
        session_id=visit.session.session_id,
        visitor_id=visit.session.visitor_id,
        page_url=f"{SITE}{path}",
        utm_source=visit.origin.utm_source,
        utm_medium=visit.origin.utm_medium,
        utm_campaign=visit.origin.utm_campaign,
        website="http://cheap-pills.example" if spam_reason == "honeypot" else None,
        # A form sent faster than leads.min_fill_ms (2 s) is what "too fast" means.
        elapsed_ms=rng.randint(300, 1_500) if spam_reason == "too fast" else rng.randint(6_000, 120_000),
    )
    return DemoLead(
        lead_id=new_id(at_ms, rng.getrandbits(74)),
        created_ms=at_ms,
        submission=submission,
        status=status,
        spam_reason=spam_reason,
        crm_lead_id=f"crm-{rng.randint(10_000, 99_999)}" if status == "synced" else None,
        stages=_stages(at_ms, now_ms, seed=submission.submission_id) if status == "synced" else [],
    )


# (the stages a synced lead goes through, weight): most stay open, some are won, some lost.
STAGE_PATHS = ((("qualified",), 35), (("qualified", "won"), 20), (("lost",), 15), ((), 30))
DEAL_VALUES = (500.0, 1_200.0, 2_400.0, 6_000.0, 15_000.0)


def _stages(at_ms: int, now_ms: int, *, seed: str) -> list[StageEntry]:
    """The CRM's stages for a synced lead, a day or more apart (none yet that would come after
    `now_ms`), won deals with a value in EUR.

    A generator of its own per lead: drawing from the visits' one would change every visit after it.
    """
    rng = random.Random(seed)
    stages = []
    for n, stage in enumerate(_pick(rng, STAGE_PATHS)[0], start=1):
        value = rng.choice(DEAL_VALUES) if stage == "won" else None
        at = at_ms + n * rng.randint(3_600_000, 3 * 86_400_000)
        if at > now_ms:
            break
        stages.append(StageEntry(stage=stage, value=value, currency="EUR" if value else None, at=at))
    return stages
