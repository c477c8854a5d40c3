"""The fixed-window limiter: counts, resets, headers' numbers, and bounded memory."""

from __future__ import annotations

import pytest

from pulsegate.domain.rate_limit import FixedWindowLimiter, client_key


def test_eleventh_request_in_a_window_is_refused() -> None:
    limiter = FixedWindowLimiter(10, 60)
    decisions = [limiter.hit("1.2.3.4", 120.0 + i) for i in range(11)]
    assert all(d.allowed for d in decisions[:10])
    assert [d.remaining for d in decisions[:10]] == list(range(9, -1, -1))
    refused = decisions[10]
    assert not refused.allowed and refused.remaining == 0
    assert refused.reset_seconds == 50  # the window is [120, 180); the 11th came at 130


def test_clients_are_counted_apart_and_windows_reset() -> None:
    limiter = FixedWindowLimiter(1, 60)
    assert limiter.hit("a", 0.0).allowed
    assert limiter.hit("b", 1.0).allowed
    assert not limiter.hit("a", 59.9).allowed
    assert limiter.hit("a", 60.0).allowed  # a new window


def test_reset_is_at_least_one_second() -> None:
    assert FixedWindowLimiter(5, 60).hit("a", 59.999).reset_seconds == 1


def test_memory_is_bounded_under_a_flood_of_addresses() -> None:
    limiter = FixedWindowLimiter(10, 60, max_keys=1000)
    for n in range(50_000):
        limiter.hit(f"10.0.{n // 256}.{n % 256}", 5.0)
    assert len(limiter) == 1000
    limiter.hit("new-window", 61.0)
    assert len(limiter) == 1  # the old window's counts are dropped at once


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        FixedWindowLimiter(0)


def test_ipv6_clients_are_counted_per_64() -> None:
    assert client_key("2001:db8:1:2:aaaa::1") == client_key("2001:db8:1:2:ffff::9")
    assert client_key("2001:db8:1:3::1") != client_key("2001:db8:1:2::1")
    assert client_key("203.0.113.7") != client_key("203.0.113.8")
    assert client_key("203.0.113.7") == client_key("203.0.113.7")
    # No IPv6 /64 shares a key with an IPv4 address (::cb00:7100/64's prefix is small too).
    assert client_key("::cb00:7107") != client_key("0.0.0.0")
    assert client_key("203.0.113.7") not in {client_key(f"::{n}") for n in range(3)}
    assert client_key("testclient") == "testclient"
