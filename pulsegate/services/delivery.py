"""The CRM delivery worker: posts queued leads to the webhook, retrying until they land."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable

import httpx

from pulsegate.config import CrmSettings
from pulsegate.domain.delivery import outcome, retry_after_seconds, retry_delay, signature
from pulsegate.domain.timestamps import now_ms, utc_datetime
from pulsegate.store import deliveries as sql
from pulsegate.store.database import Database
from pulsegate.store.writer import Writer

logger = logging.getLogger(__name__)
BATCH = 20  # deliveries attempted together; the rest wait for the next round


class CrmDelivery:
    """Sends due deliveries; every outcome is written back through the writer."""

    def __init__(
        self,
        database: Database,
        writer: Writer,
        settings: CrmSettings,
        *,
        client: httpx.AsyncClient | None = None,
        clock: Callable[[], int] = now_ms,
        rng: random.Random | None = None,
    ) -> None:
        self._database = database
        self._writer = writer
        self._settings = settings
        self._client = client or httpx.AsyncClient(timeout=settings.timeout_seconds, follow_redirects=False)
        self._clock = clock
        self._rng = rng or random.Random()

    async def close(self) -> None:
        """Close the HTTP client."""
        await self._client.aclose()

    async def deliver_due(self) -> int:
        """Attempt every delivery that is due now (up to a batch); returns how many were tried.

        Capture never waits for this: leads are acknowledged once queued, and a slow or broken
        CRM only delays their forwarding.
        """
        due = await self._database.read(sql.due_deliveries, utc_datetime(self._clock()), BATCH)
        if not due:
            return 0
        results = await asyncio.gather(*(self._attempt(delivery) for delivery in due))
        await self._writer.write(*sql.attempt_rows(list(results)))
        return len(due)

    async def _attempt(
        self, delivery: sql.DueDelivery
    ) -> tuple[sql.DueDelivery, str, int | None, str | None, int, int | None]:
        body = delivery.payload.encode()
        headers = {
            "Content-Type": "application/json",
            "X-PulseGate-Signature": signature(self._settings.signing_secret, body),
            "Idempotency-Key": delivery.lead_id,
            "User-Agent": "PulseGate CRM delivery",
        }
        status: int | None = None
        error: str | None = None
        retry_after: float | None = None
        try:
            response = await self._client.post(self._settings.webhook_url, content=body, headers=headers)
            status = response.status_code
            retry_after = retry_after_seconds(response.headers.get("retry-after"), time.time())
            if status >= 300:
                error = f"HTTP {status}: {response.text[:200]}"
        except httpx.HTTPError as exc:  # connection refused, timeout, TLS: worth retrying
            error = f"{type(exc).__name__}: {exc}"
        attempted_ms = self._clock()
        result = outcome(status)
        attempts = delivery.attempts + 1
        if result == "retry" and attempts >= self._settings.max_attempts:
            result = "failed"
        if result == "failed":
            logger.error(
                "CRM delivery of lead %s failed after %d attempts: %s", delivery.lead_id, attempts, error
            )
        next_ms = None
        if result == "retry":
            delay = retry_delay(attempts, self._settings.first_retry_seconds, retry_after, self._rng)
            next_ms = attempted_ms + int(delay * 1000)
        status_name = {"delivered": "delivered", "failed": "failed", "retry": "pending"}[result]
        return delivery, status_name, status, error, attempted_ms, next_ms
