"""Client IPs: forwarding headers believed only from trusted proxies."""

from __future__ import annotations

import pytest

from pulsegate.domain.client_ip import DEFAULT_TRUSTED_PROXIES, client_ip, parse_networks

LOOPBACK = parse_networks(DEFAULT_TRUSTED_PROXIES)
PROXIES = parse_networks(["10.0.0.0/8", "::1/128"])


def test_untrusted_peer_spoofing_forwarded_for_is_ignored() -> None:
    got = client_ip(
        "203.0.113.7", forwarded_for="8.8.8.8", cf_connecting_ip="1.1.1.1", trusted_proxies=LOOPBACK
    )
    assert got == "203.0.113.7"


def test_trusted_peer_forwarded_for_names_the_client() -> None:
    assert (
        client_ip("127.0.0.1", forwarded_for="8.8.8.8", cf_connecting_ip=None, trusted_proxies=LOOPBACK)
        == "8.8.8.8"
    )


def test_chain_is_walked_from_the_right_past_trusted_hops() -> None:
    # The leftmost entry is whatever the client claimed; only hops added by our proxies count.
    chain = "6.6.6.6, 198.51.100.4, 10.1.2.3"
    assert (
        client_ip("10.0.0.2", forwarded_for=chain, cf_connecting_ip=None, trusted_proxies=PROXIES)
        == "198.51.100.4"
    )


def test_cloudflare_header_from_a_trusted_peer() -> None:
    assert (
        client_ip("::1", forwarded_for="9.9.9.9", cf_connecting_ip="2a01:4f8::1", trusted_proxies=PROXIES)
        == "2a01:4f8::1"
    )


@pytest.mark.parametrize("header", ["garbage", "8.8.8.8, nonsense", ""])
def test_garbage_headers_fall_back_to_the_peer(header: str) -> None:
    assert (
        client_ip("127.0.0.1", forwarded_for=header, cf_connecting_ip="junk", trusted_proxies=LOOPBACK)
        == "127.0.0.1"
    )


def test_ports_and_mapped_addresses_are_normalised() -> None:
    assert (
        client_ip(
            "127.0.0.1", forwarded_for="[2001:db8::1]:443", cf_connecting_ip=None, trusted_proxies=LOOPBACK
        )
        == "2001:db8::1"
    )
    assert (
        client_ip(
            "127.0.0.1", forwarded_for="192.0.2.1:8080", cf_connecting_ip=None, trusted_proxies=LOOPBACK
        )
        == "192.0.2.1"
    )
    assert (
        client_ip(
            "::ffff:127.0.0.1", forwarded_for="192.0.2.9", cf_connecting_ip=None, trusted_proxies=LOOPBACK
        )
        == "192.0.2.9"
    )


def test_non_ip_peer_is_kept_as_is() -> None:
    assert (
        client_ip("testclient", forwarded_for="8.8.8.8", cf_connecting_ip=None, trusted_proxies=LOOPBACK)
        == "testclient"
    )


def test_bad_cidr_is_named() -> None:
    with pytest.raises(ValueError, match=r"10\.0\.0\.0/33"):
        parse_networks(["10.0.0.0/33"])
