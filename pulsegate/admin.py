"""The control socket: a Unix socket beside the database through which the CLI runs operations
inside the server that holds the file (DuckDB lets no other process open it meanwhile).

Protocol: one JSON line each way. Request `{"op": "keys.create", "args": {...}}`; answer
`{"ok": true, "result": ...}` or `{"ok": false, "error": "...", "status": 404, "exit_code": 1}`.
The socket is created mode 0600, so only the server's own user (and root) can connect.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import stat
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

import msgspec

from pulsegate.errors import ConfigError, InvalidInput, PulseGateError

logger = logging.getLogger(__name__)

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


Execute = Callable[[str, bytes], Awaitable[bytes]]


class ControlServer:
    """Serves the control socket; `execute(op, raw_args)` returns the JSON-encoded result."""

    def __init__(self, path: Path, execute: Execute) -> None:
        self.path = path
        self._execute = execute
        self._server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        """Bind the socket (replacing a stale one left by a killed server), mode 0600."""
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        old_umask = os.umask(0o177)  # created 0600 from the start: no window with looser modes
        try:
            self._server = await asyncio.start_unix_server(
                self._serve, path=str(self.path), limit=MAX_REQUEST_BYTES
            )
        finally:
            os.umask(old_umask)
        os.chmod(self.path, 0o600)

    async def stop(self) -> None:
        """Stop listening and remove the socket file."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await reader.readline()
            response = await self._answer(line)
            writer.write(msgspec.json.encode(response) + b"\n")
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ValueError) as exc:
            logger.warning("Control socket client went away: %s", exc)
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _answer(self, line: bytes) -> ControlResponse:
        try:
            try:
                request = msgspec.json.decode(line, type=ControlRequest)
            except msgspec.DecodeError as exc:
                raise InvalidInput(f"Malformed control request: {exc}") from None
            result = await self._execute(request.op, bytes(request.args))
            return ControlResponse(ok=True, result=msgspec.Raw(result))
        except PulseGateError as exc:
            return ControlResponse(
                ok=False, error=exc.message, status=exc.status_code, exit_code=exc.exit_code
            )
        except Exception as exc:  # a bug: log it here, answer the CLI without a traceback
            logger.exception("Control operation failed")
            return ControlResponse(
                ok=False, error=f"Internal error in the server: {exc}", status=500, exit_code=1
            )


def error_from(response: ControlResponse) -> PulseGateError:
    """Rebuild the server's error on the CLI side, keeping its status and exit code."""
    error = PulseGateError(response.error or "The server refused the operation")
    error.status_code = response.status or 500
    error.exit_code = response.exit_code or 1
    return error
