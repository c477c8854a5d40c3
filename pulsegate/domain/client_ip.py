"""The client's IP address, believing forwarding headers only from trusted proxies."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
DEFAULT_TRUSTED_PROXIES = ("127.0.0.0/8", "::1/128")


def parse_networks(cidrs: Sequence[str]) -> tuple[IPNetwork, ...]:
    """CIDR strings as networks; raises ValueError naming a bad one."""
    networks = []
    for cidr in cidrs:
        try:
            networks.append(ipaddress.ip_network(cidr.strip(), strict=False))
        except ValueError as exc:
            raise ValueError(f"not an IP network: {cidr!r}") from exc
    return tuple(networks)


def _parse_ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # [v6]:port
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # v4:port
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address, trusted: Sequence[IPNetwork]) -> bool:
    return any(address.version == network.version and address in network for network in trusted)


def client_ip(
    peer: str,
    *,
    forwarded_for: str | None,
    cf_connecting_ip: str | None,
    trusted_proxies: Sequence[IPNetwork],
) -> str:
    """The address to attribute a request to.

    If the peer is not a trusted proxy, it is the client, whatever the headers say (they are
    trivially spoofed). If it is, CF-Connecting-IP wins when present; otherwise X-Forwarded-For
    is walked from the right, skipping trusted proxies, and the first untrusted hop is the client.
    """
    peer_address = _parse_ip(peer)
    if peer_address is None or not _trusted(peer_address, trusted_proxies):
        return str(peer_address) if peer_address is not None else peer
    if cf_connecting_ip:
        address = _parse_ip(cf_connecting_ip)
        if address is not None:
            return str(address)
    if forwarded_for:
        hops = [_parse_ip(part) for part in forwarded_for.split(",")]
        for hop in reversed(hops):
            if hop is None:
                break  # garbage in the chain: stop believing anything left of it
            if not _trusted(hop, trusted_proxies):
                return str(hop)
    return str(peer_address)


def is_https(
    scheme: str, peer: str, *, forwarded_proto: str | None, trusted_proxies: Sequence[IPNetwork]
) -> bool:
    """Whether the browser's request came over HTTPS: the connection's own scheme, or, from a
    trusted proxy only, `X-Forwarded-Proto` (its first value: the hop nearest the browser)."""
    if scheme == "https":
        return True
    peer_address = _parse_ip(peer)
    if peer_address is None or not _trusted(peer_address, trusted_proxies) or not forwarded_proto:
        return False
    return forwarded_proto.split(",")[0].strip().lower() == "https"
