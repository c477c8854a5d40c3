"""The demo site in demo/: a few pages that show PulseGate's scripts at work on a real site.

The pages name the PulseGate server as {{PULSEGATE}}: `pulsegate serve --demo` serves them at
/demo/ from the same origin (empty), and the browser tests serve them from another port with
the server's full origin, so CORS is exercised as on a real site. {{SERVER}} is always the
server's full address, for commands a person copies from the page.
"""

from __future__ import annotations

import html

from pulsegate.resources import shipped_file
from pulsegate.web.files import media_type_of

DEMO_PREFIX = "/demo"
PLACEHOLDER = b"{{PULSEGATE}}"
SERVER_PLACEHOLDER = b"{{SERVER}}"


def demo_pages() -> list[str]:
    """The demo site's file names."""
    return sorted(path.name for path in shipped_file("demo").iterdir() if path.is_file())


def demo_page(name: str, *, pulsegate_origin: str, server_url: str) -> tuple[bytes, str] | None:
    """A demo file (body, media type) with the server's origin filled in; None if there is none.

    Only the folder's own file names are served, so no path can reach outside it.
    """
    media_type = media_type_of(name)
    if name not in demo_pages() or media_type is None:
        return None
    body = (shipped_file("demo") / name).read_bytes()
    if name.endswith(".html"):
        body = body.replace(PLACEHOLDER, pulsegate_origin.rstrip("/").encode())
        body = body.replace(SERVER_PLACEHOLDER, html.escape(server_url.rstrip("/")).encode())
    return body, media_type
