"""Every error becomes `{"error": "<for a human>"}` with its status; no traceback ever leaks."""

from __future__ import annotations

import logging
import re

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, MethodNotAllowedException, NotFoundException

from pulsegate.errors import PulseGateError

logger = logging.getLogger(__name__)
UNEXPECTED_ERROR = "Internal server error"


def error_response(
    status_code: int, message: str, headers: dict[str, str] | None = None
) -> Response[dict[str, str]]:
    """The one shape of every error body."""
    return Response({"error": message}, status_code=status_code, headers=headers, media_type=MediaType.JSON)


def log_pulsegate_error(method: str, path: str, exc: PulseGateError) -> None:
    """A server-side failure is a warning; a client's mistake is worth seeing when debugging a
    site's integration, not by default."""
    level = logging.WARNING if exc.status_code >= 500 else logging.DEBUG
    logger.log(level, "%s %s -> %s: %s", method, path, exc.status_code, exc.message)


def log_unexpected_error(method: str, path: str) -> None:
    """A bug: the traceback goes to the log, never to the client."""
    # A share link's token is its key: the log names the route, not the link.
    logger.exception("Unhandled error on %s %s", method, re.sub(r"^/share/[^/]+", "/share/<token>", path))


def pulsegate_error(request: Request, exc: PulseGateError) -> Response[dict[str, str]]:
    """Our own errors carry their status and headers."""
    log_pulsegate_error(request.method, request.url.path, exc)
    return error_response(exc.status_code, exc.message, exc.headers)


def framework_error(request: Request, exc: HTTPException) -> Response[dict[str, str]]:
    """Litestar's own errors (unknown path, wrong method, body too large, bad request)."""
    if exc.status_code >= 500:
        return unexpected_error(request, exc)
    if isinstance(exc, NotFoundException):
        message = f"Not found: {request.url.path}"
    elif isinstance(exc, MethodNotAllowedException):
        allowed = (exc.headers or {}).get("allow", "")
        message = f"Method {request.method} is not allowed on {request.url.path}"
        if allowed:
            message += f"; use {allowed}"
    elif exc.status_code == 413:
        message = "Request body is too large for this route"
    else:
        message = exc.detail
    return error_response(exc.status_code, message, exc.headers)


def unexpected_error(request: Request, exc: Exception) -> Response[dict[str, str]]:
    """A bug: log the traceback here, answer 500 without it."""
    log_unexpected_error(request.method, request.url.path)
    return error_response(500, UNEXPECTED_ERROR)


EXCEPTION_HANDLERS = {
    PulseGateError: pulsegate_error,
    HTTPException: framework_error,
    Exception: unexpected_error,
}
