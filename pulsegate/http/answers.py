"""What a rate limit adds to an answer: the reference's three headers, and the 429 that refuses."""

from __future__ import annotations

import msgspec

from pulsegate.domain.rate_limit import RateDecision

JSON_CONTENT_TYPE = (b"content-type", b"application/json")
Headers = list[tuple[bytes, bytes]]


def limit_headers(decision: RateDecision) -> Headers:
    """X-RateLimit-Limit, -Remaining and -Reset (seconds until the window ends)."""
    return [
        (b"x-ratelimit-limit", b"%d" % decision.limit),
        (b"x-ratelimit-remaining", b"%d" % decision.remaining),
        (b"x-ratelimit-reset", b"%d" % decision.reset_seconds),
    ]


def refusal(decision: RateDecision, path: str, window_seconds: int) -> tuple[bytes, Headers]:
    """The 429's body and headers (with Retry-After and the limit's own headers)."""
    body = msgspec.json.encode(
        {
            "error": f"Too many requests to {path}: at most {decision.limit} per {window_seconds} s "
            f"from one client; retry in {decision.reset_seconds} s"
        }
    )
    headers = [
        JSON_CONTENT_TYPE,
        (b"content-length", b"%d" % len(body)),
        (b"retry-after", b"%d" % decision.reset_seconds),
        *limit_headers(decision),
    ]
    return body, headers
