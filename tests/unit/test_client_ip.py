"""Client IPs: forwarding headers believed only from trusted proxies."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pulsegate.domain.client_ip import DEFAULT_TRUSTED_PROXIES, IPNetwork, client_ip, parse_networks

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


def _reference(peer: str, forwarded_for: str, trusted: tuple[IPNetwork, ...]) -> str:
    """client_ip as it was written with `ipaddress` alone (before issue 21's fast IPv4 path)."""

    def parse(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
        value = value.strip()
        if value.startswith("[") and "]" in value:
            value = value[1 : value.index("]")]
        elif value.count(":") == 1:
            value = value.split(":", 1)[0]
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            return None
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            return address.ipv4_mapped
        return address

    def is_trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        return any(address.version == network.version and address in network for network in trusted)

    peer_address = parse(peer)
    if peer_address is None or not is_trusted(peer_address):
        return str(peer_address) if peer_address is not None else peer
    for part in reversed(forwarded_for.split(",")):
        hop = parse(part)
        if hop is None:
            break
        if not is_trusted(hop):
            return str(hop)
    return str(peer_address)


_octets = st.integers(0, 255).map(str) | st.sampled_from(["01", "256", "1e1", "٣", " 7", "-1", ""])
_ipv4_text = st.lists(_octets, min_size=4, max_size=4).map(".".join) | st.lists(_octets, max_size=5).map(
    ".".join
)
_address_text = (
    _ipv4_text
    | st.ip_addresses().map(str)
    | st.ip_addresses(v=6).map(lambda address: f"[{address}]:443")
    | _ipv4_text.map(lambda text: f"{text}:8080")
    | st.ip_addresses(v=4).map(lambda address: f"::ffff:{address}")
    | st.text(max_size=12)
)


@given(
    peer=st.sampled_from(["127.0.0.1", "10.1.2.3", "::1", "203.0.113.9", "::ffff:10.0.0.1", "junk"]),
    hops=st.lists(_address_text | st.sampled_from(["10.9.9.9", "127.0.0.5", "::1"]), max_size=4),
)
def test_the_fast_parser_agrees_with_ipaddress(peer: str, hops: list[str]) -> None:
    trusted = parse_networks(["127.0.0.0/8", "10.0.0.0/8", "::1/128"])
    forwarded_for = ", ".join(hops)
    expected = _reference(peer, forwarded_for, trusted)
    assert (
        client_ip(peer, forwarded_for=forwarded_for, cf_connecting_ip=None, trusted_proxies=trusted)
        == expected
    )


@given(_address_text)
def test_one_forwarded_address_is_parsed_as_ipaddress_parses_it(text: str) -> None:
    trusted = parse_networks(DEFAULT_TRUSTED_PROXIES)
    expected = _reference("127.0.0.1", text, trusted)
    assert (
        client_ip("127.0.0.1", forwarded_for=text, cf_connecting_ip=None, trusted_proxies=trusted) == expected
    )
