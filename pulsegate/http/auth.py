"""API-key authentication for /analytics/*: Bearer or X-API-Key, 401 with WWW-Authenticate."""

from __future__ import annotations

from litestar import Request
from litestar.di import NamedDependency, Provide

from pulsegate.domain.api_keys import ApiKey
from pulsegate.domain.tracking import check_project
from pulsegate.errors import NotFound, Unauthorized
from pulsegate.runtime import RuntimeDependency

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="PulseGate analytics"'}


def presented_secret(request: Request) -> str | None:
    """The key from `Authorization: Bearer <key>`, else from `X-API-Key`."""
    authorization = request.headers.get("authorization", "")
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return request.headers.get("x-api-key") or None


def provide_api_key(request: Request, runtime: RuntimeDependency) -> ApiKey:
    """The caller's live API key; its use is noted for the batched `last_used` update."""
    secret = presented_secret(request)
    if secret is None:
        raise Unauthorized(
            "Missing API key: send Authorization: Bearer <key> or X-API-Key: <key> "
            "(create one with `pulsegate keys create NAME`)",
            headers=CHALLENGE,
        )
    key = runtime.api_keys.authenticate(secret)
    if key is None:
        raise Unauthorized("Invalid or revoked API key", headers=CHALLENGE)
    return key


ApiKeyDependency = NamedDependency[ApiKey]
# The `api_key` dependency of every route behind a key.
API_KEY_DEPENDENCIES = {"api_key": Provide(provide_api_key, sync_to_thread=False)}


def projects_for(request: Request, key: ApiKey) -> tuple[str, ...] | None:
    """The projects a query may count: the `project` parameter if the key may see it, else the
    key's own projects (None: all)."""
    requested = request.query_params.get("project")
    if requested is not None:
        check_project(requested, "project")
        if not key.allows(requested):
            # The same answer as for a project that does not exist: a scoped key learns nothing.
            raise NotFound(f"project: no project {requested!r} for this API key")
    return key.visible_projects(requested)
