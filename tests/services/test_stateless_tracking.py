"""Tracking on ClickHouse, request by request against the DuckDB engine's TrackingService.

Random journeys (starts, events, ends, pages that resume an ended session, idle gaps) are played
on both: on DuckDB through one TrackingService, as one server does; on ClickHouse each request to
one of three StatelessTrackingService instances chosen at random, each with its own writer (and,
over HTTP, its own connection), as processes behind a load balancer. Every answer must be the
same (status, visitor, time, events accepted, engagement score), and so must every session's
stored summary once the journeys are over.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pulsegate.domain.clickhouse_target import parse_target
from pulsegate.domain.sessions import OpenSessions
from pulsegate.domain.tracking import Caller, EventFields, SessionEnd, SessionStart
from pulsegate.errors import NotFound
from pulsegate.services.geo import GeoResolver
from pulsegate.services.stateless_tracking import StatelessTrackingService
from pulsegate.services.tracking import TrackingService
from pulsegate.store.clickhouse.store import ClickHouseStore, ClickHouseWriter
from pulsegate.store.database import Database
from pulsegate.store.writer import Writer
from tests.clickhouse_endpoint import ClickHouseEndpoint
from tests.helpers import chdb_url
from tests.services.test_tracking_service import Clock

IDLE_MS = 30 * 60_000
# Every column a session's end writes, read the same way from both engines.
SUMMARY = (
    "SELECT last_seen_at, ended_at, end_reason, exit_url, exit_path, page_views, event_count, interactions, "
    "form_starts, form_submits, max_scroll, engaged_ms, duration_ms, engagement_score, entry_url, entry_path, "
    "visitor_id, visitor_key, started_at FROM sessions ORDER BY session_id"
)
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
CALLERS = [Caller(client_ip=f"203.0.113.{n}", user_agent="Mozilla/5.0 Firefox/132.0") for n in range(3)]
PAGES = ["https://acme.test/", "https://acme.test/pricing", "https://acme.test/docs?x=1", ""]


def random_event(rng: random.Random) -> EventFields:
    kind = rng.choice(["pageview", "click", "custom", "scroll", "engagement", "form_start", "form_submit",
                       "form_view", "outbound", "download"])  # fmt: skip
    props: dict[str, Any] | None = None
    if kind == "scroll":
        props = {"depth": rng.choice([12.5, 2.5, 99.5, 150, -3, 60, True, "deep"])}
    elif kind == "engagement":
        props = {"engaged_ms": rng.choice([1500, 0, -20, 45_000.7, 40 * 60_000, False])}
    elif kind == "custom":
        props = {"plan": rng.choice(["pro", "team"]), "depth": rng.choice([30, 70])}
    url = rng.choice(PAGES) or None if kind in ("pageview", "form_view", "click") else None
    return EventFields(type=kind, url=url, name="signup" if kind.startswith("form") else None, props=props)


def journey(seed: int) -> list[tuple[str, Any]]:
    """Requests and clock moves: ("start", caller), ("events", (session n, events)),
    ("end", (session n, SessionEnd without id)), ("wait", ms)."""
    rng = random.Random(seed)
    steps: list[tuple[str, Any]] = []
    started = 0
    for _ in range(rng.randint(25, 45)):
        roll = rng.random()
        if started == 0 or roll < 0.15:
            steps.append(("start", rng.choice(CALLERS)))
            started += 1
        elif roll < 0.55:
            steps.append(
                ("events", (rng.randrange(started), [random_event(rng) for _ in range(rng.randint(1, 4))]))
            )
        elif roll < 0.75:
            events = [random_event(rng) for _ in range(rng.randint(0, 2))] or None
            end = SessionEnd(session_id="x", engaged_ms=rng.choice([None, 0, 3000, 90_000]),
                             max_scroll=rng.choice([None, 40, 100]), events=events)  # fmt: skip
            steps.append(("end", (rng.randrange(started), end)))
        elif roll < 0.93:
            steps.append(("wait", rng.randint(1_000, 5 * 60_000)))
        else:
            steps.append(("wait", rng.choice([IDLE_MS - 1_000, IDLE_MS + 1_000, 3 * IDLE_MS])))
    return steps


def answers_of(play: Callable[[str, Any], Any], steps: list[tuple[str, Any]], clock: Clock) -> list[Any]:
    """Play `steps`; each request's answer as (status, fields), session ids replaced by their number."""

    async def run() -> list[Any]:
        ids: list[str] = []
        answers: list[Any] = []
        for kind, argument in steps:
            if kind == "wait":
                clock.now += argument
                continue
            try:
                receipt = await play(kind, argument if kind == "start" else (ids[argument[0]], argument[1]))
            except NotFound as exc:
                answers.append((kind, 404, UUID.sub("<id>", exc.message)))
                continue
            if kind == "start":
                ids.append(receipt.session_id)
            number = ids.index(receipt.session_id)
            answers.append((kind, 200, number, receipt.visitor_id, receipt.timestamp, receipt.accepted,
                            receipt.engagement_score))  # fmt: skip
            clock.now += 7
        return answers

    return asyncio.get_event_loop().run_until_complete(run())


