"""What each in-memory cache of the server holds when full: its bound, and its size measured.

Run from the repository root:

    python bench/cache_sizes.py

Every cache the server keeps in memory is bounded (a count of entries); this fills each one to
its bound with realistic entries (random client addresses, UUIDv7 session ids, SHA-256 visitor
ids, page URLs) and measures what the entries take with `tracemalloc` (Python's own allocations,
so the figure is exact and repeatable, unlike RSS). The README's table of caches is this output.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulsegate.config import RateLimitSettings, SessionSettings
from pulsegate.domain.ids import new_id
from pulsegate.domain.rate_limit import FixedWindowLimiter, client_key
from pulsegate.domain.sessions import OpenSession, OpenSessions
from pulsegate.services.geo import ADDRESS_CACHE_SIZE, GeoResolver
from pulsegate.services.tracking import MAX_REMEMBERED_ENDS

RANDOM = random.Random(21)


def random_address() -> str:
    """A random global client address, one in four IPv6 (as bench/ingest.py sends)."""
    if RANDOM.random() < 0.25:
        return f"2a01:4f8:{RANDOM.getrandbits(16):x}:{RANDOM.getrandbits(16):x}::{RANDOM.getrandbits(16):x}"
    return f"{RANDOM.randint(11, 223)}.{RANDOM.randint(0, 255)}.{RANDOM.randint(0, 255)}.{RANDOM.randint(1, 254)}"


def open_session(now_ms: int) -> OpenSession:
    """An open session of a visitor three pages in."""
    session = OpenSession(new_id(now_ms), f"{RANDOM.getrandbits(256):064x}", None, now_ms, now_ms)
    for page in ("/", "/pricing", f"/blog/post-{RANDOM.randint(1, 999)}"):
        session.activity.record("pageview", f"https://www.example.com{page}?utm_source=newsletter", None)
    return session


def measured(fill: Callable[[], object]) -> tuple[float, object]:
    """MB that `fill()` leaves allocated (what it returns is kept alive while measured)."""
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    kept = fill()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return (after - before) / 1e6, kept


def geo_cache() -> object:
    resolver = GeoResolver()
    tracemalloc.stop()  # the geo data itself (loaded once, ~15 MB of arrays) is not the cache
    resolver.load()
    tracemalloc.start()
    for _ in range(ADDRESS_CACHE_SIZE):
        resolver.resolve(random_address())
    return resolver


def rate_limiter(max_keys: int) -> Callable[[], object]:
    def fill() -> object:
        limiter = FixedWindowLimiter(120, 60, max_keys=max_keys)
        now = time.time()
        for _ in range(max_keys):
            limiter.hit(client_key(random_address()), now)
        return limiter

    return fill


def sessions(count: int) -> Callable[[], object]:
    def fill() -> object:
        now_ms = int(time.time() * 1000)
        registry = OpenSessions()
        for _ in range(count):
            registry.add(open_session(now_ms))
        return registry

    return fill


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    limits, session_settings = RateLimitSettings(), SessionSettings()
    rows = [
        ("geo lookup cache (`services/geo.py`)", ADDRESS_CACHE_SIZE, "addresses", geo_cache),
        (
            "rate limit window, per limited route (`rate_limits.max_tracked_clients`)",
            limits.max_tracked_clients,
            "client addresses",
            rate_limiter(limits.max_tracked_clients),
        ),
        ("open sessions (`sessions.max_open`)", session_settings.max_open, "sessions", sessions(session_settings.max_open)),
        ("sessions ended lately, kept for the tab's next page", MAX_REMEMBERED_ENDS, "sessions",
         sessions(MAX_REMEMBERED_ENDS)),
    ]  # fmt: skip
    print("| cache | bound | measured when full | per entry |")
    print("|---|---:|---:|---:|")
    for name, bound, unit, fill in rows:
        megabytes, _ = measured(fill)
        print(f"| {name} | {bound:,} {unit} | {megabytes:,.1f} MB | {megabytes * 1e6 / bound:,.0f} bytes |")


if __name__ == "__main__":
    main()
