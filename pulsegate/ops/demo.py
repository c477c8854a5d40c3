"""`pulsegate demo seed`: fill a database with sample traffic and leads, to see the dashboard at work."""

from __future__ import annotations

from datetime import datetime

import duckdb
import msgspec

from pulsegate.config import AttributionSettings
from pulsegate.domain.attribution import ConvertingSession, LeadOrigin, SessionTouch, attribute
from pulsegate.domain.demo_traffic import DemoLead, DemoVisit, generate_visits
from pulsegate.domain.funnels import funnel
from pulsegate.domain.goals import Goal
from pulsegate.domain.sources import path_of
from pulsegate.domain.timestamps import now_ms, utc_datetime
from pulsegate.errors import InvalidInput
from pulsegate.ops.context import OpContext
from pulsegate.ops.operation import Operation
from pulsegate.store import tracking as rows
from pulsegate.store.attribution import attribution_row
from pulsegate.store.funnels import funnel_rows, upsert_funnel
from pulsegate.store.goals import goal_rows, upsert_goal
from pulsegate.store.leads import new_lead_row, stage_rows
from pulsegate.store.writer import RowWrite, commit_writes

VISITS_PER_COMMIT = 2_000
# A running server writes nothing else while an operation runs: keep a seed there to seconds.
MAX_SESSIONS_IN_A_RUNNING_SERVER = 20_000
DELIVERY_COLUMNS = (
    "delivery_id", "subject_id", "target", "payload", "status", "attempts", "next_attempt_at",
    "last_attempt_at", "last_status", "last_error", "created_at", "delivered_at",
)  # fmt: skip
LEAD_OUTCOME_COLUMNS = ("lead_id", "status", "crm_lead_id", "crm_synced_at")


