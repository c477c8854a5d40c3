"""Registered sites: which pages may send a project's data (pure).

A project is registered with the domains its pages live on: `example.com` is that host only,
`*.example.com` any host below it (not the apex itself, which is listed on its own). A request
is a project's when its page URL's host is one of them, and so is the `Origin` a browser sends.
With no project registered, the server is open: anything is accepted, as before projects existed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from pulsegate.errors import Forbidden, InvalidInput

_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_DOMAIN = re.compile(rf"^(\*\.)?{_LABEL}(\.{_LABEL})*$")


def normalise_domain(text: str) -> str:
    """A domain as stored (lower case, no trailing dot), or InvalidInput naming --domain."""
    domain = text.strip().lower().rstrip(".")
    if domain.startswith(("http://", "https://")) or "/" in domain or ":" in domain:
        raise InvalidInput(
            f"--domain: a host name such as example.com or *.example.com, not a URL (got {text!r})"
        )
    if len(domain) > 253 or not _DOMAIN.match(domain):
        raise InvalidInput(f"--domain: a host name such as example.com or *.example.com (got {text!r})")
    return domain


def host_of(url: str | None) -> str | None:
    """The lower-case host of a URL or an Origin, without port or trailing dot; None if it has none."""
    if not url or url == "null":
        return None
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return host.rstrip(".") if host else None


def host_matches(host: str, domains: Iterable[str]) -> bool:
    """True when `host` is one of `domains`, or below a `*.` one."""
    for domain in domains:
        if domain.startswith("*."):
            if host.endswith(domain[1:]):
                return True
        elif host == domain:
            return True
    return False


@dataclass(frozen=True, slots=True)
class Registry:
    """The registered projects and their domains; empty means open to every site."""

    domains: Mapping[str, Sequence[str]]

    @property
    def is_open(self) -> bool:
        return not self.domains

    def admit(self, project: str | None, page_url: str | None, origin: str | None) -> str | None:
        """The project this request's data belongs to, or Forbidden saying why it is refused.

        Open: the project as given. Registered: the page's host must be one of the project's
        domains (a request that names no project gets the one whose domains hold its host), and
        so must the browser's Origin when it sends one.
        """
        if self.is_open:
            return project
        page_host, origin_host = host_of(page_url), host_of(origin)
        if project is None:
            project = self._project_of(page_host or origin_host)
            if project is None:
                raise Forbidden(
                    f"No registered project takes data from {page_host or origin_host or 'this page'}: "
                    "name one, or register the site with `pulsegate projects add NAME --domain HOST`"
                )
        domains = self.domains.get(project)
        if domains is None:
            raise Forbidden(f"Project {project!r} is not registered on this server")
        for what, host in (("page", page_host), ("origin", origin_host)):
            if host is not None and not host_matches(host, domains):
                raise Forbidden(f"Project {project!r} does not take data from {what} {host}")
        if page_host is None and origin_host is None:
            raise Forbidden(f"Project {project!r} takes data only from its own pages: send the page's URL")
        return project

    def _project_of(self, host: str | None) -> str | None:
        if host is None:
            return None
        owners = [name for name, domains in self.domains.items() if host_matches(host, domains)]
        return owners[0] if len(owners) == 1 else None
