"""The visitor key in SQL: the rule of `domain/visitor.visitor_key`, for sessions written by SQL."""

from __future__ import annotations

from pulsegate.domain.visitor import KEY_HEX_DIGITS

# Over a `visitor_id` column. DuckDB's sha256() is the same hex digest as Python's for UTF-8 text.
VISITOR_KEY_SQL = (
    "('0x' || substr(CASE WHEN regexp_full_match(visitor_id, '[0-9a-f]{64}') THEN visitor_id "
    f"ELSE sha256(visitor_id) END, 1, {KEY_HEX_DIGITS}))::BIGINT"
)
