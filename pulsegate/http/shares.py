"""Share links: /share/<token> serves one project's dashboard, read-only, to whoever holds the URL.

The page is the dashboard's own HTML with a `<meta name="pulsegate-share">` that puts
dashboard.js in share mode (no key, no leads list, no lead pages, no storage). Its data comes from
`/share/<token>/api/analytics/*`: the report routes of `AnalyticsController`, answered for the
link's project only, and nothing else (no leads, no storage, no other project). Living under the
link's path, they get the password cookie, which is scoped to that path, with no script reading
it; an API key never comes into it. An unknown, revoked or expired token is one and the same 404.

A link with a password shows a form; the right password sets an HttpOnly, SameSite=Strict cookie
(Secure when the browser came over HTTPS), and tries are limited per client address.
`?embed=1` drops the page's chrome and lets the link's own origins frame it (CSP frame-ancestors).
"""

from __future__ import annotations

import html
import time
from typing import Any

from litestar import Request, Response, get, post, route
from litestar.datastructures import CacheControlHeader, Cookie
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath

from pulsegate.config import Settings
from pulsegate.domain import analytics as answers
from pulsegate.domain.anomalies import AnomalyReport, sensitivity_of, window_hours
from pulsegate.domain.client_ip import is_https
from pulsegate.domain.rate_limit import FixedWindowLimiter, client_key
from pulsegate.domain.shares import COOKIE_MAX_AGE_SECONDS, COOKIE_NAME, SHARE_PATH, ShareLink
from pulsegate.domain.timestamps import now_ms
from pulsegate.errors import NotFound, Unauthorized
from pulsegate.http.analytics import AnalyticsController
from pulsegate.http.analytics_query import AnalyticsQuery, query_for
from pulsegate.http.client import client_ip_of
from pulsegate.http.dashboard import CONTENT_SECURITY_POLICY
from pulsegate.http.methods import GET_AND_HEAD
from pulsegate.resources import shipped_file
from pulsegate.runtime import RuntimeDependency, runtime_of
from pulsegate.web.files import served_folder

# The same answer for a token that never existed, was revoked or has expired: nothing to learn.
LINK_GONE = "Share link not found: it may have been revoked or have expired"
PASSWORD_NEEDED = "This share link has a password: open the link to give it"
SHARE_MARKER = '<meta name="pulsegate-share" content="{project}"{embed}>'
_NO_FRAMING = "frame-ancestors 'none'"


async def provide_share(request: Request, runtime: RuntimeDependency, token: FromPath[str]) -> ShareLink:
    """The live link of the path's token, once its password (if any) was given; else 404 or 401."""
    link = await runtime.shares.find(token)
    if link is None:
        raise NotFound(LINK_GONE)
    if not runtime.shares.admits(link, request.cookies.get(COOKIE_NAME)):
        raise Unauthorized(PASSWORD_NEEDED)
    return link


ShareDependency = NamedDependency[ShareLink]


def _project_of(request: Request, link: ShareLink) -> tuple[str, ...]:
    """The link's project; a `project` parameter naming another is answered as for a missing one."""
    requested = request.query_params.get("project")
    if requested is not None and requested != link.project:
        raise NotFound(f"project: no project {requested!r} for this share link")
    return (link.project,)


async def provide_share_query(request: Request, share: ShareDependency) -> AnalyticsQuery:
    """The request's parameters, counting the link's project only."""
    return await query_for(request, _project_of(request, share))


SHARE_DEPENDENCIES = {
    "share": Provide(provide_share),
    "asked": Provide(provide_share_query),
}


class ShareAnalyticsController(AnalyticsController):
    """The dashboard's report routes under /share/<token>/api/analytics, for the link's project.

    Every report route of `AnalyticsController` (their answers carry counts, never a lead's
    contact details), with the share link in place of the API key; `/storage` (the whole
    database's figures) is left out, and `/projects` names the link's project.
    """

    path = "/share/{token:str}/api/analytics"
    include_in_schema = False
    dependencies = SHARE_DEPENDENCIES
    storage = None  # type: ignore[assignment]
    # The forms report lists the forms the tracker saw: a label only leads carry is their
    # `source`, text anyone can send, so a share link never shows it.
    tracked_forms_only = True

    @get("/projects")
    async def projects(self, share: ShareDependency) -> answers.Projects:  # type: ignore[override]
        """The one project the link shows."""
        return answers.Projects(values=[share.project], all_projects=False)


@get(
    "/share/{token:str}/api/analytics/anomalies",
    include_in_schema=False,
    cache_control=CacheControlHeader(no_store=True),
    dependencies={"share": Provide(provide_share)},
)
async def share_anomalies(
    request: Request, share: ShareDependency, runtime: RuntimeDependency
) -> AnomalyReport:
    """The anomalies of the link's project."""
    params = request.query_params
    hours, sensitivity = window_hours(params.get("window")), sensitivity_of(params.get("sensitivity"))
    return await runtime.anomalies.scan(hours, sensitivity, _project_of(request, share))


