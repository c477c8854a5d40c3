"""Fixed-window rate limiting per client, with memory that stays bounded under a flood.

Windows are aligned to the clock (every key's window ends at the same instant), so when a
window ends the whole table of counts is dropped at once: no per-key expiry to sweep. Within
a window the table holds at most `max_keys` clients; past that the oldest entries are evicted
(those clients start counting again: a flood of distinct addresses can cost a little accuracy,
never memory).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pulsegate.domain.client_ip import parse_address

IPV6_PREFIX = 64  # one subscriber usually holds a whole /64: counting per /128 would be no limit
_IPV6_KEYS = 1 << 32  # IPv6 keys start past the last IPv4 address


@dataclass(frozen=True, slots=True)
class RateDecision:
    """The outcome of one request against a limit."""

    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int  # until the current window ends, rounded up, at least 1


def client_key(client_ip: str) -> int | str:
    """What a limit counts against: the IPv4 address, or the IPv6 address's /64 network, as an
    integer (an IPv6 prefix offset past every IPv4 one); anything else as it is. An integer: a
    window holds up to `max_keys` of them, 102 bytes each with the address's text as the key, 86
    with its number (bench/cache_sizes.py)."""
    address = parse_address(client_ip)
    if address is None:
        return client_ip
    if address.version == 6:
        return _IPV6_KEYS + (address.value >> (128 - IPV6_PREFIX))
    return address.value


class FixedWindowLimiter:
    """At most `limit` requests per key in each `window_seconds`-long window."""

    def __init__(self, limit: int, window_seconds: int = 60, *, max_keys: int = 100_000) -> None:
        if limit < 1 or window_seconds < 1 or max_keys < 1:
            raise ValueError("limit, window_seconds and max_keys must be positive")
        self.limit = limit
        self.window_seconds = window_seconds
        self.max_keys = max_keys
        self._window = -1
        self._counts: dict[int | str, int] = {}

    def __len__(self) -> int:
        return len(self._counts)

    def hit(self, key: int | str, now: float) -> RateDecision:
        """Count one request from `key` at time `now` (seconds) and decide."""
        window = int(now // self.window_seconds)
        if window != self._window:
            self._window = window
            self._counts = {}
        count = self._counts.get(key, 0) + 1
        if count == 1 and len(self._counts) >= self.max_keys:
            del self._counts[next(iter(self._counts))]  # dicts keep insertion order: oldest first
        self._counts[key] = count
        reset = max(1, math.ceil((window + 1) * self.window_seconds - now))
        return RateDecision(
            allowed=count <= self.limit,
            limit=self.limit,
            remaining=max(0, self.limit - count),
            reset_seconds=reset,
        )
