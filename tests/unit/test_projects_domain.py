"""Which pages may send a registered project's data."""

from __future__ import annotations

import pytest

from pulsegate.domain.projects import Registry, host_matches, host_of, normalise_domain
from pulsegate.errors import Forbidden, InvalidInput

REGISTRY = Registry({"acme": ("acme.com", "*.acme.com"), "globex": ("globex.io",)})


@pytest.mark.parametrize(
    ("host", "domains", "expected"),
    [("acme.com", ["acme.com"], True), ("www.acme.com", ["acme.com"], False), ("www.acme.com", ["*.acme.com"], True),
     ("a.b.acme.com", ["*.acme.com"], True), ("acme.com", ["*.acme.com"], False), ("evilacme.com", ["*.acme.com"], False),
     ("acme.com.evil.io", ["acme.com"], False)],
)  # fmt: skip
def test_hosts_match_exactly_or_below_a_wildcard(host: str, domains: list[str], expected: bool) -> None:
    assert host_matches(host, domains) is expected


def test_hosts_are_read_from_urls_and_origins() -> None:
    assert host_of("https://WWW.Acme.com:8443/pricing?x=1") == "www.acme.com"
    assert host_of("https://acme.com.") == "acme.com"
    assert host_of("null") is None and host_of(None) is None and host_of("not a url") is None


@pytest.mark.parametrize(
    "text", ["https://acme.com", "acme.com/x", "acme.com:80", "ac me.com", "-acme.com", "*", ""]
)
def test_a_domain_must_be_a_host_name(text: str) -> None:
    with pytest.raises(InvalidInput, match="--domain"):
        normalise_domain(text)


def test_domains_are_stored_lower_case() -> None:
    assert (
        normalise_domain(" WWW.Acme.COM. ") == "www.acme.com"
        and normalise_domain("*.acme.com") == "*.acme.com"
    )


def test_an_open_server_takes_anything() -> None:
    assert Registry({}).admit("whatever", "https://anywhere.net/", "https://elsewhere.org") == "whatever"
    assert Registry({}).admit(None, None, None) is None


@pytest.mark.parametrize(
    ("project", "page", "origin", "expected"),
    [("acme", "https://acme.com/", None, "acme"), ("acme", "https://shop.acme.com/x", "https://shop.acme.com", "acme"),
     (None, "https://globex.io/", None, "globex"),  # named by its domain
     (None, None, "https://www.acme.com", "acme")],
)  # fmt: skip
def test_a_project_s_own_pages_are_admitted(
    project: str | None, page: str | None, origin: str | None, expected: str
) -> None:
    assert REGISTRY.admit(project, page, origin) == expected


@pytest.mark.parametrize(
    ("project", "page", "origin", "reason"),
    [("acme", "https://globex.io/", None, "does not take data from page globex.io"),
     ("acme", "https://acme.com/", "https://evil.net", "does not take data from origin evil.net"),
     ("initech", "https://initech.com/", None, "'initech' is not registered"),
     (None, "https://evil.net/", None, "No registered project takes data from evil.net"),
     ("acme", None, None, "send the page's URL")],
)  # fmt: skip
def test_other_pages_are_refused_with_the_reason(
    project: str | None, page: str | None, origin: str | None, reason: str
) -> None:
    with pytest.raises(Forbidden, match=reason):
        REGISTRY.admit(project, page, origin)
