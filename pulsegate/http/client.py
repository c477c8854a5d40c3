"""Who is calling: the caller's IP, user agent and identifying headers."""

from __future__ import annotations

from litestar import Request

from pulsegate.domain.tracking import Caller


def caller_of(request: Request) -> Caller:
    """The Caller of a tracking request."""
    client = request.client
    return Caller(
        client_ip=client.host if client else "",
        user_agent=request.headers.get("user-agent", ""),
        visitor_header=request.headers.get("x-visitor-id"),
        fingerprint_header=request.headers.get("x-fingerprint-id"),
    )
