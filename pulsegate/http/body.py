"""Reading and decoding JSON request bodies from raw ASGI, with errors a developer can act on."""

from __future__ import annotations

from io import BytesIO
from typing import TypeVar
from urllib.parse import parse_qsl

import msgspec
import multipart
from litestar.types import Receive, Scope

from pulsegate.deadlines import BodyDeadlines
from pulsegate.errors import InvalidInput, PayloadTooLarge

T = TypeVar("T")


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of a request header (`name` in lower case), or None."""
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


def is_json_content_type(content_type: str) -> bool:
    """True for application/json (with any parameters) and application/*+json."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


async def read_capped_body(scope: Scope, receive: Receive, max_bytes: int, deadlines: BodyDeadlines) -> bytes:
    """The request body, refusing more than `max_bytes` without reading the rest of it, and a
    body that has not fully arrived by its deadline (a stalled client holds nothing long)."""
    declared = header(scope, b"content-length")
    if declared is not None and declared.isascii() and declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(max_bytes)
    return await deadlines.within(_read_body(receive, max_bytes))


async def _read_body(receive: Receive, max_bytes: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise InvalidInput("The client disconnected before sending the whole body")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > max_bytes:  # a chunked or lying body: stop reading as soon as it overflows
            raise _too_large(max_bytes)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def decode_json_body(
    scope: Scope,
    receive: Receive,
    decoder: msgspec.json.Decoder[T],
    *,
    max_bytes: int,
    deadlines: BodyDeadlines,
    fallback: msgspec.json.Decoder[T] | None = None,
) -> T:
    """Check the content type, read at most `max_bytes` before the deadline, and decode; a body
    `decoder` refuses is decoded by `fallback` when there is one (a stricter type tried first)."""
    content_type = header(scope, b"content-type") or ""
    if not is_json_content_type(content_type):
        raise InvalidInput(f"Content-Type must be application/json (got {content_type or 'none'})")
    body = await read_capped_body(scope, receive, max_bytes, deadlines)
    if not body.strip():
        raise InvalidInput("Request body is empty; send a JSON object")
    try:
        try:
            return decoder.decode(body)
        except msgspec.ValidationError:
            if fallback is None:
                raise
            return fallback.decode(body)
    except msgspec.ValidationError as exc:
        raise InvalidInput(f"Invalid request body: {exc}") from None
    except msgspec.DecodeError as exc:
        raise InvalidInput(f"Malformed JSON: {exc}") from None


MAX_FORM_PARTS = 100  # a lead has at most 50 fields of its own and the lead's columns


async def read_form_body(
    scope: Scope, receive: Receive, *, max_bytes: int, deadlines: BodyDeadlines
) -> list[tuple[str, str]]:
    """An HTML form's (name, value) pairs, urlencoded or multipart, read as JSON bodies are (under
    the cap and the deadline). Files in a multipart form are skipped: a lead holds text."""
    content_type = header(scope, b"content-type") or ""
    body = await read_capped_body(scope, receive, max_bytes, deadlines)
    media_type, options = multipart.parse_options_header(content_type)
    try:
        if media_type == "application/x-www-form-urlencoded":
            return parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FORM_PARTS)
        boundary = options.get("boundary")
        if not boundary:
            raise InvalidInput("Content-Type multipart/form-data needs its boundary parameter")
        parser = multipart.MultipartParser(
            BytesIO(body), boundary, content_length=len(body), part_limit=MAX_FORM_PARTS, strict=True
        )
        return [(part.name, part.value) for part in parser if part.filename is None]
    except UnicodeDecodeError:
        raise InvalidInput('The form is not valid UTF-8 (send it with accept-charset="utf-8")') from None
    except multipart.MultipartError as exc:
        raise InvalidInput(f"Malformed multipart form: {exc}") from None
    except ValueError as exc:  # too many fields, or a malformed urlencoded body
        raise InvalidInput(f"Malformed form body: {exc}") from None


def _too_large(max_bytes: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"Request body is larger than this route's limit of {max_bytes} bytes")
