"""Where a request came from, as far as IP data tells: country, AS organisation, hosting flag.

Pure: the data is read by `services/geo.py` (GeoResolver); this module says what an origin is
and how a MaxMind record reads as one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from pulsegate.domain.hosting import is_hosting_network


@dataclass(frozen=True, slots=True)
class NetworkOrigin:
    """Where a request came from, as far as IP data can tell."""

    country: str | None  # ISO 3166-1 alpha-2, None when unknown or private
    as_organisation: str | None
    is_hosting: bool


UNKNOWN_ORIGIN = NetworkOrigin(None, None, False)


class OriginLookup(Protocol):
    """Anything that resolves an IP address (as text) to its NetworkOrigin."""

    def resolve(self, ip: str) -> NetworkOrigin: ...


def network_origin(country: str | None, organisation: str | None) -> NetworkOrigin:
    """The origin of a country and an AS organisation; hosting networks are told by name."""
    return NetworkOrigin(country, organisation, is_hosting_network(organisation))


def mmdb_country(record: Mapping[str, Any] | None) -> str | None:
    """The ISO country code in a MaxMind country record (the registered country if no other)."""
    record = record or {}
    country = record.get("country") or record.get("registered_country") or {}
    code = country.get("iso_code")
    return code.upper() if isinstance(code, str) and len(code) == 2 else None


def mmdb_organisation(record: Mapping[str, Any] | None) -> str | None:
    """The AS organisation in a MaxMind ASN record."""
    name = (record or {}).get("autonomous_system_organization")
    return name if isinstance(name, str) and name else None
