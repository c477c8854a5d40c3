"""Hosting and VPN networks, recognised from real AS organisation names."""

from __future__ import annotations

import pytest

from pulsegate.domain.hosting import HOSTING_PROVIDERS, hosting_provider, is_hosting_network

# One real AS organisation name (as the bundled data spells it) per provider family.
REAL_NAMES = {
    "Amazon Web Services": "AMAZON-02",
    "Google Cloud": "GOOGLE-CLOUD-PLATFORM",
    "Microsoft Azure": "MICROSOFT-CORP-MSN-AS-BLOCK",
    "DigitalOcean": "DIGITALOCEAN-ASN",
    "Hetzner": "Hetzner Online GmbH",
    "OVH": "OVH SAS",
    "M247": "M247 Europe SRL",
    "Datacamp / CDN77": "Datacamp Limited",
    "Linode / Akamai Connected Cloud": "Akamai Connected Cloud",
    "Vultr / The Constant Company": "AS-VULTR",
    "Oracle Cloud": "ORACLE-BMC-31898",
    "Alibaba Cloud": "Hangzhou Alibaba Advertising Co.,Ltd.",
    "Tencent Cloud": "Shenzhen Tencent Computer Systems Company Limited",
    "Contabo": "Contabo GmbH",
    "Scaleway / Online SAS": "Online S.A.S.",
    "Leaseweb": "LEASEWEB-NL-AMS-01 Netherlands",
    "Hostinger": "Hostinger International Limited",
    "IONOS / 1&1": "IONOS SE",
    "Cloudflare": "CLOUDFLARENET",
    "Fastly": "FASTLY",
    "Psychz": "PSYCHZ",
    "QuadraNet": "QUADRANET ENTERPRISES LLC",
    "Clouvider": "Clouvider Limited",
    "HostRoyale": "HostRoyale Technologies Pvt Ltd",
    "Packethub / NordVPN": "Packethub S.A.",
    "ExpressVPN": "ExpressVPN International Ltd",
    "Proton": "Proton AG",
    "Mullvad": "31173 Services AB",
    "Private Internet Access": "Private Internet Access, Inc.",
    "Tor exits": "Stiftung Erneuerbare Freiheit",
    "Generic hosting": "Example Hosting Solutions Ltd",
}


def test_every_provider_family_has_a_real_example() -> None:
    assert set(REAL_NAMES) == {name for name, _ in HOSTING_PROVIDERS}


@pytest.mark.parametrize(("family", "as_name"), REAL_NAMES.items())
def test_provider_recognised(family: str, as_name: str) -> None:
    assert hosting_provider(as_name) == family
    assert is_hosting_network(as_name)


@pytest.mark.parametrize(
    "as_name",
    ["Deutsche Telekom AG", "COMCAST-7922", "British Telecommunications PLC", "Andrews & Arnold Ltd",
     "Vodafone GmbH", "Orange S.A.", "T-Mobile USA, Inc.", "Reliance Jio Infocomm Limited", "", None],
)  # fmt: skip
def test_eyeball_networks_are_not_hosting(as_name: str | None) -> None:
    assert not is_hosting_network(as_name)
