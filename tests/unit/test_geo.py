"""Country and network from IPs: the bundled data, and MaxMind files when configured."""

from __future__ import annotations

from pathlib import Path

import pytest
from mmdb_writer import MMDBWriter
from netaddr import IPSet

from pulsegate.services.geo import GeoResolver


@pytest.fixture(scope="module")
def bundled() -> GeoResolver:
    return GeoResolver()


@pytest.mark.parametrize(
    ("ip", "country", "organisation", "hosting"),
    [
        ("8.8.8.8", "US", "GOOGLE", True),
        ("5.9.0.1", "DE", "Hetzner Online GmbH", True),
        ("2a01:4f8::1", "DE", "Hetzner Online GmbH", True),  # IPv6
        ("81.2.69.142", "GB", "Andrews & Arnold Ltd", False),
    ],
)
def test_bundled_data(bundled: GeoResolver, ip: str, country: str, organisation: str, hosting: bool) -> None:
    origin = bundled.resolve(ip)
    assert (origin.country, origin.as_organisation, origin.is_hosting) == (country, organisation, hosting)


@pytest.mark.parametrize("ip", ["127.0.0.1", "10.1.2.3", "192.168.0.1", "::1", "fe80::1", "not-an-ip", ""])
def test_private_and_invalid_addresses_are_unknown(bundled: GeoResolver, ip: str) -> None:
    origin = bundled.resolve(ip)
    assert (origin.country, origin.as_organisation, origin.is_hosting) == (None, None, False)


def write_mmdb(path: Path, database_type: str, networks: dict[str, dict]) -> Path:
    writer = MMDBWriter(ip_version=6, database_type=database_type, ipv4_compatible=True)
    for cidr, record in networks.items():
        writer.insert_network(IPSet([cidr]), record)
    writer.to_db_file(str(path))
    return path


def test_maxmind_files_override_the_bundled_data(tmp_path: Path) -> None:
    country_db = write_mmdb(
        tmp_path / "country.mmdb", "GeoLite2-Country", {"8.8.8.0/24": {"country": {"iso_code": "CA"}}}
    )
    asn_db = write_mmdb(
        tmp_path / "asn.mmdb",
        "GeoLite2-ASN",
        {
            "8.8.8.0/24": {
                "autonomous_system_number": 64500,
                "autonomous_system_organization": "DigitalOcean, LLC",
            }
        },
    )
    resolver = GeoResolver(country_mmdb=country_db, asn_mmdb=asn_db)
    origin = resolver.resolve("8.8.8.8")
    assert (origin.country, origin.as_organisation, origin.is_hosting) == ("CA", "DigitalOcean, LLC", True)
    missing = resolver.resolve("1.1.1.1")  # not in the files: unknown, not the bundled answer
    assert (missing.country, missing.as_organisation) == (None, None)


def test_country_file_alone_keeps_bundled_networks(tmp_path: Path) -> None:
    country_db = write_mmdb(
        tmp_path / "country.mmdb", "GeoLite2-Country", {"5.9.0.0/16": {"country": {"iso_code": "AT"}}}
    )
    origin = GeoResolver(country_mmdb=country_db).resolve("5.9.0.1")
    assert (origin.country, origin.as_organisation, origin.is_hosting) == ("AT", "Hetzner Online GmbH", True)


def test_compact_ranges_agree_with_geoip2fast_itself(bundled: GeoResolver) -> None:
    """Our compact copy answers as geoip2fast does, except that it never names an AS network
    that does not contain the address (geoip2fast's IPv4 lookups in its IPv6 file return the
    nearest preceding AS range even past its end)."""
    import ipaddress
    import random

    from geoip2fast import GeoIP2Fast

    reference = GeoIP2Fast(geoip2fast_data_file="geoip2fast-asn-ipv6.dat.gz")
    generator = random.Random(7)
    checked = 0
    for n in range(4000):
        bits = generator.getrandbits(32) if n % 2 else (0x2 << 125) | generator.getrandbits(125)
        address = ipaddress.ip_address(bits)
        if not address.is_global:
            continue
        expected = reference.lookup(str(address))
        country = (
            expected.country_code
            if len(expected.country_code) == 2 and expected.country_code.isalpha()
            else None
        )
        contains = bool(expected.asn_cidr) and address in ipaddress.ip_network(
            expected.asn_cidr, strict=False
        )
        organisation = (expected.asn_name or None) if contains else None
        got = bundled.resolve(str(address))
        assert (got.country, got.as_organisation) == (country, organisation), str(address)
        checked += 1
    assert checked > 3000
