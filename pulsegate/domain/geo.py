"""Country and network (AS organisation, hosting flag) of an IP address.

The bundled geoip2fast data (IPv4 and IPv6, with AS names) loads once, on first use, in
about a second, into compact arrays of ~15 MB (geoip2fast's own in-memory form takes ~105 MB,
most of a server's memory budget). A MaxMind country and/or ASN `.mmdb` file named in the config
(`[geo]`) is used instead where given. Lookups after loading are pure and take microseconds.
"""

from __future__ import annotations

import ipaddress
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from pulsegate.domain.geo_ranges import CompactRanges
from pulsegate.domain.hosting import is_hosting_network


@dataclass(frozen=True, slots=True)
class NetworkOrigin:
    """Where a request came from, as far as IP data can tell."""

    country: str | None  # ISO 3166-1 alpha-2, None when unknown or private
    as_organisation: str | None
    is_hosting: bool


UNKNOWN_ORIGIN = NetworkOrigin(None, None, False)


class GeoResolver:
    """Resolves IPs to a NetworkOrigin; thread-safe; data loads lazily on the first lookup."""

    def __init__(self, *, country_mmdb: Path | None = None, asn_mmdb: Path | None = None) -> None:
        self._country_mmdb = country_mmdb
        self._asn_mmdb = asn_mmdb
        self._lock = threading.Lock()
        self._bundled: Any = None
        self._country_reader: Any = None
        self._asn_reader: Any = None
        self._loaded = False
        self.resolve = lru_cache(maxsize=65_536)(self._resolve)

    def load(self) -> None:
        """Load the data now (the server does this at start-up, off the request path)."""
        with self._lock:
            if self._loaded:
                return
            if self._country_mmdb is not None or self._asn_mmdb is not None:
                import maxminddb

                if self._country_mmdb is not None:
                    self._country_reader = maxminddb.open_database(str(self._country_mmdb))
                if self._asn_mmdb is not None:
                    self._asn_reader = maxminddb.open_database(str(self._asn_mmdb))
            if self._country_reader is None or self._asn_reader is None:
                self._bundled = bundled_database()
            self._loaded = True

    def _resolve(self, ip: str) -> NetworkOrigin:
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return UNKNOWN_ORIGIN
        if not address.is_global:
            return UNKNOWN_ORIGIN
        self.load()
        key = int(address)
        country = self._mmdb_country(address) if self._country_reader else self._bundled.country(key)
        organisation = (
            self._mmdb_organisation(address) if self._asn_reader else self._bundled.organisation(key)
        )
        return NetworkOrigin(country, organisation, is_hosting_network(organisation))

    def _mmdb_country(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
        record = self._country_reader.get(str(address)) or {}
        country = record.get("country") or record.get("registered_country") or {}
        code = country.get("iso_code")
        return code.upper() if isinstance(code, str) and len(code) == 2 else None

    def _mmdb_organisation(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
        record = self._asn_reader.get(str(address)) or {}
        name = record.get("autonomous_system_organization")
        return name if isinstance(name, str) and name else None


@lru_cache(maxsize=1)
def bundled_database() -> CompactRanges:
    """The bundled geoip2fast data as compact arrays, loaded once per process."""
    return CompactRanges.from_geoip2fast()
