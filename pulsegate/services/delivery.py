"""The delivery worker: posts queued leads (CRM) and alerts to their webhooks, retrying until they land."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pulsegate.domain.delivery import outcome, retry_after_seconds, retry_delay, signature
from pulsegate.domain.timestamps import now_ms, utc_datetime
from pulsegate.errors import StorageBusy
from pulsegate.store import deliveries as sql
from pulsegate.store.database import Database
from pulsegate.store.writer import Writer

if TYPE_CHECKING:
    import httpx

logger = logging.getLogger(__name__)
# Which of the due deliveries this process may send (where several processes share the outbox).
Claim = Callable[[list["sql.DueDelivery"]], Awaitable[list["sql.DueDelivery"]]]
BATCH = 20  # deliveries attempted together; the rest wait for the next round
RESULT_WRITE_TRIES = 8


@dataclass(frozen=True, slots=True)
class DeliveryTarget:
    """Where deliveries of one target go, and how hard to try."""

    url: str
    signing_secret: str  # empty: no signature header
    max_attempts: int
    first_retry_seconds: float


class DeliveryWorker:
    """Sends due deliveries; every outcome is written back through the writer."""

    def __init__(
        self,
        database: Database,
        writer: Writer,
        targets: dict[str, DeliveryTarget],
        *,
        timeout_seconds: float = 10.0,
        client: httpx.AsyncClient | None = None,
        clock: Callable[[], int] = now_ms,
        rng: random.Random | None = None,
        claim: Claim | None = None,
    ) -> None:
        self._database = database
        # On DuckDB one process owns the outbox; on ClickHouse each attempt is claimed first
        # (services/stateless_leads.delivery_claims), so two processes never post the same one.
        self._claim = claim
        self._writer = writer
        self._targets = targets
        if client is None:
            # Imported only when a webhook is configured: httpx (with the rich and click its CLI
            # brings along) costs a server 7 MB resident.
            import httpx

            client = httpx.AsyncClient(timeout=timeout_seconds, follow_redirects=False)
        self._client = client
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
        due = await self._database.read(
            sql.due_deliveries, utc_datetime(self._clock()), BATCH, tuple(self._targets)
        )
        if due and self._claim is not None:
            due = await self._claim(due)
        if not due:
            return 0
        results = await asyncio.gather(*(self._attempt(delivery) for delivery in due))
        await self._record(sql.attempt_rows(list(results)))
        return len(due)

    async def _record(self, writes: list) -> None:  # type: ignore[type-arg]
        """Write the outcomes, waiting out a full write queue: an outcome not written is a webhook
        sent again on the next round."""
        for attempt in range(RESULT_WRITE_TRIES):
            try:
                await self._writer.write(*writes)
                return
            except StorageBusy:
                await asyncio.sleep(0.2 * 2**attempt)
        logger.error("Could not record %d delivery outcomes: the write queue stayed full", len(writes))

    async def _attempt(
        self, delivery: sql.DueDelivery
    ) -> tuple[sql.DueDelivery, str, int | None, str | None, int, int | None]:
        target = self._targets[delivery.target]
        body = delivery.payload.encode()
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": f"{delivery.target}:{delivery.delivery_id}",
            "User-Agent": "PulseGate delivery",
        }
        if delivery.target == "crm":
            headers["Idempotency-Key"] = delivery.subject_id  # the lead id: stable for the CRM to dedupe
        if target.signing_secret:
            headers["X-PulseGate-Signature"] = signature(target.signing_secret, body)
        status: int | None = None
        error: str | None = None
        retry_after: float | None = None
        try:
            response = await self._client.post(target.url, content=body, headers=headers)
            status = response.status_code
            retry_after = retry_after_seconds(response.headers.get("retry-after"), time.time())
            if status >= 300:
                error = f"HTTP {status}: {response.text[:200]}"
        except (
            Exception
        ) as exc:  # connection refused, timeout, TLS, a URL httpx rejects: an attempt that failed
            error = f"{type(exc).__name__}: {exc}"
        attempted_ms = self._clock()
        result = outcome(status)
        attempts = delivery.attempts + 1
        if result == "retry" and attempts >= target.max_attempts:
            result = "failed"
        if result == "failed":
            logger.error(
                "Delivery %s to %s failed after %d attempts: %s",
                delivery.subject_id,
                delivery.target,
                attempts,
                error,
            )
        next_ms = None
        if result == "retry":
            delay = retry_delay(attempts, target.first_retry_seconds, retry_after, self._rng)
            next_ms = attempted_ms + int(delay * 1000)
        status_name = {"delivered": "delivered", "failed": "failed", "retry": "pending"}[result]
        return delivery, status_name, status, error, attempted_ms, next_ms
