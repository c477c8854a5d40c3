"""The registry of open sessions."""

from __future__ import annotations

from pulsegate.domain.sessions import OpenSession, OpenSessions


def test_add_get_touch_close() -> None:
    sessions = OpenSessions()
    sessions.add(OpenSession("s1", "v1", None, 1000, 1000))
    assert len(sessions) == 1
    sessions.touch("s1", 5000)
    sessions.touch("s1", 3000)  # older activity never moves last_seen back
    opened = sessions.get("s1")
    assert opened is not None and opened.last_seen_ms == 5000
    closed = sessions.close("s1")
    assert closed is opened
    assert sessions.get("s1") is None
    assert sessions.close("s1") is None
    sessions.touch("s1", 9000)  # touching an unknown session is a no-op
    assert len(sessions) == 0
