"""A real local HTTP server standing in for Make.com: records posts, fails on demand, calls back."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class CrmReceiver:
    """Start with `with CrmReceiver() as crm:`; `crm.url` is the webhook URL."""

    fail_first: int = 0  # answer this many posts with `fail_status`
    fail_status: int = 500
    retry_after: str | None = None
    slow_first: int = 0  # wait `slow_seconds` before answering this many posts
    slow_seconds: float = 0.0
    garbage_first: int = 0  # answer this many posts with bytes that are not HTTP at all
    callback_url: str | None = None  # if set, call back with a CRM id after each accepted post
    callback_secret: str = ""
    received: list[Received] = field(default_factory=list)
    callbacks: list[int] = field(default_factory=list)  # statuses our callbacks got

    def __enter__(self) -> CrmReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                with receiver._lock:
                    receiver.received.append(Received({k.lower(): v for k, v in self.headers.items()}, body))
                    count = len(receiver.received)
                    failing = count <= receiver.fail_first
                if count <= receiver.slow_first:
                    time.sleep(receiver.slow_seconds)
                if count <= receiver.garbage_first:
                    self.wfile.write(b"\x00\xffnot http at all\r\n\r\n")
                    self.close_connection = True
                    return
                if failing:
                    self.send_response(receiver.fail_status)
                    if receiver.retry_after:
                        self.send_header("Retry-After", receiver.retry_after)
                    self.end_headers()
                    self.wfile.write(b"not now")
                    return
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b'{"accepted": true}')
                if receiver.callback_url:
                    lead_id = json.loads(body)["lead_id"]
                    threading.Thread(target=receiver._call_back, args=(lead_id,)).start()

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hook"

    def _call_back(self, lead_id: str) -> None:
        assert self.callback_url is not None
        response = httpx.post(
            self.callback_url,
            json={"lead_id": lead_id, "crm_lead_id": f"crm-{lead_id[:8]}", "scenario": "make.com"},
            headers={"Authorization": f"Bearer {self.callback_secret}"},
        )
        self.callbacks.append(response.status_code)
