"""Asking the running server about itself, without ever opening the database (no DuckDB import)."""

from __future__ import annotations

import msgspec

from pulsegate.config import Settings
from pulsegate.control.client import ask_server
from pulsegate.control.protocol import control_socket_path
from pulsegate.ops.context import ServerInfo
from pulsegate.ops.status import STATUS, Status


def live_server(settings: Settings, *, timeout: float = 5.0) -> ServerInfo | None:
    """What the server holding the settings' database says of itself, or None when no server
    answers (this never opens the file)."""
    answer = ask_server(control_socket_path(settings.database_path), STATUS.name, b"{}", timeout)
    if answer is None or not answer.ok:
        return None
    status: Status = msgspec.json.decode(bytes(answer.result), type=STATUS.result)
    return status.server