def share_routes(settings: Settings) -> list[Any]:
    """The share page, its password form, and its API."""
    files = served_folder(shipped_file("web_assets") / "dashboard")
    dashboard_html = files["index.html"].body.decode()
    limits = settings.rate_limits
    limiter = (
        FixedWindowLimiter(limits.share_password, limits.window_seconds, max_keys=limits.max_tracked_clients)
        if limits.enabled
        else None
    )

    def headers(ancestors: str) -> dict[str, str]:
        policy = CONTENT_SECURITY_POLICY.replace(_NO_FRAMING, f"frame-ancestors {ancestors}")
        framing = {} if ancestors != "'none'" else {"X-Frame-Options": "DENY"}
        return {
            "Content-Security-Policy": policy,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",  # the token is in the URL: no page it links to learns it
            "Cache-Control": "no-store",
            **framing,
        }

    def page(
        body: str, status: int, ancestors: str = "'none'", extra: dict[str, str] | None = None
    ) -> Response[bytes]:
        return Response(
            body.encode(),
            status_code=status,
            media_type="text/html",
            headers={**headers(ancestors), **(extra or {})},
        )

    def ancestors_of(request: Request, link: ShareLink) -> str:
        # Only the embed view may be framed, and only by the link's origins.
        return link.frame_ancestors() if request.query_params.get("embed") == "1" else "'none'"

    def dashboard(link: ShareLink, embed: bool) -> str:
        marker = SHARE_MARKER.format(
            project=html.escape(link.project), embed=' data-embed="1"' if embed else ""
        )
        return dashboard_html.replace(
            '<meta charset="utf-8">', f'<meta charset="utf-8">\n  {marker}', 1
        ).replace(
            "<title>PulseGate dashboard</title>", f"<title>{html.escape(link.project)} · PulseGate</title>", 1
        )

    @route("/share/{token:str}", http_method=GET_AND_HEAD, include_in_schema=False, name="share")
    async def share_page(
        request: Request, token: FromPath[str], runtime: RuntimeDependency
    ) -> Response[bytes]:
        """The shared dashboard, or its password form."""
        link = await runtime.shares.find(token)
        if link is None:
            return page(_gone_page(), 404)
        if not runtime.shares.admits(link, request.cookies.get(COOKIE_NAME)):
            return page(_password_page(_self_url(request), None), 200, ancestors_of(request, link))
        return page(
            dashboard(link, request.query_params.get("embed") == "1"), 200, ancestors_of(request, link)
        )

    @post("/share/{token:str}", include_in_schema=False, name="share-password", status_code=303)
    async def share_password(request: Request, token: FromPath[str]) -> Response[bytes]:
        """The password form's answer: the cookie and back to the page, or the form again."""
        runtime = runtime_of(request.app)
        if limiter is not None:
            decision = limiter.hit(
                client_key(client_ip_of(request.scope, runtime.trusted_proxies)), time.time()
            )
            if not decision.allowed:
                message = f"Too many tries from your address: try again in {decision.reset_seconds} s."
                retry = {"Retry-After": str(decision.reset_seconds)}
                return page(_password_page(_self_url(request), message), 429, extra=retry)
        link = await runtime.shares.find(token)
        if link is None:
            return page(_gone_page(), 404)
        form = await request.form()
        password = form.get("password")
        if not isinstance(password, str) or not await runtime.shares.password_matches(link, password):
            return page(_password_page(_self_url(request), "That password is not right."), 401,
                        ancestors_of(request, link))  # fmt: skip
        max_age = COOKIE_MAX_AGE_SECONDS
        if link.expires_ms is not None:
            max_age = max(1, min(max_age, (link.expires_ms - now_ms()) // 1000))
        peer = request.scope.get("client")
        cookie = Cookie(
            key=COOKIE_NAME,
            value=runtime.shares.cookie_for(link),
            path=f"{SHARE_PATH}{token}",
            max_age=max_age,
            httponly=True,
            samesite="strict",
            secure=is_https(
                request.scope.get("scheme", "http"),
                peer[0] if peer else "",
                forwarded_proto=request.headers.get("x-forwarded-proto"),
                trusted_proxies=runtime.trusted_proxies,
            ),
        )
        return Response(
            b"", status_code=303, media_type="text/plain",
            headers={"Location": _self_url(request), "Cache-Control": "no-store"},
            cookies=[cookie],
        )  # fmt: skip

    return [ShareAnalyticsController, share_anomalies, share_page, share_password]


def _self_url(request: Request) -> str:
    """This page's path and query (`?embed=1` survives the form)."""
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="color-scheme" content="light dark">
  <title>{title}</title>
  <link rel="icon" href="/dashboard/favicon.svg" type="image/svg+xml">
  <link rel="stylesheet" href="/dashboard/dashboard.css">
</head>
<body>
  <main>
    <section class="panel sign-in" id="{id}">
{content}
    </section>
  </main>
</body>
</html>
"""


def _password_page(action: str, error: str | None) -> str:
    alert = (
        f'\n        <p id="password-error" class="error" role="alert">{html.escape(error)}</p>'
        if error
        else ""
    )
    content = f"""      <h2>This dashboard has a password</h2>
      <form method="post" action="{html.escape(action)}">
        <label for="password">Password</label>
        <input id="password" name="password" type="password" autocomplete="current-password"
          required autofocus>
        <button type="submit">Open the dashboard</button>{alert}
      </form>"""
    return _PAGE.format(title="Password · PulseGate", id="share-password", content=content)


def _gone_page() -> str:
    content = """      <h2>This link does not work</h2>
      <p>It may have been revoked or have expired. Ask whoever sent it for a new one.</p>"""
    return _PAGE.format(title="Link not found · PulseGate", id="share-gone", content=content)
