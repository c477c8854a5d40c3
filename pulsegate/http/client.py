"""Who is calling: the client's IP (trusting only configured proxies), user agent and id headers."""

from __future__ import annotations

from collections.abc import Sequence

from litestar import Request
from litestar.types import Scope

from pulsegate.domain.client_ip import IPNetwork, client_ip
from pulsegate.domain.tracking import Caller

_STATE_KEY = "pulsegate_client_ip"


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


def client_ip_of(scope: Scope, trusted_proxies: Sequence[IPNetwork]) -> str:
    """The client's IP for this request, resolved once and remembered in the scope's state."""
    state = scope.setdefault("state", {})
    cached = state.get(_STATE_KEY)
    if cached is not None:
        return cached
    peer = scope.get("client")
    resolved = client_ip(
        peer[0] if peer else "",
        forwarded_for=_header(scope, b"x-forwarded-for"),
        cf_connecting_ip=_header(scope, b"cf-connecting-ip"),
        trusted_proxies=trusted_proxies,
    )
    state[_STATE_KEY] = resolved
    return resolved


def caller_of(request: Request, trusted_proxies: Sequence[IPNetwork]) -> Caller:
    """The Caller of a tracking request."""
    headers = request.headers
    return Caller(
        client_ip=client_ip_of(request.scope, trusted_proxies),
        user_agent=headers.get("user-agent", ""),
        visitor_header=headers.get("x-visitor-id"),
        fingerprint_header=headers.get("x-fingerprint-id"),
    )
