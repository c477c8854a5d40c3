"""CRM delivery rules: the signature, which answers are retried, and the backoff."""

from __future__ import annotations

import hashlib
import hmac
import random

import pytest

from pulsegate.domain.delivery import (
    MAX_RETRY_DELAY_SECONDS,
    outcome,
    retry_after_seconds,
    retry_delay,
    signature,
)


def test_signature_is_hmac_sha256_of_the_exact_body() -> None:
    body = b'{"lead_id":"x"}'
    expected = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert signature("s3cret", body) == f"sha256={expected}"
    assert signature("s3cret", body + b" ") != signature("s3cret", body)


@pytest.mark.parametrize(
    ("status", "expected"),
    [(200, "delivered"), (204, "delivered"), (None, "retry"), (500, "retry"), (503, "retry"), (429, "retry"),
     (408, "retry"), (400, "failed"), (404, "failed"), (410, "failed"), (302, "failed")],
)  # fmt: skip
def test_outcomes(status: int | None, expected: str) -> None:
    assert outcome(status) == expected


def test_retry_after_forms() -> None:
    assert retry_after_seconds("120", 0) == 120
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", 1445412480 - 30) == 30
    assert retry_after_seconds("soon", 0) is None
    assert retry_after_seconds(None, 0) is None


def test_backoff_grows_with_jitter_and_honours_retry_after() -> None:
    rng = random.Random(1)
    delays = [retry_delay(attempt, 5.0, None, rng) for attempt in range(1, 7)]
    for attempt, delay in enumerate(delays, start=1):
        base = 5.0 * 2 ** (attempt - 1)
        assert base * 0.5 <= delay <= base * 1.5
    assert len(set(delays)) == len(delays)
    assert retry_delay(1, 5.0, 90.0, rng) == 90.0  # the CRM asked for longer
    assert retry_delay(30, 5.0, None, rng) == MAX_RETRY_DELAY_SECONDS
