"""The control socket's server half: answers the CLI's operations inside the running server."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

import msgspec

from pulsegate.control.protocol import MAX_REQUEST_BYTES, ControlRequest, ControlResponse
from pulsegate.errors import InvalidInput, PulseGateError

logger = logging.getLogger(__name__)


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
