"""Anomaly alerts on ClickHouse when several processes scan at once: two scanners on one store
(as two processes' would be) that find the same anomaly in the same instant queue one alert."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from pulsegate.config import AlertSettings
from pulsegate.domain.clickhouse_target import parse_target
from pulsegate.services.alerts import AlertScanner
from pulsegate.store.clickhouse import once
from pulsegate.store.clickhouse.store import ClickHouseStore, ClickHouseWriter
from pulsegate.store.database import Database
from pulsegate.store.deliveries import last_queued_ms
from tests.api.anomaly_fixture import seed_broken_form
from tests.helpers import chdb_url, copy_everything
from tests.windows import wait_for_fresh_window


@pytest.mark.parametrize("each_once", [True, False], ids=["inserted-once", "without-tokens"])
def test_two_scanners_at_once_queue_one_alert(tmp_path: Path, unique_database: str, each_once: bool) -> None:
    wait_for_fresh_window(3600, margin=20)
    seed_broken_form(tmp_path / "seeded.duckdb")
    url = chdb_url(unique_database)
    seeded = Database.open(tmp_path / "seeded.duckdb")
    try:
        copy_everything(seeded.connection, url)
    finally:
        seeded.close()
    store = ClickHouseStore.open(parse_target(url))

    class BothLookFirst:
        """The store, except that each scanner waits at its check for an earlier alert until
        the other has made the same check: the instant both processes would race in."""

        def __init__(self, barrier: asyncio.Barrier) -> None:
            self._barrier = barrier

        async def read(self, fn, *args):  # type: ignore[no-untyped-def]
            answer = await store.read(fn, *args)
            if fn is last_queued_ms:
                await self._barrier.wait()
            return answer

    async def scan_twice_at_once() -> list[int]:
        racing_store = BothLookFirst(asyncio.Barrier(2))
        writer = ClickHouseWriter(store.connection)
        writer.start()
        insert_once = None
        if each_once:
            insert_once = lambda write, names: writer.insert_once(write, once.token(*names))  # noqa: E731
        settings = AlertSettings(webhook_url="https://hook.test/")
        scanners = [AlertScanner(racing_store, writer, settings, insert_once=insert_once) for _ in range(2)]  # type: ignore[arg-type]
        try:
            return list(await asyncio.gather(*(scanner.scan_and_queue() for scanner in scanners)))
        finally:
            await writer.stop()

    try:
        queued = asyncio.run(scan_twice_at_once())
        stored = store.connection.query("SELECT subject_id FROM deliveries WHERE target = 'alerts'")
    finally:
        store.close()
    assert queued == [1, 1]  # each scanner found the anomaly and saw no alert of it yet
    # With the tokens, ClickHouse kept one of the two; without them (the check this test makes
    # sure can fail), both.
    assert stored == ([("submission_drop:acme",)] if each_once else [("submission_drop:acme",)] * 2)
