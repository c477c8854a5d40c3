"""GET /dashboard: the built-in dashboard, static files from web_assets/dashboard/ under a strict CSP.

The page reads the public analytics API with a key the user types in; the server adds nothing
for it. The files are read once at start-up and revalidated by ETag on every load.
"""

from __future__ import annotations

from litestar import Request, Response, route
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath
from litestar.response import Redirect

from pulsegate.errors import NotFound
from pulsegate.http.assets import file_response
from pulsegate.http.methods import GET_AND_HEAD
from pulsegate.resources import shipped_file
from pulsegate.web.files import ServedFile, served_folder

DASHBOARD_PREFIX = "/dashboard"
# Only this server's own files run; data is fetched from this server only; nothing may frame it.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def dashboard_routes() -> list[HTTPRouteHandler]:
    """The dashboard page and its files."""
    files = served_folder(shipped_file("web_assets") / "dashboard")

    def respond(request: Request, file: ServedFile) -> Response[bytes]:
        return file_response(file, request, "no-cache", SECURITY_HEADERS)

    @route(DASHBOARD_PREFIX, http_method=GET_AND_HEAD, include_in_schema=False, name="dashboard")
    async def dashboard(request: Request) -> Response[bytes]:
        """The dashboard page."""
        return respond(request, files["index.html"])

    @route(
        f"{DASHBOARD_PREFIX}/{{name:str}}",
        http_method=GET_AND_HEAD,
        include_in_schema=False,
        name="dashboard-file",
    )
    async def dashboard_file(request: Request, name: FromPath[str]) -> Response[bytes]:
        """The dashboard's scripts and styles."""
        file = files.get(name)
        if file is None:
            raise NotFound(f"No dashboard file {name!r}")
        return respond(request, file)

    @route("/", http_method=GET_AND_HEAD, include_in_schema=False, name="root")
    async def root() -> Redirect:
        """A person who opens the server's address gets the dashboard (POST / is the old capture)."""
        return Redirect(DASHBOARD_PREFIX)

    return [dashboard, dashboard_file, root]
