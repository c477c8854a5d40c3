"""Session ids: UUIDv7 (RFC 9562), whose first 48 bits are the session's start in epoch ms."""

from __future__ import annotations

import secrets
import uuid

_MAX_MS = (1 << 48) - 1


def new_session_id(started_ms: int, random_bits: int | None = None) -> str:
    """A new session id carrying `started_ms` (the value stored as `started_at`); the other 74
    bits are random (`random_bits` only for reproducible demo data)."""
    if not 0 <= started_ms <= _MAX_MS:
        raise ValueError(f"started_ms out of range: {started_ms}")
    if random_bits is None:
        random_bits = secrets.randbits(74)  # 128 - 48 time bits - 4 version bits - 2 variant bits
    value = (
        started_ms << 80
        | 0x7 << 76
        | (random_bits >> 62) << 64
        | 0b10 << 62
        | (random_bits & ((1 << 62) - 1))
    )
    return str(uuid.UUID(int=value))


def session_started_ms(session_id: str) -> int | None:
    """The start time a UUIDv7 session id carries, or None for any other id (a session from
    before ids carried it, or a made-up one): the caller then looks it up without the time."""
    try:
        parsed = uuid.UUID(session_id)
    except ValueError:
        return None
    if parsed.version != 7 or parsed.variant != uuid.RFC_4122:
        return None
    return parsed.int >> 80
