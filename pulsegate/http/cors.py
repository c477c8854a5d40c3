"""CORS: the reference's three headers on every response, errors and preflights included."""

from __future__ import annotations

from litestar.types import Message, Scope

CORS_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"access-control-allow-origin", b"*"),
    (b"access-control-allow-methods", b"GET, POST, OPTIONS"),
    (
        b"access-control-allow-headers",
        b"Content-Type, X-Fingerprint-ID, X-Visitor-ID, Authorization, X-API-Key",
    ),
    # Without this a page's script cannot read when a 429 lets it try again.
    (
        b"access-control-expose-headers",
        b"Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset",
    ),
)
# Browsers may reuse a preflight's answer this long (Chromium caps it at 2 h): without it every
# tracking call, which carries X-Visitor-ID, costs two requests.
PREFLIGHT_MAX_AGE = (b"access-control-max-age", b"7200")
_CORS_NAMES = frozenset(name for name, _ in (*CORS_HEADERS, PREFLIGHT_MAX_AGE))


async def add_cors_headers(message: Message, scope: Scope) -> None:
    """Before-send hook: stamp the CORS headers on every HTTP response start.

    A hook rather than middleware because Litestar runs app hooks for every response, including
    the 404 and 405 its router raises before any middleware sees the request. Async because
    Litestar runs a sync hook through a worker thread, twice per response.
    """
    if message["type"] != "http.response.start":
        return
    headers = [(name, value) for name, value in message.get("headers", ()) if name.lower() not in _CORS_NAMES]
    headers.extend(CORS_HEADERS)
    if scope.get("method") == "OPTIONS":
        headers.append(PREFLIGHT_MAX_AGE)
    message["headers"] = headers
