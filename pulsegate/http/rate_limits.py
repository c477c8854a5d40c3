"""Per-client fixed-window rate limits on chosen routes, with the reference's headers.

Every response of a limited route carries X-RateLimit-Limit, X-RateLimit-Remaining and
X-RateLimit-Reset (seconds until the window ends); a refused request gets 429, Retry-After and
an error body. Only POSTs count: preflights and wrong methods do not spend a client's budget.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from pulsegate.config import Settings
from pulsegate.domain.client_ip import IPNetwork
from pulsegate.domain.rate_limit import FixedWindowLimiter
from pulsegate.http.answers import limit_request, send_json
from pulsegate.http.leads import CAPTURE_PATHS
from pulsegate.http.tracking import TRACKING_ROUTES, tracking_prefixes


def route_limiters(settings: Settings) -> dict[str, FixedWindowLimiter]:
    """The limiter of every limited path: the tracking routes under each prefix, and lead capture."""
    limits = settings.rate_limits

    def limiter(limit: int) -> FixedWindowLimiter:
        return FixedWindowLimiter(limit, limits.window_seconds, max_keys=limits.max_tracked_clients)

    leads = limiter(settings.leads.rate_limit)  # one budget across the capture route and its aliases
    limiters = dict.fromkeys(CAPTURE_PATHS, leads)
    # One budget per route under both prefixes: the extra prefix is another name, not more quota.
    for route in TRACKING_ROUTES:
        budget = limiter(getattr(limits, route.rate_limit))
        for prefix, _ in tracking_prefixes(settings.web.tracking_prefix):
            limiters[prefix + route.path] = budget
    return limiters


class RateLimitMiddleware:
    """ASGI middleware applying `limiters[path]` to POST requests on those paths."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        limiters: Mapping[str, FixedWindowLimiter],
        trusted_proxies: Sequence[IPNetwork],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.app = app
        self.limiters = limiters
        self.trusted_proxies = trusted_proxies
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limiter = self.limiters.get(scope["path"]) if scope["type"] == "http" else None
        if limiter is None or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        refused, headers = limit_request(limiter, scope, self.trusted_proxies, self.clock())
        if refused is not None:
            await send_json(send, 429, refused, headers)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *headers]
            await send(message)

        await self.app(scope, receive, send_with_headers)
