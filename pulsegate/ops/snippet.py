"""The HTML a site adds to load PulseGate: `pulsegate snippet`, shaped by the server's settings."""

from __future__ import annotations

import html
import ipaddress
import json
from urllib.parse import urlsplit

from msgspec import Struct

from pulsegate.config import Settings
from pulsegate.domain.tracking import check_project
from pulsegate.errors import InvalidInput
from pulsegate.ops.context import ServerInfo

# Lets a page call PulseGate before a deferred script has run: calls wait in PulseGate.q.
_STUB = (
    "window.PulseGate = window.PulseGate || {};\n"
    "  PulseGate.q = PulseGate.q || [];\n"
    '  ["init", "track", "form"].forEach(function (m) {\n'
    "    PulseGate[m] = PulseGate[m] || function () { PulseGate.q.push([m, arguments]); };\n"
    "  });"
)


class SnippetOptions(Struct, kw_only=True):
    """What `pulsegate snippet` was asked for."""

    url: str | None = None  # where browsers reach this server; default: server.host and port
    project: str | None = None
    init: bool = False  # PulseGate.init(...) in a script instead of data- attributes
    respect_dnt: bool = False
    form: bool = False  # add an example lead form


def public_origin(settings: Settings, url: str | None, server: ServerInfo | None = None) -> str:
    """The server's address as browsers see it, without a trailing slash: `url` when given, else
    where the running `server` listens, else where the settings say it would."""
    if url is None:
        host, port = (server.host, server.port) if server else (settings.server.host, settings.server.port)
        host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{port}"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise InvalidInput(
            f"--url must be the server's http(s) address, like https://analytics.example.com (got {url!r})"
        )
    return url.rstrip("/")


def reachability_warning(origin: str) -> str | None:
    """Why visitors' browsers could not reach `origin`, if they could not (a loopback address)."""
    host = (urlsplit(origin).hostname or "").lower()
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        return None
    return (
        f"{origin} is this machine's own address: visitors' browsers cannot reach it there. "
        "Pass --url with the address the site's visitors can reach, such as https://analytics.example.com"
    )


def site_snippet(settings: Settings, options: SnippetOptions, server: ServerInfo | None = None) -> str:
    """The script tag to paste into every page's <head> (and an example form for a page's body)."""
    if options.project is not None:
        check_project(options.project, "--project")
    origin = public_origin(settings, options.url, server)
    script_path = settings.web.script_alias or "/pulse.js"
    src = html.escape(origin + script_path, quote=True)
    what = "page views, clicks, scroll depth, engaged time and forms"
    lines = [f"<!-- PulseGate, in every page's <head>: {what}, sent to {html.escape(origin)} -->"]
    # pulse.js starts by itself when its tag names a project; otherwise PulseGate.init starts it.
    if options.init or not options.project:
        init_options: dict[str, object] = {"project": options.project} if options.project else {}
        if options.respect_dnt:
            init_options["respectDoNotTrack"] = True
        lines.append(f'<script src="{src}" defer></script>')
        lines.append(f"<script>\n  {_STUB}\n  PulseGate.init({json.dumps(init_options)});\n</script>")
    else:
        dnt = ' data-respect-dnt="true"' if options.respect_dnt else ""
        lines.append(f'<script src="{src}" data-project="{options.project}"{dnt} defer></script>')
    if options.form:
        project = (
            f' data-pulsegate-project="{options.project}"'
            if options.project
            else ' data-pulsegate-project=""'
        )
        lines += [
            "",
            "<!-- A lead form, in the page's <body> where it should appear: sent to PulseGate and linked",
            "     to the visit, no more JavaScript needed. -->",
            f'<form{project} data-pulsegate-source="contact">',
            '  <label>Name <input name="name" autocomplete="name"></label>',
            '  <label>Email <input type="email" name="email" autocomplete="email" required></label>',
            '  <label>Message <textarea name="message"></textarea></label>',
            '  <button type="submit">Send</button>',
            "</form>",
        ]
    return "\n".join(lines) + "\n"