def with_id(end: SessionEnd, session_id: str) -> SessionEnd:
    return SessionEnd(session_id=session_id, engaged_ms=end.engaged_ms, max_scroll=end.max_scroll,
                      events=end.events)  # fmt: skip


@pytest.fixture
def loop() -> Any:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield loop
    loop.close()
    asyncio.set_event_loop(None)


def duckdb_answers(path: Path, steps: list[tuple[str, Any]], start_ms: int) -> tuple[list[Any], list[Any]]:
    clock = Clock(start_ms)

    async def open_service() -> tuple[Database, Writer, TrackingService]:
        database = Database.open(path)
        writer = Writer(database.connection)
        writer.start()
        service = TrackingService(database, writer, OpenSessions(), GeoResolver(), visitor_salt="salt",
                                  resume_within_ms=IDLE_MS, clock=clock)  # fmt: skip
        return database, writer, service

    loop = asyncio.get_event_loop()
    database, writer, service = loop.run_until_complete(open_service())

    async def play(kind: str, argument: Any) -> Any:
        await service.end_idle_sessions(IDLE_MS // 60_000)  # the sweep, as if it ran all the time
        if kind == "start":
            return await service.start_session(SessionStart(url=PAGES[0]), argument)
        session_id, payload = argument
        if kind == "events":
            return await service.record_events(session_id, payload)
        return await service.end_session(with_id(payload, session_id))

    answers = answers_of(play, steps, clock)
    clock.now += 3 * IDLE_MS
    loop.run_until_complete(service.end_idle_sessions(IDLE_MS // 60_000))
    loop.run_until_complete(writer.stop())
    summaries = database.connection.execute(SUMMARY).fetchall()
    database.close()
    return answers, summaries


def clickhouse_answers(
    open_store: Callable[[], ClickHouseStore], steps: list[tuple[str, Any]], start_ms: int, seed: int
) -> tuple[list[Any], list[Any]]:
    clock = Clock(start_ms)
    rng = random.Random(seed * 7 + 1)
    loop = asyncio.get_event_loop()

    async def open_instance() -> tuple[ClickHouseStore, ClickHouseWriter, StatelessTrackingService]:
        store = open_store()
        writer = ClickHouseWriter(store.connection)
        writer.start()
        service = StatelessTrackingService(store, writer, GeoResolver(), visitor_salt="salt",
                                           idle_timeout_ms=IDLE_MS, clock=clock)  # fmt: skip
        return store, writer, service

    instances = [loop.run_until_complete(open_instance()) for _ in range(3)]

    async def play(kind: str, argument: Any) -> Any:
        service = rng.choice(instances)[2]  # any process may get any request
        if kind == "start":
            return await service.start_session(SessionStart(url=PAGES[0]), argument)
        session_id, payload = argument
        if kind == "events":
            return await service.record_events(session_id, payload)
        return await service.end_session(with_id(payload, session_id))

    answers = answers_of(play, steps, clock)
    for _, writer, _ in instances[::2]:
        loop.run_until_complete(writer.stop())
    clock.now += 3 * IDLE_MS
    service = instances[1][2]  # any process sweeps
    loop.run_until_complete(service.end_idle_sessions(IDLE_MS // 60_000))
    loop.run_until_complete(instances[1][1].stop())
    summaries = instances[0][0].connection.execute(SUMMARY).fetchall()
    for store, _, _ in instances:
        store.close()
    return answers, summaries


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("engine", ["chdb", "http"])
def test_clickhouse_answers_every_request_as_duckdb_does(
    request: pytest.FixtureRequest, tmp_path: Path, unique_database: str, loop: Any, engine: str, seed: int
) -> None:
    steps = journey(seed)
    start_ms = 1_790_000_000_000 + seed * 86_400_000
    expected_answers, expected_summaries = duckdb_answers(tmp_path / "d.duckdb", steps, start_ms)
    if engine == "chdb":
        url = chdb_url(f"{unique_database}_{seed}")
    else:
        endpoint: ClickHouseEndpoint = request.getfixturevalue("clickhouse_endpoint")
        url = endpoint.url(f"{unique_database}_{seed}")
    answers, summaries = clickhouse_answers(
        lambda: ClickHouseStore.open(parse_target(url)), steps, start_ms, seed
    )
    assert answers == expected_answers
    assert summaries == expected_summaries
    # The journeys reach every branch the comparison is meant to hold.
    statuses = {(kind, status) for kind, status, *_ in expected_answers}
    assert {("events", 200), ("end", 200), ("start", 200)} <= statuses
