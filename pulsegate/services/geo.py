"""Country and network (AS organisation, hosting flag) of an IP address, from data files.

The bundled geoip2fast data (IPv4 and IPv6, with AS names) loads once, at start-up, in about a
second, into compact arrays of ~15 MB (geoip2fast's own in-memory form takes ~105 MB, most of a
server's memory budget). A MaxMind country and/or ASN `.mmdb` file named in the config
(`[geo]`) is used instead where given. Lookups after loading take microseconds; what an origin
is, and how a record reads, is pure logic in `domain/geo.py` and `domain/geo_ranges.py`.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import gzip
import importlib.util
import ipaddress
import pickle
import sys
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

from pulsegate.domain.geo import (
    UNKNOWN_ORIGIN,
    NetworkOrigin,
    mmdb_country,
    mmdb_organisation,
    network_origin,
)
from pulsegate.domain.geo_ranges import CompactRanges

GEOIP2FAST_DATA = "geoip2fast-asn-ipv6.dat.gz"
# Addresses resolved lately, 316 bytes each (bench/cache_sizes.py): 5 MB when full. Traffic where
# every visitor is new misses it whatever its size, and a miss costs tens of µs on a session start
# only; at 65,536 it held 21 MB of a server's 250 MB budget (issue 21).
ADDRESS_CACHE_SIZE = 16_384


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
        self.resolve = lru_cache(maxsize=ADDRESS_CACHE_SIZE)(self._resolve)

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
        if self._country_reader:
            country = mmdb_country(self._country_reader.get(str(address)))
        else:
            country = self._bundled.country(key)
        if self._asn_reader:
            organisation = mmdb_organisation(self._asn_reader.get(str(address)))
        else:
            organisation = self._bundled.organisation(key)
        return network_origin(country, organisation)


@lru_cache(maxsize=1)
def bundled_database() -> CompactRanges:
    """The bundled geoip2fast data as compact arrays, loaded once per process."""
    return load_geoip2fast()


def load_geoip2fast(path: Path | None = None) -> CompactRanges:
    """Read geoip2fast's data file (its own pickle of chunked lists) into compact arrays."""
    if path is None:
        # Find the package's data without importing it (its import alone costs ~12 MB).
        spec = importlib.util.find_spec("geoip2fast")
        if spec is None or spec.origin is None:
            raise RuntimeError("geoip2fast is not installed")
        path = Path(spec.origin).with_name(GEOIP2FAST_DATA)
    with gzip.open(path, "rb") as handle:
        # The package's own data file, shipped inside the installed wheel: trusted input.
        _version, _info, _total, tables = pickle.load(handle)
    ranges = CompactRanges.from_geoip2fast_tables(tables)
    del tables
    _return_freed_memory()
    return ranges


def _return_freed_memory() -> None:
    """Collect the data file's temporary objects and hand the freed pages back to the OS."""
    gc.collect()
    if sys.platform.startswith("linux"):
        # Without glibc there is no malloc_trim; the freed memory is then reused by the process.
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6").malloc_trim(0)
