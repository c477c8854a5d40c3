"""What VisitorHistories keeps of the sessions it reads ahead: bounded in sessions, age and reads."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pulsegate.config import AttributionSettings
from pulsegate.domain.timestamps import now_ms, utc_datetime
from pulsegate.domain.visitor import visitor_key
from pulsegate.services.attribution import VisitorHistories
from pulsegate.store.database import Database

SESSIONS = {"v0": 2, "v1": 2, "v2": 2, "v3": 2, "v4": 2, "crowd": 4}  # sessions per visitor


class Small(VisitorHistories):
    MAX_SESSIONS = 5
    MAX_PER_VISITOR = 3
    MAX_READING = 2


def _store_sessions(database: Database, start_ms: int) -> None:
    rows = [(f"{visitor}-s{n}", visitor, visitor_key(visitor), utc_datetime(start_ms - (n + 1) * 3_600_000))
            for visitor, count in SESSIONS.items() for n in range(count)]  # fmt: skip
    database.connection.executemany(
        "INSERT INTO sessions (session_id, visitor_id, visitor_key, started_at, last_seen_at, entry_url) "
        "VALUES (?, ?, ?, ?, ?, 'https://a.example/')",
        [(*row, row[3]) for row in rows],
    )


async def _settle(histories: VisitorHistories) -> None:
    for _ in range(500):
        if not histories.reading:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the reads ahead did not finish")


def test_read_ahead_is_bounded_in_sessions_age_and_reads_at_once(tmp_path: Path) -> None:
    database = Database.open(tmp_path / "h.duckdb")
    clock = [now_ms()]
    _store_sessions(database, clock[0])

    async def scenario() -> dict[str, object]:
        histories = Small(database, AttributionSettings(), lambda: clock[0])
        found: dict[str, object] = {}
        for visitor in ("v0", "v1", "v2"):  # two reads at once at most: the third keeps nothing
            histories.form_started(f"{visitor}-s0", visitor)
        await _settle(histories)
        found["at once"] = [histories.known(f"{v}-s0") is not None for v in ("v0", "v1", "v2")]
        sizes = histories.known("v0-s0")
        found["read"] = sorted(s.touch.session_id for s in sizes.sessions) if sizes else None
        histories.form_started("crowd-s0", "crowd")  # more sessions than one visitor may keep
        for visitor in ("v3", "v4"):  # 2 + 2 + 2 + 2 sessions: past 5 the oldest reads go
            histories.form_started(f"{visitor}-s0", visitor)
            await _settle(histories)
        found["kept"] = {s: histories.known(s) is not None for s in ("v0-s0", "v1-s0", "v3-s0", "v4-s0")}
        found["crowd"] = histories.known("crowd-s0")
        clock[0] += Small.FORGET_AFTER_MS + 1
        found["aged"] = histories.known("v4-s0")
        off = Small(database, AttributionSettings(cross_visit=False), lambda: clock[0])
        off.form_started("v0-s0", "v0")  # a site attributing to the converting session alone
        found["off"] = off.reading
        return found

    try:
        found = asyncio.run(scenario())
    finally:
        database.close()
    assert found["at once"] == [True, True, False]
    assert found["read"] == ["v0-s0", "v0-s1"]
    assert found["kept"] == {"v0-s0": False, "v1-s0": False, "v3-s0": True, "v4-s0": True}
    assert found["crowd"] is None and found["aged"] is None and found["off"] == 0
