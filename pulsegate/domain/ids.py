"""Row ids (sessions, leads, deliveries): UUIDv7 (RFC 9562), whose first 48 bits are the time the
row was created, in epoch ms: random, yet in the order DuckDB's row-group min/max and indexes
handle well (random ids made the key indexes outgrow DuckDB's memory cap, BENCHMARKS.md)."""

from __future__ import annotations

import secrets
import uuid

_MAX_MS = (1 << 48) - 1


def new_id(created_ms: int, random_bits: int | None = None) -> str:
    """A new id carrying `created_ms` (for a session, the value stored as `started_at`); the
    other 74 bits are random (`random_bits` only for reproducible demo data)."""
    if not 0 <= created_ms <= _MAX_MS:
        raise ValueError(f"created_ms out of range: {created_ms}")
    if random_bits is None:
        random_bits = secrets.randbits(74)  # 128 - 48 time bits - 4 version bits - 2 variant bits
    value = (
        created_ms << 80
        | 0x7 << 76
        | (random_bits >> 62) << 64
        | 0b10 << 62
        | (random_bits & ((1 << 62) - 1))
    )
    return str(uuid.UUID(int=value))


def id_time_ms(row_id: str) -> int | None:
    """The time a UUIDv7 id carries, or None for any other id (a row from before ids carried
    it, or a made-up one): the caller then looks it up without the time."""
    try:
        parsed = uuid.UUID(row_id)
    except ValueError:
        return None
    if parsed.version != 7 or parsed.variant != uuid.RFC_4122:
        return None
    return parsed.int >> 80
