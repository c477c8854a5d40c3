"""Run an operation where the database is: inside the server over its control socket if one
holds the file, else by opening the file here. Both paths call the same function."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import msgspec

from pulsegate.admin import ControlRequest, ControlResponse, control_socket_path, error_from
from pulsegate.config import Settings
from pulsegate.errors import InvalidInput, StorageUnavailable
from pulsegate.ops.context import OpContext
from pulsegate.ops.registry import OPERATIONS
from pulsegate.store.database import Database, DatabaseLocked

DEFAULT_TIMEOUT_SECONDS = 60.0


def run_operation(
    settings: Settings, name: str, args: msgspec.Struct, *, timeout: float = DEFAULT_TIMEOUT_SECONDS
) -> Any:
    """Run operation `name` with `args` on the settings' database; returns its result Struct."""
    with OperationSession(settings, timeout=timeout) as session:
        return session.run(name, args)


class OperationSession:
    """Several operations against one database: each over the control socket while a server
    answers there, else all on one offline opening of the file (an export of a million leads
    is hundreds of pages; opening the file for each would dominate)."""

    def __init__(self, settings: Settings, *, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> None:
        self._settings = settings
        self._timeout = timeout
        self._path = control_socket_path(settings.database_path)
        self._database: Database | None = None

    def __enter__(self) -> OperationSession:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._database is not None:
            self._database.close()
            self._database = None

    def run(self, name: str, args: msgspec.Struct) -> Any:
        """Run one operation; returns its result Struct."""
        operation = OPERATIONS[name]
        raw_args = msgspec.json.encode(args)
        # Validate here too, so the offline path refuses what the server would (Struct
        # constructors do not check constraints; decoding does).
        try:
            args = msgspec.json.decode(raw_args, type=operation.arguments)
        except msgspec.ValidationError as exc:
            raise InvalidInput(f"Invalid arguments for {name}: {exc}") from None
        if self._database is None:
            answer = _ask_server(self._path, name, raw_args, self._timeout)
            if answer is not None:
                if not answer.ok:
                    raise error_from(answer)
                return msgspec.json.decode(bytes(answer.result), type=operation.result)
            self._database = _open_offline(self._settings, self._path)
        database = self._database
        return operation.run(OpContext(database.connection, replace_file=database.swap_file), args)


def _open_offline(settings: Settings, path: Path) -> Database:
    storage = settings.storage
    try:
        return Database.open(
            settings.database_path, threads=storage.duckdb_threads, memory_limit=storage.duckdb_memory_limit
        )
    except DatabaseLocked as exc:
        who = f"process {exc.holder_pid}" if exc.holder_pid else "another process"
        raise StorageUnavailable(
            f"The database {settings.database_path} is held by {who}, which does not answer on the "
            f"control socket {path}. If it is a PulseGate server it may still be starting: retry in a "
            "moment. Otherwise stop that process first."
        ) from exc


def _connect(path: Path, timeout: float) -> socket.socket | None:
    if not path.exists():
        return None
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.settimeout(timeout)
    try:
        client.connect(str(path))
    except (ConnectionRefusedError, FileNotFoundError):
        client.close()
        return None  # a stale socket of a server that is gone
    except PermissionError as exc:
        client.close()
        raise StorageUnavailable(
            f"A server holds {path.parent}, but this user may not use its control socket {path} "
            "(it is private to the server's user): run the command as that user"
        ) from exc
    return client


def _ask_server(path: Path, name: str, raw_args: bytes, timeout: float) -> ControlResponse | None:
    client = _connect(path, timeout)
    if client is None:
        return None
    with client:
        request = ControlRequest(op=name, args=msgspec.Raw(raw_args))
        client.sendall(msgspec.json.encode(request) + b"\n")
        received = bytearray()
        try:
            while not received.endswith(b"\n"):
                chunk = client.recv(65536)
                if not chunk:
                    break
                received += chunk
        except TimeoutError as exc:
            raise StorageUnavailable(f"The server did not answer {name!r} within {timeout:.0f} s") from exc
    if not received:
        raise StorageUnavailable("The server closed the control socket without answering")
    try:
        return msgspec.json.decode(bytes(received), type=ControlResponse)
    except msgspec.DecodeError as exc:
        raise InvalidInput(f"The server's answer could not be read: {exc}") from exc
