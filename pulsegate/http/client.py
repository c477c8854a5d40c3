"""Who is calling: the client's IP (trusting only configured proxies), user agent and id headers."""

from __future__ import annotations

from collections.abc import Sequence

from litestar.types import Scope

from pulsegate.domain.client_ip import IPNetwork, client_ip
from pulsegate.domain.tracking import Caller
from pulsegate.http.body import header

_STATE_KEY = "pulsegate_client_ip"


def client_ip_of(scope: Scope, trusted_proxies: Sequence[IPNetwork]) -> str:
    """The client's IP for this request, resolved once and remembered in the scope's state."""
    state = scope.setdefault("state", {})
    cached = state.get(_STATE_KEY)
    if cached is not None:
        return cached
    peer = scope.get("client")
    resolved = client_ip(
        peer[0] if peer else "",
        forwarded_for=header(scope, b"x-forwarded-for"),
        cf_connecting_ip=header(scope, b"cf-connecting-ip"),
        trusted_proxies=trusted_proxies,
    )
    state[_STATE_KEY] = resolved
    return resolved


def caller_of(scope: Scope, trusted_proxies: Sequence[IPNetwork]) -> Caller:
    """The Caller of a tracking request."""
    return Caller(
        client_ip=client_ip_of(scope, trusted_proxies),
        user_agent=header(scope, b"user-agent") or "",
        visitor_header=header(scope, b"x-visitor-id"),
        fingerprint_header=header(scope, b"x-fingerprint-id"),
    )
