"""What VisitorHistories keeps of the sessions it reads ahead: bounded in number, age and reads."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pulsegate.config import AttributionSettings
from pulsegate.services.attribution import VisitorHistories
from pulsegate.store.database import Database


def test_read_ahead_is_bounded_in_count_age_and_reads_at_once(tmp_path: Path) -> None:
    database = Database.open(tmp_path / "h.duckdb")
    clock = [1_800_000_000_000]

    class Small(VisitorHistories):
        MAX_KNOWN = 3
        MAX_READING = 2

    async def scenario() -> tuple[list[bool], list[bool], bool, bool]:
        histories = Small(database, AttributionSettings(), lambda: clock[0])
        # Two reads at once at most: the third form start reads nothing ahead.
        for n in range(3):
            histories.form_started(f"s{n}", f"visitor-{n}")
        await asyncio.sleep(0.5)
        at_once = [histories.known(f"s{n}") is not None for n in range(3)]
        for n in range(3, 6):  # one at a time: all read, the oldest forgotten past three
            histories.form_started(f"s{n}", f"visitor-{n}")
            await asyncio.sleep(0.2)
        kept = [histories.known(f"s{n}") is not None for n in range(6)]
        clock[0] += Small.FORGET_AFTER_MS + 1
        aged = histories.known("s5") is None
        off = Small(database, AttributionSettings(cross_visit=False), lambda: clock[0])
        off.form_started("s9", "visitor-9")  # a site that attributes to the converting session alone
        await asyncio.sleep(0.2)
        return at_once, kept, aged, off.known("s9") is None

    try:
        at_once, kept, aged, off = asyncio.run(scenario())
    finally:
        database.close()
    assert at_once == [True, True, False]
    assert kept == [False, False, False, True, True, True]
    assert aged and off
