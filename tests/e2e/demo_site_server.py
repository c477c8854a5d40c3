"""The demo site served on its own port (another origin than PulseGate's), as a customer's site would be."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from pulsegate.web.demo_site import demo_page


class DemoSite:
    """Serves demo/ with its pages pointing at the PulseGate server at `pulsegate_origin`, plus any
    page a test adds (HTML with {{PULSEGATE}} where the server's origin goes)."""

    def __init__(self, pulsegate_origin: str, extra_pages: dict[str, str] | None = None) -> None:
        origin = pulsegate_origin
        extra = {
            name: html.replace("{{PULSEGATE}}", origin).encode() for name, html in (extra_pages or {}).items()
        }

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                name = urlsplit(self.path).path.removeprefix("/") or "index.html"
                found = (
                    (extra[name], "text/html")
                    if name in extra
                    else demo_page(name, pulsegate_origin=origin, server_url=origin)
                )
                if found is None:
                    self.send_error(404)
                    return
                body, media_type = found
                self.send_response(200)
                self.send_header("Content-Type", media_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> DemoSite:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
