"""Real HTTP traffic against a running server that notes every acknowledged row (for loss checks)."""

from __future__ import annotations

import threading
import time

import httpx


class Traffic:
    """Client threads that start sessions, send uniquely named events and (one in ten sessions) a
    lead, noting every 200. A lead is resent with its submission_id until it is acknowledged, as
    form.js does, so a crash between commit and answer must not make it twice."""

    def __init__(self, base_url: str, threads: int = 6, *, leads: bool = True) -> None:
        self.base_url = base_url
        self.leads = leads
        self.acked_events: list[tuple[str, str]] = []  # (session_id, event name)
        self.acked_sessions: list[str] = []
        self.acked_leads: list[str] = []  # submission ids
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(n,)) for n in range(threads)]

    def __enter__(self) -> Traffic:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=30)

    def _run(self, worker: int) -> None:
        counter = 0
        with httpx.Client(base_url=self.base_url, timeout=5.0) as http:
            while not self.stopping.is_set():
                try:
                    started = http.post("/track/session/start", json={"url": f"https://e.com/{worker}"})
                    if started.status_code != 200:
                        continue
                    sid = started.json()["session_id"]
                    with self.lock:
                        self.acked_sessions.append(sid)
                    if self.leads and counter % 100 == 0:
                        self._send_lead(http, f"w{worker}-lead-{counter}", sid)
                    for _ in range(5):
                        names = [f"w{worker}-{counter + i}" for i in range(10)]
                        counter += 10
                        events = [{"type": "custom", "name": name} for name in names]
                        if (
                            http.post(
                                "/track/events/batch", json={"session_id": sid, "events": events}
                            ).status_code
                            == 200
                        ):
                            with self.lock:
                                self.acked_events.extend((sid, name) for name in names)
                except httpx.TransportError:
                    time.sleep(0.05)  # the server is down: keep trying until told to stop

    def _send_lead(self, http: httpx.Client, submission_id: str, session_id: str) -> None:
        lead = {
            "submission_id": submission_id,
            "email": f"{submission_id}@example.com",
            "session_id": session_id,
        }
        while not self.stopping.is_set():
            try:
                if http.post("/lead.capture", json=lead).status_code == 200:
                    with self.lock:
                        self.acked_leads.append(submission_id)
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
