"""The tracking service on a real database: enrichment stored, idle sweep, scores rebuilt after a crash."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from pulsegate.domain.sessions import OpenSessions
from pulsegate.domain.tracking import Caller, EventFields, SessionEnd, SessionStart
from pulsegate.errors import NotFound
from pulsegate.services.geo import GeoResolver
from pulsegate.services.tracking import TrackingService
from pulsegate.store.database import Database
from pulsegate.store.tracking import load_open_sessions
from pulsegate.store.writer import Writer
from tests.helpers import file_rows

T = TypeVar("T")
HEADLESS = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36"
FIREFOX = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:132.0) Gecko/20100101 Firefox/132.0"


class Clock:
    """A clock the test moves by hand (epoch ms)."""

    def __init__(self, now: int = 1_790_000_000_000) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def run_with_service(
    path: Path,
    clock: Clock,
    scenario: Callable[[TrackingService], Awaitable[T]],
    *,
    reload_open: bool = False,
) -> T:
    async def main() -> T:
        database = Database.open(path)
        writer = Writer(database.connection)
        writer.start()
        sessions = OpenSessions()
        if reload_open:
            for session in database.read_now(load_open_sessions, clock() - 30 * 60_000):
                sessions.add(session)
        service = TrackingService(database, writer, sessions, GeoResolver(), visitor_salt="salt", clock=clock)
        try:
            return await scenario(service)
        finally:
            await writer.stop()
            database.close()

    return asyncio.run(main())


def test_enrichment_is_stored_with_the_session(tmp_path: Path) -> None:
    path = tmp_path / "p.duckdb"
    start = SessionStart(
        url="https://shop.example.com/?utm_medium=social",
        referrer="https://news.ycombinator.com/item?id=1",
        utm_campaign="launch",
    )

    async def scenario(service: TrackingService) -> list[str]:
        human = await service.start_session(start, Caller(client_ip="5.9.0.1", user_agent=FIREFOX))
        bot = await service.start_session(start, Caller(client_ip="8.8.8.8", user_agent=HEADLESS))
        await service.record_events(bot.session_id, [EventFields(type="click")])
        return [human.session_id, bot.session_id]

    human_id, bot_id = run_with_service(path, Clock(), scenario)
    rows = file_rows(
        path,
        "SELECT session_id, source, referrer_host, utm_medium, utm_campaign, country, as_organisation, "
        "is_hosting, browser, os, device, is_bot FROM sessions ORDER BY is_bot",
    )
    assert rows == [
        (human_id, "Hacker News", "news.ycombinator.com", "social", "launch", "DE", "Hetzner Online GmbH",
         True, "Firefox", "Mac OS X", "desktop", False),
        (bot_id, "Hacker News", "news.ycombinator.com", "social", "launch", "US", "GOOGLE",
         True, "HeadlessChrome", "Linux", "bot", True),
    ]  # fmt: skip
    # The bot's events carry its flag, so analytics can skip them without a join.
    assert file_rows(
        path, "SELECT type, is_bot FROM events WHERE session_id = ? ORDER BY type::VARCHAR", [bot_id]
    ) == [
        ("click", True),
        ("pageview", True),
    ]
    assert not any("5.9.0.1" in str(value) or "8.8.8.8" in str(value) for row in rows for value in row)


def test_idle_sessions_are_ended_by_the_sweep_with_their_score(tmp_path: Path) -> None:
    path = tmp_path / "p.duckdb"
    clock = Clock()

    async def scenario(service: TrackingService) -> tuple[str, str, int, int]:
        caller = Caller(client_ip="127.0.0.1", user_agent=FIREFOX)
        quiet = await service.start_session(SessionStart(url="https://e.com/"), caller)
        clock.now += 5 * 60_000
        busy = await service.start_session(SessionStart(url="https://e.com/"), caller)
        await service.record_events(quiet.session_id, [EventFields(type="scroll", props={"depth": 80})])
        quiet_last_seen = clock.now
        clock.now += 20 * 60_000
        await service.record_events(busy.session_id, [EventFields(type="click")])
        clock.now += 11 * 60_000  # quiet: idle 31 min; busy: idle 11 min
        first_sweep = await service.end_idle_sessions(30)
        with pytest.raises(NotFound, match="has ended"):
            await service.record_events(quiet.session_id, [EventFields(type="click")])
        return quiet.session_id, busy.session_id, first_sweep, quiet_last_seen

    quiet_id, busy_id, swept, quiet_last_seen = run_with_service(path, clock, scenario)
    assert swept == 1
    rows = file_rows(
        path,
        "SELECT session_id, end_reason, epoch_ms(ended_at), max_scroll, page_views, event_count, "
        "engagement_score, duration_ms FROM sessions ORDER BY started_at",
    )
    # quiet: one page, scrolled 80% -> 20 * 0.8 = 16; it ended at its last activity, 5 min after start.
    assert rows[0] == (quiet_id, "idle", quiet_last_seen, 80, 1, 2, 16, 5 * 60_000)
    assert rows[1][:2] == (busy_id, None)


def test_scores_survive_a_crash_because_open_sessions_are_replayed(tmp_path: Path) -> None:
    path = tmp_path / "p.duckdb"
    clock = Clock()
    events = [
        EventFields(type="pageview", url="https://e.com/pricing"),
        EventFields(type="pageview", url="https://e.com/signup"),
        EventFields(type="engagement", props={"engaged_ms": 90_000}),
        EventFields(type="form_start"),
    ]

    async def before_crash(service: TrackingService) -> str:
        started = await service.start_session(
            SessionStart(url="https://e.com/"), Caller(client_ip="", user_agent=FIREFOX)
        )
        await service.record_events(started.session_id, events)
        return started.session_id

    session_id = run_with_service(path, clock, before_crash)
    clock.now += 60_000

    async def after_restart(service: TrackingService) -> int | None:
        receipt = await service.end_session(SessionEnd(session_id=session_id, max_scroll=40))
        return receipt.engagement_score

    score = run_with_service(path, clock, after_restart, reload_open=True)
    # engaged 90 s: 35 * 0.75 = 26.25; scroll 40%: 8; 3 pages: 20 * 2/4 = 10; form started: 5. 49.25 -> 49
    assert score == 49
    assert file_rows(path, "SELECT exit_url, page_views, engagement_score FROM sessions") == [
        ("https://e.com/signup", 3, 49)
    ]


def test_ending_twice_returns_the_stored_score(tmp_path: Path) -> None:
    path = tmp_path / "p.duckdb"

    async def scenario(service: TrackingService) -> tuple[int | None, int | None]:
        started = await service.start_session(
            SessionStart(url="https://e.com/"), Caller(client_ip="", user_agent=FIREFOX)
        )
        first = await service.end_session(SessionEnd(session_id=started.session_id, engaged_ms=120_000))
        second = await service.end_session(SessionEnd(session_id=started.session_id))
        return first.engagement_score, second.engagement_score

    assert run_with_service(path, Clock(), scenario) == (35, 35)


def test_a_session_end_racing_the_last_batch_scores_it(tmp_path: Path) -> None:
    """The tracker's page-unload pattern: the last batch and session/end sent together."""
    path = tmp_path / "p.duckdb"

    async def scenario(service: TrackingService) -> int | None:
        started = await service.start_session(
            SessionStart(url="https://e.com/"), Caller(client_ip="", user_agent=FIREFOX)
        )
        batch = [EventFields(type="pageview", url=f"https://e.com/{n}") for n in range(4)]
        batch += [EventFields(type="click", props={"engaged_ms": 60_000}) for _ in range(5)]
        # Both in flight at once: the end must not score the session without the batch.
        _, ended = await asyncio.gather(
            service.record_events(started.session_id, batch),
            service.end_session(SessionEnd(session_id=started.session_id)),
        )
        return ended.engagement_score

    score = run_with_service(path, Clock(), scenario)
    # 5 pages: 20; 5 interactions: 15; engaged 300 s (capped at 120): 35. Total 70.
    assert score == 70
    assert file_rows(path, "SELECT page_views, event_count, engagement_score FROM sessions") == [(5, 10, 70)]


