"""Which networks are hosting, cloud or VPN providers, judged by their AS organisation name.

Traffic from these networks is rarely a person at a browser: it is VPN exits, scrapers and
monitors. Sessions from them are kept and flagged (`is_hosting`) so analytics can show the
share and the anomaly detector can watch it.
"""

from __future__ import annotations

import re

# Patterns over the AS organisation name, case-insensitive. Each names one provider family;
# the tests check a real AS name for each of them.
HOSTING_PROVIDERS: tuple[tuple[str, str], ...] = (
    ("Amazon Web Services", r"\bamazon(-0?\d+|\.com|\s+technologies|\s+data\s+services)?\b|\baws\b"),
    ("Google Cloud", r"\bgoogle[-\s]cloud\b|^google$"),
    ("Microsoft Azure", r"\bmicrosoft[-\s]corp[-\s]msn[-\s]as[-\s]block\b|\bazure\b"),
    ("DigitalOcean", r"\bdigitalocean\b|\bdigital\s+ocean\b"),
    ("Hetzner", r"\bhetzner\b"),
    ("OVH", r"\bovh\b"),
    ("M247", r"\bm247\b"),
    ("Datacamp / CDN77", r"\bdatacamp\b|\bcdn77\b"),
    ("Linode / Akamai Connected Cloud", r"\blinode\b|\bakamai\s+connected\s+cloud\b"),
    ("Vultr / The Constant Company", r"\bvultr\b|\bconstant\s+company\b|\bchoopa\b"),
    ("Oracle Cloud", r"\boracle\b"),
    ("Alibaba Cloud", r"\balibaba\b|\baliyun\b"),
    ("Tencent Cloud", r"\btencent\b"),
    ("Contabo", r"\bcontabo\b"),
    ("Scaleway / Online SAS", r"\bscaleway\b|\bonline\s+s\.?a\.?s\b"),
    ("Leaseweb", r"\bleaseweb\b"),
    ("Hostinger", r"\bhostinger\b"),
    ("IONOS / 1&1", r"\bionos\b|\b1&1\b"),
    ("Cloudflare", r"\bcloudflare"),
    ("Fastly", r"\bfastly\b"),
    ("Psychz", r"\bpsychz\b"),
    ("QuadraNet", r"\bquadranet\b"),
    ("Clouvider", r"\bclouvider\b"),
    ("HostRoyale", r"\bhostroyale\b"),
    ("Packethub / NordVPN", r"\bpackethub\b|\bnordvpn\b|\btefincom\b"),
    ("ExpressVPN", r"\bexpressvpn\b|\bexpress\s+vpn\b"),
    ("Proton", r"\bproton\s*(ag|vpn)\b"),
    ("Mullvad", r"\bmullvad\b|\b31173\s+services\b"),
    ("Private Internet Access", r"\bprivate\s+internet\s+access\b"),
    ("Tor exits", r"\btor\s*(exit|project)\b|\bstiftung\s+erneuerbare\s+freiheit\b"),
    ("Generic hosting", r"\b(hosting|datacenter|data\s+center|colocation|vps|dedicated\s+servers?)\b"),
)
_COMPILED = tuple((name, re.compile(pattern, re.IGNORECASE)) for name, pattern in HOSTING_PROVIDERS)


def hosting_provider(as_organisation: str | None) -> str | None:
    """The provider family an AS organisation belongs to, or None for an eyeball network."""
    if not as_organisation:
        return None
    for name, pattern in _COMPILED:
        if pattern.search(as_organisation):
            return name
    return None


def is_hosting_network(as_organisation: str | None) -> bool:
    """True when the AS organisation is a hosting, cloud or VPN provider."""
    return hosting_provider(as_organisation) is not None
