"""API keys: how secrets look, how they are hashed, and which projects a key may see."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

SECRET_PREFIX = "pgk_"
SHOWN_PREFIX_CHARS = 12  # "pgk_" and 8 characters: enough to tell keys apart in a list


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A stored key; `projects` empty means every project."""

    key_id: str
    name: str
    prefix: str
    secret_hash: str
    projects: tuple[str, ...]
    revoked: bool

    def allows(self, project: str | None) -> bool:
        """May this key read `project` (None: all projects the key can see)?"""
        return not self.projects or project in self.projects

    def visible_projects(self, requested: str | None) -> tuple[str, ...] | None:
        """The projects a query must be limited to: None for no limit."""
        if requested is not None:
            return (requested,)
        return self.projects or None


def new_secret() -> str:
    """A new key secret: a recognisable prefix and 256 random bits."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def new_key_id() -> str:
    """A short public id for a key (not secret)."""
    return "key_" + secrets.token_hex(4)


def hash_secret(secret: str) -> str:
    """SHA-256 hex of a secret. A fast hash suffices: secrets are 256-bit random, not passwords."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


class KeyRing:
    """The keys the server accepts, by the hash of their secret."""

    def __init__(self, keys: Iterable[ApiKey] = ()) -> None:
        self._by_hash = {key.secret_hash: key for key in keys}

    def __len__(self) -> int:
        return len(self._by_hash)

    def authenticate(self, secret: str | None) -> ApiKey | None:
        """The live key with this secret, or None.

        The lookup is by SHA-256 of the presented secret, so response time reveals nothing
        about how much of a real secret was guessed; the final comparison is constant-time.
        """
        if not secret:
            return None
        presented = hash_secret(secret.strip())
        key = self._by_hash.get(presented)
        if key is None or key.revoked or not hmac.compare_digest(key.secret_hash, presented):
            return None
        return key
