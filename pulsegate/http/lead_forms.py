"""What a browser sees after posting a plain HTML form to /lead.capture: a redirect, or a page."""

from __future__ import annotations

from html import escape

from litestar import MediaType, Response

from pulsegate.domain.lead_forms import allowed_redirect, origin_of

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>{title}</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:4rem auto;padding:0 1rem;
color:#1f2933}} h1{{font-size:1.5rem}} a{{color:#2563eb}}</style></head>
<body><main><h1>{title}</h1><p>{text}</p>{back}</main></body></html>
"""


def _page(title: str, text: str, back_to: str | None, status: int) -> Response[str]:
    back = f'<p><a href="{escape(back_to)}">Back to the page</a></p>' if back_to else ""
    body = _PAGE.format(title=escape(title), text=escape(text), back=back)
    # The page echoes nothing but our own words and the form's page: no script runs on it.
    headers = {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"}
    return Response(body, status_code=status, media_type=MediaType.HTML, headers=headers)


def form_answer(redirect: str | None, origins: list[str], page: str | None) -> Response[str]:
    """303 See Other to the form's `redirect` when its origin is allowed, else a thank-you page."""
    target = allowed_redirect(redirect, origins)
    if target is not None:
        return Response("", status_code=303, headers={"Location": target}, media_type=MediaType.TEXT)
    return _page("Thank you!", "We have your message and will be in touch soon.", _http_page(page), 200)


def form_error_page(status: int, message: str, page: str | None) -> Response[str]:
    """An error a person can act on, in the page's place (the JSON shape is for scripts)."""
    return _page("Please check the form", message, _http_page(page), status)


def _http_page(page: str | None) -> str | None:
    """The form's page as a link back, when it is an http(s) URL."""
    return page if origin_of(page) is not None else None
