"""GET /tracker.js, /form.js, /pulse.js (and the configured alias): cached, revalidated, gzipped.

Also the demo site at /demo/ when `pulsegate serve --demo` (web.demo) asks for it, and Redoc's
script for the API documentation at /schema, served from the package so it needs no CDN.
"""

from __future__ import annotations

import functools

from litestar import Request, Response, get, route
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath
from litestar.response import Redirect

from pulsegate.config import WebSettings
from pulsegate.errors import NotFound
from pulsegate.http.methods import GET_AND_HEAD, operation_id
from pulsegate.resources import shipped_file
from pulsegate.web.demo_site import DEMO_PREFIX, demo_page
from pulsegate.web.files import JAVASCRIPT, ServedFile, served_file
from pulsegate.web.scripts import build_scripts


def accepts_gzip(accept_encoding: str | None) -> bool:
    """True when an Accept-Encoding header admits gzip (`gzip`, `gzip;q=0.5`, `*`; not `q=0`).

    gzip named explicitly wins over `*`, wherever each stands in the header.
    """
    qualities: dict[str, float] = {}
    for item in (accept_encoding or "").split(","):
        coding, _, params = item.strip().partition(";")
        quality_text = params.strip().lower().removeprefix("q=").strip() if params else "1"
        try:
            quality = float(quality_text)
        except ValueError:
            quality = 1.0
        qualities[coding.strip().lower()] = quality
    for coding in ("gzip", "x-gzip", "*"):
        if coding in qualities:
            return qualities[coding] > 0
    return False


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """True when If-None-Match names `etag` (weakly compared, as RFC 9110 asks for GET) or is `*`."""
    if not if_none_match:
        return False
    candidates = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in candidates or etag in candidates


def file_response(
    file: ServedFile, request: Request, cache_control: str, headers: dict[str, str] | None = None
) -> Response[bytes]:
    """The file, or 304 when the browser's copy is current; gzipped when the browser takes it.

    The gzip encoding has its own ETag (`"…-gz"`), as a different representation must (RFC 9110).
    """
    zipped = accepts_gzip(request.headers.get("accept-encoding"))
    etag = file.etag[:-1] + '-gz"' if zipped else file.etag
    headers = {**(headers or {}), "ETag": etag, "Cache-Control": cache_control, "Vary": "Accept-Encoding"}
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(b"", status_code=304, headers=headers, media_type=file.media_type)
    body = file.gzipped if zipped else file.body
    if zipped:
        headers["Content-Encoding"] = "gzip"
    return Response(body, headers=headers, media_type=file.media_type)


def asset_routes(web: WebSettings) -> list[HTTPRouteHandler]:
    """The script routes (with the alias, if configured) and the demo site (if enabled)."""
    scripts = build_scripts(tracking_prefix=web.tracking_prefix)
    routes = []
    for name, script in scripts.items():
        routes.append(_script_route(name, script, f"/{name}", web.script_max_age_seconds))
    if web.script_alias:  # another name for pulse.js, left out of /schema like the operator's other names
        routes.append(
            _script_route(
                "pulse.js", scripts["pulse.js"], web.script_alias, web.script_max_age_seconds, alias=True
            )
        )
    if web.demo:
        routes += [demo_index, demo]
    return [*routes, redoc_script]


def _script_route(
    name: str, script: ServedFile, path: str, max_age: int, *, alias: bool = False
) -> HTTPRouteHandler:
    stem = name.removesuffix(".js")
    cache_control = f"public, max-age={max_age}"

    async def serve_script(request: Request) -> Response[bytes]:
        return file_response(script, request, cache_control)

    serve_script.__doc__ = f"The browser script {name} (ETag, Cache-Control, gzip when accepted)."
    return route(
        path,
        http_method=GET_AND_HEAD,
        name=f"script-{stem}" + ("-alias" if alias else ""),
        operation_id=operation_id(f"get{stem.capitalize()}Script"),
        include_in_schema=not alias,
        tags=["scripts"],
        media_type=JAVASCRIPT,
    )(serve_script)


REDOC_SCRIPT_PATH = "/assets/redoc.standalone.js"
SCHEMA_FAVICON = "<link rel='icon' type='image/svg+xml' href='/dashboard/favicon.svg'>"


# The one thing Redoc's bundle fetches from outside: the "API docs by Redocly" logo.
_REDOC_LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"


@functools.cache
def _redoc() -> ServedFile:
    # 1.1 MB: read and gzipped on the first visit to /schema, not at every start-up.
    script = (shipped_file("web_assets") / "schema" / "redoc.standalone.js").read_bytes()
    return served_file(script.replace(_REDOC_LOGO, b"/dashboard/favicon.svg"), JAVASCRIPT)


@route(REDOC_SCRIPT_PATH, http_method=GET_AND_HEAD, include_in_schema=False, name="redoc-script")
async def redoc_script(request: Request) -> Response[bytes]:
    """Redoc 2.5 (MIT, vendored from npm with its licence in web_assets/schema/), for /schema."""
    return file_response(_redoc(), request, "public, max-age=86400")


@get(DEMO_PREFIX, include_in_schema=False, name="demo-index")
async def demo_index(request: Request) -> Response[bytes] | Redirect:
    """The demo site's first page."""
    # The router treats /demo and /demo/ alike; the pages' relative links need the slash.
    if request.scope.get("raw_path", b"").split(b"?")[0] == DEMO_PREFIX.encode():
        return Redirect(f"{DEMO_PREFIX}/")
    return _demo_response("index.html", request)


@get(f"{DEMO_PREFIX}/{{page:str}}", include_in_schema=False, name="demo-page")
async def demo(page: FromPath[str], request: Request) -> Response[bytes]:
    """The demo site: pages that load this server's pulse.js from the same origin."""
    return _demo_response(page, request)


def _demo_response(page: str, request: Request) -> Response[bytes]:
    # The address the browser used, so the page's commands name this server as the visitor sees it.
    found = demo_page(page, pulsegate_origin="", server_url=str(request.base_url))
    if found is None:
        raise NotFound(f"No demo page {page!r}; start at {DEMO_PREFIX}/")
    body, media_type = found
    return Response(body, media_type=media_type, headers={"Cache-Control": "no-cache"})
