"""The server's share links: which link a token opens, its password, and the cookie that proves it.

Links are read from the table on each request (one indexed row on a reader thread), so a link
created or revoked by `pulsegate share …`, live or offline, counts from the next request on.
"""

from __future__ import annotations

import asyncio

from pulsegate.domain.shares import ShareLink, access_cookie, admits, same_hash, token_hash, verify_password
from pulsegate.domain.timestamps import now_ms
from pulsegate.store.database import Database
from pulsegate.store.shares import share_by_token_hash


class ShareLinks:
    """Finds live links by token and checks their passwords and access cookies."""

    def __init__(self, database: Database, cookie_secret: str) -> None:
        self._database = database
        self._secret = cookie_secret

    async def find(self, token: str) -> ShareLink | None:
        """The live (not revoked, not expired) link this token opens, or None."""
        hashed = token_hash(token)
        if hashed is None:
            return None
        link = await self._database.read(share_by_token_hash, hashed)
        if link is None or not same_hash(link.token_hash, hashed) or link.state(now_ms()) != "active":
            return None
        return link

    async def password_matches(self, link: ShareLink, password: str) -> bool:
        """Whether `password` is the link's; scrypt runs on a worker thread, off the event loop."""
        if link.password_hash is None:
            return True
        return await asyncio.to_thread(verify_password, password, link.password_hash)

    def cookie_for(self, link: ShareLink) -> str:
        """A fresh access cookie value for `link`."""
        return access_cookie(self._secret, link, now_ms() // 1000)

    def admits(self, link: ShareLink, cookie: str | None) -> bool:
        """Whether a request with this cookie may read `link` (always, without a password)."""
        return admits(self._secret, link, cookie, now_ms() // 1000)
