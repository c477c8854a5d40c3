"""The control socket's client half: asks the server holding a database to run one operation."""

from __future__ import annotations

import socket
from pathlib import Path

import msgspec

from pulsegate.control.protocol import ControlRequest, ControlResponse
from pulsegate.errors import InvalidInput, StorageUnavailable


def ask_server(path: Path, name: str, raw_args: bytes, timeout: float) -> ControlResponse | None:
    """The server's answer to operation `name`, or None when no server listens at `path`."""
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
