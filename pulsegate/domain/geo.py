"""Country and network (AS organisation, hosting flag) of an IP address.

The bundled geoip2fast data (IPv4 and IPv6, with AS names) loads once, on first use, in
about 0.2 s and ~100 MB. A MaxMind country and/or ASN `.mmdb` file named in the config
(`[geo]`) is used instead where given. Lookups after loading are pure and take microseconds.
"""

from __future__ import annotations

import ipaddress
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from pulsegate.domain.hosting import is_hosting_network

GEOIP2FAST_DATA = "geoip2fast-asn-ipv6.dat.gz"


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
        bundled = self._bundled.lookup(str(address)) if self._bundled is not None else None
        country = self._mmdb_country(address) if self._country_reader else _bundled_country(bundled)
        organisation = (
            self._mmdb_organisation(address) if self._asn_reader else _bundled_organisation(bundled)
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
def bundled_database() -> Any:
    """The bundled geoip2fast data, loaded once per process (it is read-only and ~100 MB)."""
    from geoip2fast import GeoIP2Fast

    return GeoIP2Fast(geoip2fast_data_file=GEOIP2FAST_DATA)


def _bundled_country(result: Any) -> str | None:
    code = getattr(result, "country_code", "") if result is not None else ""
    return code if isinstance(code, str) and len(code) == 2 and code.isalpha() else None


def _bundled_organisation(result: Any) -> str | None:
    name = getattr(result, "asn_name", "") if result is not None else ""
    return name or None