def test_a_session_its_browser_ended_resumes_on_the_next_page(tmp_path: Path) -> None:
    """The tracker ends its session whenever the page is left; the next page carries it on."""
    path = tmp_path / "p.duckdb"
    clock = Clock()

    async def scenario(service: TrackingService) -> tuple[str, int | None]:
        started = await service.start_session(
            SessionStart(url="https://e.com/"), Caller(client_ip="", user_agent=FIREFOX)
        )
        await service.end_session(SessionEnd(session_id=started.session_id, engaged_ms=20_000, max_scroll=70))
        clock.now += 10 * 60_000  # well inside the 30 min idle timeout
        await service.record_events(started.session_id, [EventFields(type="pageview", url="https://e.com/b")])
        assert service.open_sessions == 1
        ended = await service.end_session(SessionEnd(session_id=started.session_id, engaged_ms=10_000))
        return started.session_id, ended.engagement_score

    session_id, score = run_with_service(path, clock, scenario)
    # engaged 30 s: 35 * 30/120 = 8.75; scroll 70% (from the first end): 14; 2 pages: 20 * 1/4 = 5. 27.75 -> 28
    assert score == 28
    assert file_rows(
        path, "SELECT end_reason, page_views, engaged_ms, max_scroll, exit_url, duration_ms FROM sessions"
    ) == [("client", 2, 30_000, 70, "https://e.com/b", 10 * 60_000)]
    assert file_rows(path, "SELECT count(*) FROM events WHERE session_id = ?", [session_id]) == [(2,)]