class SeedArgs(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    days: int = 30
    sessions: int = 5_000
    seed: int = 1
    force: bool = False  # seed even a database that already holds sessions
    now_ms: int | None = None  # where the period ends (default: now); fixed, the data is reproducible


class Seeded(msgspec.Struct, kw_only=True):
    sessions: int
    events: int
    leads: int
    first_ms: int | None
    last_ms: int | None
    goals_added: list[str] = []  # the sample goals and funnel, when their names were free


# What the sample site converts on, and the way there: so the dashboard's Goals and Funnel panels
# show something on a seeded file. Added only under names not taken.
SAMPLE_GOALS = (
    Goal(name="Signup", kind="event", event="Signup"),
    Goal(name="Pro signup", kind="event", event="Signup", prop_key="plan", prop_value="pro"),
    Goal(name="Pricing page", kind="page", page="/pricing"),
    Goal(name="Lead", kind="lead"),
)
SAMPLE_FUNNEL = funnel(["page:/pricing", "page:/signup", "goal:Signup"], name="Pricing to signup")


def seed(context: OpContext, args: SeedArgs) -> Seeded:
    """Generate the visits and store them as real traffic would be stored."""
    if not 1 <= args.days <= 3_650:
        raise InvalidInput("--days: between 1 and 3650")
    if not 1 <= args.sessions <= 1_000_000:
        raise InvalidInput("--sessions: between 1 and 1,000,000")
    if context.server is not None and args.sessions > MAX_SESSIONS_IN_A_RUNNING_SERVER:
        raise InvalidInput(
            f"--sessions: at most {MAX_SESSIONS_IN_A_RUNNING_SERVER:,} while the server runs (tracking waits "
            "meanwhile); stop it, or seed another file with --database"
        )
    connection = context.connection
    existing = connection.execute("SELECT count(*) FROM sessions").fetchall()[0][0]
    if existing and not args.force:
        raise InvalidInput(
            f"This database already holds {existing:,} sessions; sample data would mix with them. "
            "Seed a new file (--database demo.duckdb) or pass --force."
        )
    end_ms = args.now_ms if args.now_ms is not None else now_ms()
    # Seeding again (--force) with the same seed would make the same ids: shift it.
    seed_value = args.seed + existing * 7_919
    visits = generate_visits(seed=seed_value, days=args.days, sessions=args.sessions, now_ms=end_ms)
    events = leads = 0
    earlier: dict[str, list[SessionTouch]] = {}  # each visitor's visits so far, for attribution
    for first in range(0, len(visits), VISITS_PER_COMMIT):
        writes: list[RowWrite] = []
        for visit in visits[first : first + VISITS_PER_COMMIT]:
            writes += _visit_writes(visit)
            events += len(visit.events) + 1  # and the landing page view
            earlier.setdefault(visit.session.visitor_id, []).append(_touch(visit))
            if visit.lead is not None:
                writes += _lead_writes(visit, visit.lead, earlier[visit.session.visitor_id])
                leads += 1
        try:
            commit_writes(connection, writes)
        except duckdb.ConstraintException as exc:
            raise InvalidInput(
                f"Sample ids collide with rows already stored; try another --seed ({exc})"
            ) from None
    return Seeded(
        sessions=len(visits),
        events=events,
        leads=leads,
        first_ms=visits[0].session.started_ms if visits else None,
        last_ms=max((visit.ended_ms for visit in visits), default=None),
        goals_added=_add_samples(connection, utc_datetime(end_ms)),
    )


def _add_samples(connection: duckdb.DuckDBPyConnection, now: datetime) -> list[str]:
    """The sample goals and funnel whose names are free, added; their names."""
    added = []
    taken = {goal.name for goal, *_ in goal_rows(connection)}
    for goal in SAMPLE_GOALS:
        if goal.name not in taken:
            upsert_goal(connection, goal, now)
            added.append(goal.name)
    if SAMPLE_FUNNEL.name not in {saved.name for saved, _ in funnel_rows(connection)}:
        upsert_funnel(connection, SAMPLE_FUNNEL, now)
        added.append(f"funnel {SAMPLE_FUNNEL.name}")
    return added


def _visit_writes(visit: DemoVisit) -> list[RowWrite]:
    session = visit.session
    writes = list(rows.new_session_rows(session, visit.start, visit.origin, visit.user_agent))
    writes += [
        write for event in visit.events for write in rows.event_rows(session, [event.fields], event.at_ms)
    ]
    writes.append(rows.session_end_rows([(session, visit.ended_ms, visit.end_reason, visit.score)]))
    return writes


def _touch(visit: DemoVisit) -> SessionTouch:
    """A visit as attribution sees it."""
    origin = visit.origin
    return SessionTouch(
        session_id=visit.session.session_id, started_ms=visit.session.started_ms, source=origin.source,
        referrer_host=origin.referrer_host, utm_source=origin.utm_source, utm_medium=origin.utm_medium,
        utm_campaign=origin.utm_campaign, utm_term=origin.utm_term, utm_content=origin.utm_content,
        entry_url=visit.start.url, country=origin.country, device=origin.device, is_bot=origin.is_bot,
    )  # fmt: skip


def _origin(visit: DemoVisit, lead: DemoLead, sessions: list[SessionTouch]) -> LeadOrigin:
    """Where a sample lead came from, by the rules a captured one follows (default settings)."""
    settings = AttributionSettings()
    attribution = attribute(
        sessions, lead_ms=lead.created_ms, converting_session_id=visit.session.session_id,
        lookback_days=settings.lookback_days, last_touch=settings.last_touch,
    )  # fmt: skip
    assert attribution is not None  # the converting visit always counts
    activity = visit.session.activity
    converting = ConvertingSession(
        landing_page=path_of(visit.start.url), page_views=activity.page_views,
        engaged_ms=activity.engaged_ms, engagement_score=visit.score,
    )  # fmt: skip
    return LeadOrigin(
        visitor_id=visit.session.visitor_id, traffic_source=visit.origin.source, attribution=attribution,
        converting=converting, from_hosting=visit.origin.is_hosting,
    )  # fmt: skip


def _lead_writes(visit: DemoVisit, lead: DemoLead, sessions: list[SessionTouch]) -> list[RowWrite]:
    created = utc_datetime(lead.created_ms)
    origin = _origin(visit, lead, sessions)
    writes = [
        new_lead_row(lead.lead_id, lead.submission, created_ms=lead.created_ms, origin=origin,
                     spam_reason=lead.spam_reason),
        attribution_row(lead.lead_id, origin),
        RowWrite("leads", LEAD_OUTCOME_COLUMNS,
                 [(lead.lead_id, lead.status, lead.crm_lead_id, created if lead.crm_lead_id else None)],
                 action="update", key=("lead_id",)),
    ]  # fmt: skip
    for n, entry in enumerate(lead.stages):
        writes += stage_rows(lead.lead_id, entry, entry.at, latest=n == len(lead.stages) - 1)
    if lead.status in ("forwarded", "synced", "failed"):
        failed = lead.status == "failed"
        payload = msgspec.json.encode({"lead_id": lead.lead_id, "email": lead.submission.email}).decode()
        row = (
            f"demo-{lead.lead_id}", lead.lead_id, "crm", payload, "failed" if failed else "delivered",
            8 if failed else 1, created, created, 500 if failed else 200,
            "HTTP 500 from the webhook" if failed else None, created, None if failed else created,
        )  # fmt: skip
        writes.append(RowWrite("deliveries", DELIVERY_COLUMNS, [row]))
    return writes


SEED = Operation(
    "demo.seed", seed, SeedArgs, Seeded, creates_database=True,
    never_on_clickhouse=(
        "seed a file (pulsegate demo seed --database demo.duckdb, on the default engine), then copy it "
        "into ClickHouse with pulsegate storage copy --to URL"
    ),
)  # fmt: skip
