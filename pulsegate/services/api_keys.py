"""The server's API keys: the ring requests are checked against, and their batched last use."""

from __future__ import annotations

from pulsegate.domain.api_keys import ApiKey, KeyRing
from pulsegate.domain.timestamps import now_ms, utc_datetime
from pulsegate.store.api_keys import last_used_rows, live_keys
from pulsegate.store.database import Database
from pulsegate.store.writer import Writer


class ApiKeys:
    """Authenticates analytics requests; `reload` after a key is created or revoked."""

    def __init__(self, database: Database, writer: Writer) -> None:
        self._database = database
        self._writer = writer
        self._ring = KeyRing()
        self._last_used: dict[str, int] = {}  # key id -> epoch ms, since the last flush

    async def reload(self) -> None:
        """Read the keys as stored now; a revoked key is refused from the next request."""
        self._ring = KeyRing(await self._database.read(live_keys))

    def authenticate(self, secret: str) -> ApiKey | None:
        """The live key with this secret, its use noted for the batched `last_used` update."""
        key = self._ring.authenticate(secret)
        if key is not None:
            self._last_used[key.key_id] = now_ms()
        return key

    async def flush_usage(self) -> None:
        """Write the keys' last use: one update a minute instead of a write per request."""
        used, self._last_used = self._last_used, {}
        if used:
            await self._writer.write(last_used_rows({key: utc_datetime(ms) for key, ms in used.items()}))
