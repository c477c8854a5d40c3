"""Scheduled anomaly scans: new findings are queued as webhook deliveries, repeats suppressed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import msgspec

from pulsegate.config import AlertSettings
from pulsegate.domain.anomalies import Finding
from pulsegate.domain.ids import new_id
from pulsegate.domain.timestamps import now_ms
from pulsegate.services.anomalies import scan
from pulsegate.store.database import Database
from pulsegate.store.deliveries import last_queued_ms
from pulsegate.store.leads import new_delivery_row
from pulsegate.store.writer import RowWrite, Writer

# Inserts a write unless one naming the same things was inserted lately, by any process.
InsertOnce = Callable[[RowWrite, tuple[object, ...]], Awaitable[None]]

SEVERITY_MARKS = {"critical": "🔴", "warning": "🟠"}


class AlertPayload(msgspec.Struct, kw_only=True):
    """One alert post: `text` for Slack-style webhooks, `finding` for programs."""

    text: str
    finding: Finding


def finding_key(finding: Finding) -> str:
    """What makes two findings 'the same' for repeat suppression: their kind and project."""
    return f"{finding.kind}:{finding.project or '*'}"


class AlertScanner:
    """Runs the anomaly scan and queues alerts for findings not posted recently."""

    def __init__(
        self,
        database: Database,
        writer: Writer,
        settings: AlertSettings,
        *,
        clock: Callable[[], int] = now_ms,
        insert_once: InsertOnce | None = None,
    ) -> None:
        self._database = database
        self._writer = writer
        self._settings = settings
        self._clock = clock
        # On ClickHouse every process scans: each alert goes in alone, with a token naming its
        # finding and repeat window, so two processes finding one anomaly queue one post.
        self._insert_once = insert_once

    async def scan_and_queue(self) -> int:
        """Scan now; returns how many alerts were queued (delivered by the delivery worker)."""
        now = self._clock()
        settings = self._settings
        report = await self._database.read(scan, now, settings.window_hours, settings.sensitivity, None)
        repeat_ms = settings.repeat_after_hours * 3_600_000
        writes = []
        for finding in report.findings:
            key = finding_key(finding)
            last = await self._database.read(last_queued_ms, "alerts", key)
            if last is not None and now - last < repeat_ms:
                continue
            text = f"{SEVERITY_MARKS[finding.severity]} PulseGate {finding.severity}: {finding.message}"
            payload = msgspec.json.encode(AlertPayload(text=text, finding=finding))
            delivery = new_delivery_row(new_id(now), key, "alerts", payload, now)
            if self._insert_once is not None:
                # Two scans that straddle the turn of a window may both queue it: rare, and a
                # repeated alert harms less than a lost one.
                await self._insert_once(delivery, ("alert", key, now // repeat_ms if repeat_ms else now))
            writes.append(delivery)
        if writes and self._insert_once is None:
            await self._writer.write(*writes)
        return len(writes)
