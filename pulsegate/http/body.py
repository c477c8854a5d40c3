"""Decoding JSON request bodies into msgspec Structs, with errors a developer can act on."""

from __future__ import annotations

from typing import TypeVar

import msgspec
from litestar import Request

from pulsegate.errors import InvalidInput, PayloadTooLarge

T = TypeVar("T")


def is_json_content_type(content_type: str) -> bool:
    """True for application/json (with any parameters) and application/*+json."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


async def read_capped_body(request: Request, max_bytes: int) -> bytes:
    """The request body, refusing more than `max_bytes` without reading the rest of it."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(max_bytes)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:  # a chunked or lying body: stop reading as soon as it overflows
            raise _too_large(max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


async def decode_json_body(request: Request, type_: type[T], *, max_bytes: int) -> T:
    """Check the content type, read at most `max_bytes`, and decode into `type_`."""
    content_type = request.headers.get("content-type", "")
    if not is_json_content_type(content_type):
        raise InvalidInput(f"Content-Type must be application/json (got {content_type or 'none'})")
    body = await read_capped_body(request, max_bytes)
    if not body.strip():
        raise InvalidInput("Request body is empty; send a JSON object")
    try:
        return msgspec.json.decode(body, type=type_)
    except msgspec.ValidationError as exc:
        raise InvalidInput(f"Invalid request body: {exc}") from None
    except msgspec.DecodeError as exc:
        raise InvalidInput(f"Malformed JSON: {exc}") from None


def _too_large(max_bytes: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"Request body is larger than this route's limit of {max_bytes} bytes")
