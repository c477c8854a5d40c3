"""Everything derived about a new session from its request: source, campaign, place, software."""

from __future__ import annotations

from dataclasses import dataclass

from pulsegate.domain.geo import OriginLookup
from pulsegate.domain.sources import host_of, traffic_source, utm_from_url
from pulsegate.domain.tracking import Caller, SessionStart
from pulsegate.domain.user_agents import classify_user_agent


@dataclass(frozen=True, slots=True)
class SessionOrigin:
    """Where a session came from and on what; stored with the session, the IP never is."""

    source: str
    referrer_host: str | None
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    utm_term: str | None
    utm_content: str | None
    country: str | None
    as_organisation: str | None
    is_hosting: bool
    browser: str | None
    os: str | None
    device: str
    is_bot: bool


def session_origin(start: SessionStart, caller: Caller, geo: OriginLookup) -> SessionOrigin:
    """Derive a session's origin. UTM fields sent in the body win over those in the page URL."""
    from_url = utm_from_url(start.url)
    utm = {
        key: getattr(start, key) or from_url.get(key)
        for key in ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
    }
    referrer_host = host_of(start.referrer)
    network = geo.resolve(caller.client_ip)
    software = classify_user_agent(caller.user_agent[:1024])
    return SessionOrigin(
        source=traffic_source(start.url, start.referrer, utm["utm_source"]),
        referrer_host=None if referrer_host == host_of(start.url) else referrer_host,
        country=network.country,
        as_organisation=network.as_organisation,
        is_hosting=network.is_hosting,
        browser=software.browser,
        os=software.os,
        device=software.device,
        is_bot=software.is_bot,
        **utm,
    )
