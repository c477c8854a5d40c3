"""CRM delivery rules (pure): signatures, which answers to retry, and how long to wait."""

from __future__ import annotations

import hashlib
import hmac
import random
from email.utils import parsedate_to_datetime
from typing import Literal

MAX_RETRY_DELAY_SECONDS = 3600.0
Outcome = Literal["delivered", "retry", "failed"]


def signature(secret: str, body: bytes) -> str:
    """The X-PulseGate-Signature value: `sha256=` and the hex HMAC-SHA256 of the exact body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def outcome(status: int | None) -> Outcome:
    """What an attempt's answer means. None: no answer (network error or timeout).

    2xx is delivered. No answer, 408, 425, 429 and 5xx are worth another try. Any other 4xx
    (a wrong URL, a rejected payload) will not change by retrying, so the delivery fails.
    """
    if status is None or status in (408, 425, 429) or status >= 500:
        return "retry"
    if 200 <= status < 300:
        return "delivered"
    return "failed"


def retry_after_seconds(value: str | None, now_epoch: float) -> float | None:
    """Seconds a Retry-After header asks for (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now_epoch)
    except (TypeError, ValueError, IndexError):
        return None


def retry_delay(attempts: int, first_delay: float, retry_after: float | None, rng: random.Random) -> float:
    """Seconds before the next attempt, after `attempts` attempts so far.

    Exponential backoff with jitter: about first_delay x 2^(attempts-1), spread over ±50% so
    that deliveries failed by one outage do not all come back at once. A Retry-After from the
    CRM wins when it asks for longer. Never more than an hour.
    """
    backoff = first_delay * 2 ** max(0, attempts - 1)
    jittered = backoff * rng.uniform(0.5, 1.5)
    if retry_after is not None:
        jittered = max(jittered, retry_after)
    return min(jittered, MAX_RETRY_DELAY_SECONDS)
