"""POST /lead.capture and its deprecated aliases POST /lead and POST /."""

from __future__ import annotations

import hmac
import logging

import msgspec
from litestar import Request, Response, post
from litestar.types import Message, Scope

from pulsegate.domain.lead_forms import is_form, submission_from_form
from pulsegate.domain.leads import CrmCallback, CrmSynced, LeadReceipt, LeadSubmission
from pulsegate.errors import Gone, NotConfigured, PulseGateError, Unauthorized
from pulsegate.http.auth import CHALLENGE, presented_secret
from pulsegate.http.body import decode_json_body, header, read_form_body
from pulsegate.http.client import caller_of
from pulsegate.http.lead_forms import form_answer, form_error_page
from pulsegate.runtime import Runtime, RuntimeDependency

logger = logging.getLogger(__name__)
_DECODER = msgspec.json.Decoder(LeadSubmission)
SUNSET = "Mon, 01 Jun 2026 00:00:00 GMT"
DEPRECATION_HEADERS = {
    "Deprecation": "true",
    "Sunset": SUNSET,
    "Link": '</lead.capture>; rel="successor-version"',
}
_DEPRECATION = tuple((name.lower().encode(), value.encode()) for name, value in DEPRECATION_HEADERS.items())


async def add_deprecation_headers(message: Message, scope: Scope) -> None:
    """Before-send hook: every answer of the deprecated capture routes carries Deprecation, Sunset
    and Link, errors included (a 400, a 413 or a 429 is exactly when a site's owner looks)."""
    if message["type"] != "http.response.start":
        return
    path, method = scope.get("path"), scope.get("method")
    if path == "/lead" or (path == "/" and method in ("POST", "OPTIONS")):
        message["headers"] = [*message.get("headers", ()), *_DEPRECATION]


async def _capture(request: Request, runtime: Runtime) -> Response[LeadReceipt]:
    """A JSON capture answers the receipt; a plain HTML form's, a redirect or a page."""
    if is_form(header(request.scope, b"content-type") or ""):
        return await _capture_form(request, runtime)  # type: ignore[return-value]
    submission = await decode_json_body(
        request.scope,
        request.receive,
        _DECODER,
        max_bytes=runtime.settings.leads.max_body_bytes,
        deadlines=runtime.body_deadlines,
    )
    return Response(await _admitted_capture(submission, request, runtime))


async def _admitted_capture(submission: LeadSubmission, request: Request, runtime: Runtime) -> LeadReceipt:
    if not runtime.projects.is_open:  # registered projects take leads from their own pages only
        submission = runtime.projects.admitted(
            submission, submission.page_url, header(request.scope, b"origin")
        )
    return await runtime.leads.capture(submission, caller_of(request.scope, runtime.trusted_proxies))


async def _capture_form(request: Request, runtime: Runtime) -> Response[str]:
    """A form posted without JavaScript: fields mapped as in JSON, the browser sent on afterwards.
    A mistake is a page in the form's place (the person is looking at it), with the same status."""
    page = header(request.scope, b"referer")
    try:
        pairs = await read_form_body(
            request.scope,
            request.receive,
            max_bytes=runtime.settings.leads.max_body_bytes,
            deadlines=runtime.body_deadlines,
        )
        submission, redirect = submission_from_form(pairs, referer=page)
        await _admitted_capture(submission, request, runtime)
    except PulseGateError as exc:
        # A browser showing the page gets the mistake as a page; a script, as always, JSON. The
        # server's own trouble (5xx, with its Retry-After) is the usual answer for both.
        if exc.status_code >= 500 or "text/html" not in (header(request.scope, b"accept") or ""):
            raise
        return form_error_page(exc.status_code, exc.message, page)
    return form_answer(redirect, runtime.settings.leads.redirect_origins, submission.page_url)


@post("/lead.capture", status_code=200, operation_id="captureLead", tags=["leads"])
async def capture_lead(request: Request, runtime: RuntimeDependency) -> Response[LeadReceipt]:
    """Capture a lead: committed to disk before the answer; the same submission_id twice is one lead
    (without one, the same submission from the same visitor within ten minutes). JSON answers the
    receipt; a plain HTML form (urlencoded or multipart) gets 303 to its `redirect` field when that
    is on leads.redirect_origins, else a thank-you page."""
    return await _capture(request, runtime)


async def _deprecated(request: Request, runtime: Runtime) -> Response[LeadReceipt]:
    path = request.url.path
    if runtime.settings.leads.deprecated_routes == "gone":
        raise Gone(f"POST {path} is retired: send leads to POST /lead.capture")
    answer = await _capture(request, runtime)
    page = header(request.scope, b"referer") or header(request.scope, b"origin") or "an unknown page"
    # A lead refused is a lead lost, so the alias keeps working; the log names who to fix.
    logger.warning(
        "Deprecated POST %s used by %s; switch it to POST /lead.capture (sunset %s)", path, page, SUNSET
    )
    return answer


@post("/lead", status_code=200, operation_id="captureLeadDeprecated", tags=["leads"], deprecated=True)
async def capture_lead_alias(request: Request, runtime: RuntimeDependency) -> Response[LeadReceipt]:
    """Deprecated: use /lead.capture (sunset 2026-06-01)."""
    return await _deprecated(request, runtime)


@post("/", status_code=200, operation_id="captureLeadAtRootDeprecated", tags=["leads"], deprecated=True)
async def capture_lead_root(request: Request, runtime: RuntimeDependency) -> Response[LeadReceipt]:
    """Deprecated: use /lead.capture (sunset 2026-06-01)."""
    return await _deprecated(request, runtime)


_CALLBACK_DECODER = msgspec.json.Decoder(CrmCallback)
CALLBACK_MAX_BYTES = 16 * 1024


@post("/lead.capture/crm-callback", status_code=200, operation_id="crmCallback", tags=["leads"])
async def crm_callback(request: Request, runtime: RuntimeDependency) -> CrmSynced:
    """The CRM reports the record it created for a lead, or the stage the lead reached (qualified,
    won, lost, …, with a value), or both (Authorization: Bearer <callback secret>)."""
    secret = runtime.settings.crm.callback_secret
    if not secret:
        raise NotConfigured("The CRM callback is not configured: set crm.callback_secret (see the README)")
    presented = presented_secret(request) or ""
    if not hmac.compare_digest(presented.encode(), secret.encode()):
        raise Unauthorized("Missing or wrong callback secret", headers=CHALLENGE)
    callback = await decode_json_body(
        request.scope,
        request.receive,
        _CALLBACK_DECODER,
        max_bytes=CALLBACK_MAX_BYTES,
        deadlines=runtime.body_deadlines,
    )
    return await runtime.leads.record_crm_callback(callback)


LEAD_ROUTES = [capture_lead, capture_lead_alias, capture_lead_root, crm_callback]
# Where leads are captured: one rate-limit budget and one request body (LeadSubmission) for all.
CAPTURE_PATHS = ("/lead.capture", "/lead", "/")