def test_sessions_are_not_resumed_after_the_idle_timeout_or_an_idle_end(tmp_path: Path) -> None:
    path = tmp_path / "p.duckdb"
    clock = Clock()

    async def scenario(service: TrackingService) -> None:
        caller = Caller(client_ip="", user_agent=FIREFOX)
        left = await service.start_session(SessionStart(url="https://e.com/"), caller)
        await service.end_session(SessionEnd(session_id=left.session_id))
        idle = await service.start_session(SessionStart(url="https://e.com/"), caller)
        clock.now += 31 * 60_000
        await service.end_idle_sessions(30)
        for session_id in (left.session_id, idle.session_id):
            with pytest.raises(NotFound, match="has ended"):
                await service.record_events(session_id, [EventFields(type="click")])
        assert service.open_sessions == 0

    run_with_service(path, clock, scenario)
    assert file_rows(path, "SELECT count(*) FROM events WHERE type = 'click'") == [(0,)]


def test_a_resumed_session_is_replayed_after_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "p.duckdb"
    clock = Clock()

    async def before_crash(service: TrackingService) -> str:
        started = await service.start_session(
            SessionStart(url="https://e.com/"), Caller(client_ip="", user_agent=FIREFOX)
        )
        await service.end_session(SessionEnd(session_id=started.session_id, engaged_ms=60_000))
        clock.now += 2_000  # the next page, a moment later
        await service.record_events(started.session_id, [EventFields(type="click")])
        return started.session_id

    session_id = run_with_service(path, clock, before_crash)
    # On disk the session still looks ended; the click after its end is what says it went on.
    assert file_rows(path, "SELECT end_reason FROM sessions") == [("client",)]

    async def after_restart(service: TrackingService) -> int | None:
        assert service.open_sessions == 1
        return (await service.end_session(SessionEnd(session_id=session_id))).engagement_score

    # engaged 60 s (reported by the first end): 17.5; 1 page: 0; 1 interaction: 3. 20.5 -> 21
    assert run_with_service(path, clock, after_restart, reload_open=True) == 21


def test_an_end_that_carried_events_is_not_taken_for_a_reopen_after_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "p.duckdb"
    clock = Clock()

    async def before_crash(service: TrackingService) -> None:
        started = await service.start_session(
            SessionStart(url="https://e.com/"), Caller(client_ip="", user_agent=FIREFOX)
        )
        # The end's own events are stored at the end's instant: they are not "after" it.
        await service.end_session(
            SessionEnd(session_id=started.session_id, events=[EventFields(type="click")])
        )

    async def after_restart(service: TrackingService) -> int:
        return service.open_sessions

    run_with_service(path, clock, before_crash)
    clock.now += 60_000
    assert run_with_service(path, clock, after_restart, reload_open=True) == 0


