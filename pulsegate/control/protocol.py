"""The control socket's protocol: where the socket lives and what goes over it.

The socket is a Unix socket beside the database, through which the CLI runs operations inside
the server that holds the file (DuckDB lets no other process open it meanwhile).
One JSON line each way. Request `{"op": "keys.create", "args": {...}}`; answer
`{"ok": true, "result": ...}` or `{"ok": false, "error": "...", "status": 404, "exit_code": 1}`.
The socket is created mode 0600, so only the server's own user (and root) can connect.
The server half is `control/server.py`, the client half `control/client.py`.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from pathlib import Path

import msgspec

from pulsegate.errors import ConfigError, PulseGateError

MAX_REQUEST_BYTES = 1 << 20
# sun_path holds 108 bytes on Linux; longer database paths get a socket in the temp folder.
MAX_SOCKET_PATH = 100


class ControlRequest(msgspec.Struct, forbid_unknown_fields=True):
    """What the CLI asks."""

    op: str
    args: msgspec.Raw = msgspec.Raw(b"{}")


class ControlResponse(msgspec.Struct, kw_only=True, omit_defaults=True):
    """What the server answers."""

    ok: bool
    result: msgspec.Raw = msgspec.Raw(b"null")  # msgspec cannot decode Raw inside an Optional
    error: str | None = None
    status: int | None = None
    exit_code: int | None = None


def control_socket_path(database: Path) -> Path:
    """Where the control socket of the server holding `database` lives."""
    beside = database.with_name(database.name + ".sock")
    if len(os.fsencode(beside)) <= MAX_SOCKET_PATH:
        return beside
    digest = hashlib.sha256(os.fsencode(database)).hexdigest()[:16]
    return _private_socket_folder() / f"{digest}.sock"


def _private_socket_folder() -> Path:
    """A folder only this user can use, for sockets whose natural path is too long.

    Not the shared temp folder itself: another user could create the predictable name there
    first, then block the server or answer the CLI in its place.
    """
    folder = Path(tempfile.gettempdir()) / f"pulsegate-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    details = folder.lstat()
    if (
        not stat.S_ISDIR(details.st_mode)
        or details.st_uid != os.getuid()
        or stat.S_IMODE(details.st_mode) != 0o700
    ):
        raise ConfigError(f"{folder} must be a folder owned by this user with mode 0700; remove it and retry")
    return folder


def error_from(response: ControlResponse) -> PulseGateError:
    """Rebuild the server's error on the CLI side, keeping its status and exit code."""
    error = PulseGateError(response.error or "The server refused the operation")
    error.status_code = response.status or 500
    error.exit_code = response.exit_code or 1
    return error
