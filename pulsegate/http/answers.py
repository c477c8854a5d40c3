"""Raw ASGI answers: a JSON body with its status, and what a rate limit adds to an answer (the
reference's three headers) or answers itself (the 429), for the middleware and the tracking lane."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec
from litestar.types import Scope, Send

from pulsegate.domain.client_ip import IPNetwork
from pulsegate.domain.rate_limit import FixedWindowLimiter, RateDecision, client_key
from pulsegate.http.client import client_ip_of

Headers = list[tuple[bytes, bytes]]


async def send_json(send: Send, status: int, body: bytes, headers: Headers) -> None:
    """Answer `body` (JSON already encoded) with `status` and `headers` besides its own two."""
    start = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body)), *headers]
    await send({"type": "http.response.start", "status": status, "headers": start})
    await send({"type": "http.response.body", "body": body})


def limit_headers(decision: RateDecision) -> Headers:
    """X-RateLimit-Limit, -Remaining and -Reset (seconds until the window ends)."""
    return [
        (b"x-ratelimit-limit", b"%d" % decision.limit),
        (b"x-ratelimit-remaining", b"%d" % decision.remaining),
        (b"x-ratelimit-reset", b"%d" % decision.reset_seconds),
    ]


def refusal(decision: RateDecision, path: str, window_seconds: int) -> tuple[bytes, Headers]:
    """The 429's body, and its headers: Retry-After and the limit's own."""
    body = msgspec.json.encode(
        {
            "error": f"Too many requests to {path}: at most {decision.limit} per {window_seconds} s "
            f"from one client; retry in {decision.reset_seconds} s"
        }
    )
    return body, [(b"retry-after", b"%d" % decision.reset_seconds), *limit_headers(decision)]


def limit_request(
    limiter: FixedWindowLimiter, scope: Scope, trusted_proxies: Sequence[IPNetwork], now: float
) -> tuple[bytes | None, Headers]:
    """Count this request against `limiter`: the 429's body and headers when it is refused, else
    None and the headers its answer carries."""
    decision = limiter.hit(client_key(client_ip_of(scope, trusted_proxies)), now)
    if not decision.allowed:
        return refusal(decision, scope["path"], limiter.window_seconds)
    return None, limit_headers(decision)