def test_events_racing_the_end_of_the_previous_page_join_the_session(tmp_path: Path) -> None:
    """A page's session/end and the next page's first batch can be in flight together."""
    path = tmp_path / "p.duckdb"

    async def scenario(service: TrackingService) -> None:
        started = await service.start_session(
            SessionStart(url="https://e.com/"), Caller(client_ip="", user_agent=FIREFOX)
        )
        next_page = [EventFields(type="pageview", url="https://e.com/next")]
        await asyncio.gather(
            service.end_session(SessionEnd(session_id=started.session_id)),
            service.record_events(started.session_id, next_page),
            service.record_events(started.session_id, [EventFields(type="click")]),
        )
        assert service.open_sessions == 1
        await service.end_session(SessionEnd(session_id=started.session_id))

    run_with_service(path, Clock(), scenario)
    assert file_rows(path, "SELECT page_views, event_count, end_reason FROM sessions") == [(2, 3, "client")]


def test_an_end_carries_the_last_events_and_reopens_a_session_left_before(tmp_path: Path) -> None:
    """What a page sends as it goes away: its queued events and its engaged time, in one end."""
    path = tmp_path / "p.duckdb"

    async def scenario(service: TrackingService) -> list[int | None]:
        started = await service.start_session(
            SessionStart(url="https://e.com/"), Caller(client_ip="", user_agent=FIREFOX)
        )
        last = [EventFields(type="pageview", url="https://e.com/b"), EventFields(type="click", name="Buy")]
        first = await service.end_session(SessionEnd(session_id=started.session_id, events=last))
        assert first.accepted == 2
        # Back on the tab for 30 s, then closed: the second end reports that time.
        second = await service.end_session(SessionEnd(session_id=started.session_id, engaged_ms=30_000))
        plain = await service.end_session(SessionEnd(session_id=started.session_id))
        return [first.engagement_score, second.engagement_score, plain.engagement_score]

    # first: 2 pages: 5; 1 interaction: 3 -> 8. second: plus 30 s engaged: 8.75 -> 16.75 -> 17.
    assert run_with_service(path, Clock(), scenario) == [8, 17, 17]
    assert file_rows(path, "SELECT page_views, event_count, engaged_ms, exit_url FROM sessions") == [
        (2, 3, 30_000, "https://e.com/b")
    ]


def test_an_end_with_events_for_a_visit_that_is_over_is_refused_not_dropped(tmp_path: Path) -> None:
    path = tmp_path / "p.duckdb"
    clock = Clock()

    async def scenario(service: TrackingService) -> None:
        started = await service.start_session(
            SessionStart(url="https://e.com/"), Caller(client_ip="", user_agent=FIREFOX)
        )
        clock.now += 31 * 60_000
        await service.end_idle_sessions(30)
        late = SessionEnd(session_id=started.session_id, events=[EventFields(type="click")])
        with pytest.raises(NotFound, match="has ended"):
            await service.end_session(late)
        # A plain end (nothing to add) still gets the stored answer.
        plain = await service.end_session(SessionEnd(session_id=started.session_id))
        assert plain.engagement_score == 0

    run_with_service(path, clock, scenario)
    assert file_rows(path, "SELECT count(*) FROM events WHERE type = 'click'") == [(0,)]


