"""IP ranges from geoip2fast's data, held in compact arrays and searched by bisection (pure:
`services/geo.py` reads the file and hands its tables in).

geoip2fast keeps ~1.4 million ranges as Python ints in lists (~105 MB resident). The same
ranges as typed arrays take ~15 MB: IPv4 starts as 32-bit integers, IPv6 starts as two 64-bit
halves, and per-range country and AS indexes into small name tables.
"""

from __future__ import annotations

import bisect
import itertools
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

IPV4_SPACE = 2**32
LOW_64 = 2**64 - 1


class _Int128Starts:
    """A read-only sequence of 128-bit ints stored as two arrays of 64-bit halves (for bisect)."""

    def __init__(self, high: array[int], low: array[int]) -> None:
        self._high = high
        self._low = low

    def __len__(self) -> int:
        return len(self._high)

    def __getitem__(self, index: int) -> int:
        return (self._high[index] << 64) | self._low[index]


@dataclass(frozen=True, slots=True)
class _RangeTable:
    """Sorted ranges of one kind (country or AS): starts, prefix lengths and a value index each."""

    v4_starts: array[int]
    v4_prefix: array[int]
    v4_values: array[int]
    v6_starts: _Int128Starts
    v6_prefix: array[int]
    v6_values: array[int]

    @classmethod
    def build(cls, starts: list[int], prefixes: list[int], values: list[int], value_code: str) -> _RangeTable:
        split = bisect.bisect_left(starts, IPV4_SPACE)
        v6 = starts[split:]
        return cls(
            v4_starts=array("I", starts[:split]),
            v4_prefix=array("B", prefixes[:split]),
            v4_values=array(value_code, values[:split]),
            v6_starts=_Int128Starts(array("Q", (s >> 64 for s in v6)), array("Q", (s & LOW_64 for s in v6))),
            v6_prefix=array("B", prefixes[split:]),
            v6_values=array(value_code, values[split:]),
        )

    def find(self, key: int) -> int | None:
        """The value index of the range holding `key` (an IP as int), or None."""
        if key < IPV4_SPACE:
            starts, prefixes, values, bits = self.v4_starts, self.v4_prefix, self.v4_values, 32
        else:
            starts, prefixes, values, bits = self.v6_starts, self.v6_prefix, self.v6_values, 128
        index = bisect.bisect_right(starts, key) - 1  # type: ignore[arg-type]
        if index < 0 or key >= starts[index] + (1 << (bits - prefixes[index])):
            return None
        return values[index]


class _NameTable:
    """Names kept in one string with an offset array: a list of 72,000 small strings would pin
    the memory arenas the data file's temporary objects were allocated in."""

    def __init__(self, names: list[str | None]) -> None:
        self._text = "".join(name or "" for name in names)
        self._ends = array("I", itertools.accumulate(len(name or "") for name in names))

    def __getitem__(self, index: int) -> str | None:
        start = self._ends[index - 1] if index else 0
        return self._text[start : self._ends[index]] or None


class CompactRanges:
    """Country code and AS organisation for an IP, from geoip2fast's bundled data."""

    def __init__(self, countries: _RangeTable, country_codes: _NameTable, networks: _RangeTable,
                 organisations: _NameTable) -> None:  # fmt: skip
        self._countries = countries
        self._country_codes = country_codes
        self._networks = networks
        self._organisations = organisations

    @classmethod
    def from_geoip2fast_tables(cls, database: Sequence[Any]) -> CompactRanges:
        """Compact arrays from the tables of geoip2fast's data file (its pickle of chunked lists)."""
        (_index, _index_asn, country_names, asn_names, first_ips, first_ips_asn,
         country_ids, asn_ids, prefixes, prefixes_asn) = database  # fmt: skip
        flat = itertools.chain.from_iterable
        # "US:United States" -> "US"; the reserved and private entries have numeric codes.
        codes = [name.split(":", 1)[0] for name in country_names]
        country_codes = _NameTable([code if len(code) == 2 and code.isalpha() else None for code in codes])
        organisations = _NameTable([None if name in ("", "<unknown>") else name for name in asn_names])
        return cls(
            _RangeTable.build(list(flat(first_ips)), list(flat(prefixes)), list(flat(country_ids)), "H"),
            country_codes,
            _RangeTable.build(list(flat(first_ips_asn)), list(flat(prefixes_asn)), list(flat(asn_ids)), "I"),
            organisations,
        )

    def country(self, key: int) -> str | None:
        """ISO country code for the IP `key`, or None."""
        index = self._countries.find(key)
        return self._country_codes[index] if index is not None else None

    def organisation(self, key: int) -> str | None:
        """AS organisation name for the IP `key`, or None."""
        index = self._networks.find(key)
        return self._organisations[index] if index is not None else None
