"""GET /analytics/forms against a plain-Python reference: random sessions that see, start and send
forms, leads with and without a session (spam among them), bots, two projects, filters."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from pulsegate.domain.ids import new_id
from pulsegate.domain.timestamps import epoch_ms, utc_datetime
from pulsegate.store import rollup
from tests.api.reports_reference import served_app
from tests.helpers import app_cursor, new_api_key

START = datetime(2026, 3, 1)
END = datetime(2026, 3, 15)
FORMS = ("contact", "signup", "newsletter")
STEPS = ("form_view", "form_start", "form_submit")


@dataclass
class Visit:
    session_id: str
    project: str
    started_ms: int
    country: str
    is_bot: bool
    steps: list[tuple[str, str]] = field(default_factory=list)  # (type, form)


@dataclass
class Lead:
    lead_id: str
    created_ms: int
    project: str
    source: str | None
    visit: Visit | None
    spam: bool


def traffic(seed: int) -> tuple[list[Visit], list[Lead]]:
    rng = random.Random(seed)
    start, end = epoch_ms(START), epoch_ms(END)
    visits = []
    for _ in range(300):
        started = rng.randint(start - 3 * 86_400_000, end + 86_400_000)  # some outside the window
        visit = Visit(new_id(started, rng.getrandbits(74)), rng.choice(("acme", "globex")), started,
                      rng.choice(("DE", "US")), rng.random() < 0.1)  # fmt: skip
        for form in rng.sample(FORMS, rng.randint(0, 2)):
            reached = rng.randint(0, 3)
            visit.steps += [(step, form) for step in STEPS[:reached]]
            if rng.random() < 0.1:
                visit.steps.append(("form_view", form))  # seen twice: one session still
        visits.append(visit)
    leads = []
    for n in range(120):
        visit = rng.choice(visits) if rng.random() < 0.8 else None
        created = (visit.started_ms if visit else rng.randint(start, end)) + rng.randint(1_000, 600_000)
        leads.append(Lead(f"lead-{n:04d}", created, visit.project if visit else rng.choice(("acme", "globex")),
                          rng.choice((*FORMS, None)), visit, rng.random() < 0.15))  # fmt: skip
    return visits, leads


def store(cursor: Any, visits: list[Visit], leads: list[Lead]) -> None:
    cursor.executemany(
        "INSERT INTO sessions (session_id, visitor_id, project, started_at, last_seen_at, entry_url, country, "
        "is_bot) VALUES (?, ?, ?, ?, ?, 'https://a.example/', ?, ?)",
        [
            (
                v.session_id,
                f"visitor-{n}",
                v.project,
                utc_datetime(v.started_ms),
                utc_datetime(v.started_ms),
                v.country,
                v.is_bot,
            )
            for n, v in enumerate(sorted(visits, key=lambda v: v.started_ms))
        ],
    )
    events = sorted(
        (utc_datetime(v.started_ms + 1_000 * (n + 1)), v.session_id, v.project, kind, form, v.is_bot)
        for v in visits
        for n, (kind, form) in enumerate(v.steps)
    )
    # As the server stores them: form views in their own table (migration 0011).
    cursor.executemany(
        "INSERT INTO events (received_at, session_id, visitor_id, project, type, name, is_bot) "
        "VALUES (?, ?, 'v', ?, ?, ?, ?)",
        [event for event in events if event[3] != "form_view"],
    )
    cursor.executemany(
        "INSERT INTO form_views (received_at, session_id, visitor_id, project, form, is_bot) "
        "VALUES (?, ?, 'v', ?, ?, ?)",
        [
            (at, session, project, form, bot)
            for at, session, project, kind, form, bot in events
            if kind == "form_view"
        ],
    )
    cursor.executemany(
        "INSERT INTO leads (lead_id, submission_id, created_at, project, source, session_id, is_spam) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (
                lead.lead_id,
                lead.lead_id,
                utc_datetime(lead.created_ms),
                lead.project,
                lead.source,
                lead.visit.session_id if lead.visit else None,
                lead.spam,
            )
            for lead in leads
        ],
    )


def reference(
    visits: list[Visit], leads: list[Lead], projects: tuple[str, ...] | None, country: str | None, by: bool
) -> dict[Any, dict[str, Any]]:
    """Rows by form (or, `by`, by the country of form "contact"), as the README counts them."""
    start, end = epoch_ms(START), epoch_ms(END)

    def scoped(project: str) -> bool:
        return projects is None or project in projects

    rows: dict[Any, dict[str, Any]] = defaultdict(lambda: {"views": 0, "starts": 0, "submits": 0, "leads": 0,
                                                            "spam": 0})  # fmt: skip
    for visit in visits:
        counted = start <= visit.started_ms < end and not visit.is_bot and scoped(visit.project)
        if not counted or (country and visit.country != country):
            continue
        for kind, name in (("form_view", "views"), ("form_start", "starts"), ("form_submit", "submits")):
            for form in {form for step, form in visit.steps if step == kind}:
                if by and form == "contact":
                    rows[visit.country][name] += 1
                elif not by:
                    rows[form][name] += 1
    for lead in leads:
        if not (start <= lead.created_ms < end and scoped(lead.project)):
            continue
        if country and (lead.visit is None or lead.visit.country != country):
            continue  # a lead passes a filter by its session; without one it passes no positive filter
        if by and lead.source != "contact":
            continue
        value = (lead.visit.country if lead.visit else None) if by else lead.source
        rows[value]["spam" if lead.spam else "leads"] += 1
    for row in rows.values():
        for name, top, bottom in (("start_rate", "starts", "views"), ("submit_rate", "submits", "starts"),
                                  ("lead_rate", "leads", "submits"), ("conversion_rate", "leads", "views")):  # fmt: skip
            row[name] = 100.0 * row[top] / row[bottom] if row[bottom] else None
    return dict(rows)


@pytest.fixture(scope="module", params=[None, datetime(2026, 3, 8, 5, 30)], ids=["raw", "rolled-up"])
def world(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[tuple[Any, ...]]:
    """The traffic stored, and (rolled-up) the event rollup made to the middle of the window: form
    starts and submits read from its form facts there, raw events after."""
    visits, leads = traffic(7)
    with served_app(Path(tmp_path_factory.mktemp("forms"))) as (client, secret):
        with app_cursor(client) as cursor:
            store(cursor, visits, leads)
            if request.param is not None:
                assert rollup.catch_up(cursor, request.param + rollup.SETTLE) > 0
        yield client, secret, visits, leads


@pytest.mark.parametrize(
    ("scoped", "country", "by"),
    [
        (False, None, False),
        (True, None, False),
        (False, "DE", False),
        (False, None, True),
        (True, "US", True),
    ],
)
def test_forms_agree_with_the_reference(
    world: tuple[Any, ...], scoped: bool, country: str | None, by: bool
) -> None:
    client, secret, visits, leads = world
    key = new_api_key(app_settings(client), "acme") if scoped else secret
    params = {"from": START.date().isoformat(), "to": "2026-03-14", "limit": "100"}
    if country:
        params["filter"] = f"country=={country}"
    if by:
        params.update(form="contact", dimension="country")
    answer = client.get("/analytics/forms", params=params, headers={"X-API-Key": key})
    assert answer.status_code == 200, answer.text
    want = reference(visits, leads, ("acme",) if scoped else None, country, by)
    got = {row.pop("value"): row for row in answer.json()["rows"]}
    assert set(got) == set(want)
    for value, row in want.items():
        assert got[value] == pytest.approx(row), value
    views = [row["views"] for row in answer.json()["rows"]]
    assert views == sorted(views, reverse=True)


def test_bad_form_parameters_are_refused(world: tuple[Any, ...]) -> None:
    client, secret, _, _ = world
    for params, named in (({"dimension": "country"}, "dimension"), ({"form": "contact"}, "form"),
                          ({"form": "contact", "dimension": "page"}, "dimension"),
                          ({"order": "profit"}, "order")):  # fmt: skip
        answer = client.get("/analytics/forms", params=params, headers={"X-API-Key": secret})
        assert answer.status_code == 400 and answer.json()["error"].startswith(named), params


def app_settings(client: TestClient[Any]) -> Any:
    from tests.helpers import app_runtime

    return app_runtime(client).settings


def test_the_form_event_types_are_a_range_of_the_type_enum(world: tuple[Any, ...]) -> None:
    """store/rollup.FORM_EVENT_TYPES reads form_start and form_submit as a range of the ENUM."""
    from pulsegate.store.rollup import FORM_EVENT_TYPES

    client = world[0]
    with app_cursor(client) as cursor:
        between = cursor.execute(
            "SELECT list(t ORDER BY t) FROM (SELECT unnest(enum_range(NULL::event_type)) AS t) "
            f"WHERE {FORM_EVENT_TYPES.replace('type BETWEEN', 't BETWEEN')}"
        ).fetchall()[0][0]
    assert between == ["form_start", "form_submit"]