def test_the_next_page_reopens_from_memory_and_old_ends_are_forgotten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reopen is once per page view: from memory while the end is recent, from disk otherwise."""
    from pulsegate.services import tracking as tracking_service
    from pulsegate.store import tracking as store_rows

    monkeypatch.setattr(tracking_service, "MAX_REMEMBERED_ENDS", 3)
    replays: list[str] = []
    real_load = store_rows.load_resumable_session

    def counting_load(cursor: Any, session_id: str, since: int) -> Any:
        replays.append(session_id)
        return real_load(cursor, session_id, since)

    monkeypatch.setattr(store_rows, "load_resumable_session", counting_load)

    async def scenario(service: TrackingService) -> None:
        caller = Caller(client_ip="", user_agent=FIREFOX)
        ids = [
            (await service.start_session(SessionStart(url="https://e.com/"), caller)).session_id
            for _ in range(5)
        ]
        for session_id in ids:
            await service.end_session(SessionEnd(session_id=session_id, engaged_ms=5_000))
        for session_id in ids:  # every tab goes on to its next page
            await service.record_events(session_id, [EventFields(type="pageview", url="https://e.com/2")])
        # The three newest ends were in memory; the two oldest had been forgotten and came from disk.
        assert replays == ids[:2]
        for session_id in ids:
            ended = await service.end_session(SessionEnd(session_id=session_id))
            assert ended.engagement_score == 6  # 2 pages: 5; 5 s engaged: 35 * 5 / 120 = 1.46. 6.46 -> 6

    run_with_service(tmp_path / "p.duckdb", Clock(), scenario)
    assert file_rows(tmp_path / "p.duckdb", "SELECT DISTINCT page_views, engaged_ms FROM sessions") == [
        (2, 5_000)
    ]


def test_past_the_open_session_cap_the_least_recent_are_ended(tmp_path: Path) -> None:
    path = tmp_path / "p.duckdb"
    clock = Clock()

    async def main() -> list[str]:
        database = Database.open(path)
        writer = Writer(database.connection)
        writer.start()
        service = TrackingService(database, writer, OpenSessions(), GeoResolver(), visitor_salt="s",
                                  max_open=100, clock=clock)  # fmt: skip
        try:
            ids = []
            for _ in range(105):
                clock.now += 1_000
                started = await service.start_session(
                    SessionStart(url="https://e.com/"), Caller(client_ip="")
                )
                ids.append(started.session_id)
            assert service.open_sessions == 100
            # Those ended make way, and their visit is over; the rest go on.
            with pytest.raises(NotFound, match="has ended"):
                await service.record_events(ids[0], [EventFields(type="click")])
            await service.record_events(ids[5], [EventFields(type="click")])
            return ids
        finally:
            await writer.stop()
            database.close()

    ids = asyncio.run(main())
    ended = file_rows(
        path, "SELECT session_id, end_reason FROM sessions WHERE ended_at IS NOT NULL ORDER BY started_at"
    )
    assert ended == [(session_id, "idle") for session_id in ids[:5]]


def test_sessions_from_before_time_ordered_ids_still_resume_and_end(tmp_path: Path) -> None:
    """Sessions stored by the previous version have random (v4) ids: a tab that was open across
    the upgrade carries on; one whose id is older than the lookup window is unknown."""
    import uuid

    clock = Clock()
    path = tmp_path / "p.duckdb"
    recent, old = str(uuid.uuid4()), str(uuid.uuid4())
    database = Database.open(path)
    for session_id, started_ago_ms in ((recent, 10 * 60_000), (old, 3 * 86_400_000)):
        database.connection.execute(
            "INSERT INTO sessions (session_id, visitor_id, project, started_at, last_seen_at, ended_at, "
            "end_reason, entry_url, page_views, event_count, engaged_ms) "
            "VALUES (?, 'v', 'acme', make_timestamp(? * 1000), make_timestamp(? * 1000), "
            "make_timestamp(? * 1000), 'client', 'https://e.com/', 1, 1, 0)",
            [session_id, clock.now - started_ago_ms, clock.now - 60_000, clock.now - 60_000],
        )
        database.connection.execute(
            "INSERT INTO events (received_at, session_id, visitor_id, project, type, url, path) "
            "VALUES (make_timestamp(? * 1000), ?, 'v', 'acme', 'pageview', 'https://e.com/', '/')",
            [clock.now - started_ago_ms, session_id],
        )
    database.close()

    async def scenario(service: TrackingService) -> None:
        clock.now += 1_000
        await service.record_events(recent, [EventFields(type="pageview", url="https://e.com/2")])
        ended = await service.end_session(SessionEnd(session_id=recent))
        assert ended.engagement_score is not None
        again = await service.end_session(SessionEnd(session_id=recent))  # found by its untimed id
        assert again.engagement_score == ended.engagement_score
        with pytest.raises(NotFound, match="Unknown session"):
            await service.record_events(old, [EventFields(type="pageview", url="https://e.com/2")])

    run_with_service(path, clock, scenario)
    assert file_rows(path, "SELECT page_views FROM sessions WHERE session_id = ?", [recent]) == [(2,)]
