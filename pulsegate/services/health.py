"""The health check: is the database taking writes right now?"""

from __future__ import annotations

from pulsegate.domain.timestamps import now_ms
from pulsegate.store.writer import RowWrite, Writer


class HealthCheck:
    """One real write through the group commit, so "ok" means the disk takes writes now."""

    def __init__(self, writer: Writer) -> None:
        self._writer = writer

    async def check(self) -> int:
        """The time of the check (epoch ms) once its write committed; PulseGateError if it did not."""
        checked_ms = now_ms()
        await self._writer.write(
            RowWrite("meta", ("key", "value"), [("last_health_check", str(checked_ms))], action="upsert")
        )
        return checked_ms
