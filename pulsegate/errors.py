"""PulseGate's exceptions, each carrying its HTTP status and CLI exit code.

The tree:

    PulseGateError                 500, exit 1
    ├── InvalidInput               400, exit 2
    ├── Unauthorized               401, exit 2
    ├── Forbidden                  403, exit 2
    ├── NotFound                   404, exit 1
    │   └── UnknownId              404, exit 2   (an id typed on the command line names nothing)
    ├── RequestTimeout             408, exit 1   (a request body that did not arrive in time)
    ├── Gone                       410, exit 1
    ├── PayloadTooLarge            413, exit 2
    ├── RateLimited                429, exit 1
    ├── StorageBusy                503, exit 1   (write queue full: try again shortly)
    ├── StorageUnavailable         503, exit 1   (the database cannot be opened or written)
    ├── NotConfigured              503, exit 2   (a feature needs a setting that is empty)
    ├── NotOnThisEngine            501, exit 2   (a feature or command the configured store lacks)
    └── ConfigError                500, exit 2   (bad settings; stops start-up)

Services raise these; `pulsegate.http.errors` maps them to responses and `cli` to exit codes,
so neither layer needs to know the other.
"""

from __future__ import annotations


class PulseGateError(Exception):
    """Base of every error PulseGate raises on purpose; the message is meant for a human."""

    status_code: int = 500
    exit_code: int = 1

    def __init__(self, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers: dict[str, str] = dict(headers or {})


class InvalidInput(PulseGateError):
    """The request or command input is malformed or breaks a rule."""

    status_code = 400
    exit_code = 2


class Unauthorized(PulseGateError):
    """No valid API key or secret was presented."""

    status_code = 401
    exit_code = 2


class Forbidden(PulseGateError):
    """The caller is known but may not do this (a project-scoped key asking for global data)."""

    status_code = 403
    exit_code = 2


class NotFound(PulseGateError):
    """The thing asked for does not exist (or is not visible to the caller)."""

    status_code = 404


class UnknownId(NotFound):
    """A key or lead id given by a person matches nothing: bad input for the CLI."""

    exit_code = 2


class RequestTimeout(PulseGateError):
    """The client stopped sending its request body (a slow or stalled client)."""

    status_code = 408


class Gone(PulseGateError):
    """A retired route."""

    status_code = 410


class PayloadTooLarge(PulseGateError):
    """The request body exceeds the route's size cap."""

    status_code = 413
    exit_code = 2


class RateLimited(PulseGateError):
    """The caller exceeded a rate limit; `headers` carries Retry-After."""

    status_code = 429


class StorageBusy(PulseGateError):
    """The write queue is full; the caller should retry after a short pause."""

    status_code = 503


class StorageUnavailable(PulseGateError):
    """The database cannot be opened or written."""

    status_code = 503


class NotConfigured(PulseGateError):
    """The feature asked for needs a setting that is not set."""

    status_code = 503
    exit_code = 2


class NotOnThisEngine(PulseGateError):
    """The configured store (storage.engine) does not do this: `compact` on ClickHouse, say."""

    status_code = 501
    exit_code = 2


class DeliveryFailed(PulseGateError):
    """A message could not be handed to the server that should take it (an SMTP server)."""

    status_code = 502


class ConfigError(PulseGateError):
    """A setting is unknown, has the wrong type, or cannot be used."""

    exit_code = 2
