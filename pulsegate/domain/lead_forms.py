"""Leads from plain HTML forms (no JavaScript): their fields as a submission, where the browser
may be sent afterwards, and what makes two submissions without an id the same lead (pure)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

import msgspec

from pulsegate.domain.leads import LeadSubmission
from pulsegate.errors import InvalidInput

FORM_MEDIA_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
REDIRECT_FIELD = "redirect"  # a hidden field: where to send the browser after the capture
# Fields a form names as the lead's own columns; every other field goes to `fields`.
_OWN_FIELDS = frozenset(LeadSubmission.__struct_fields__) - {"fields"}
_NUMBERS = frozenset({"elapsed_ms"})
# Without a submission_id, the same submission from the same visitor within this long is one lead.
SAME_SUBMISSION_MS = 10 * 60_000


def is_form(content_type: str) -> bool:
    """Whether a request body is an HTML form's (urlencoded or multipart)."""
    return content_type.split(";", 1)[0].strip().lower() in FORM_MEDIA_TYPES


def submission_from_form(
    pairs: Iterable[tuple[str, str]], *, referer: str | None
) -> tuple[LeadSubmission, str | None]:
    """The submission a form's fields make, and its `redirect` field.

    The lead's own fields map by name as in JSON; a field sent more than once (a group of
    checkboxes) keeps its values joined by ", "; empty fields are left out; the page is the form's
    `page_url` field, else the Referer (the page the form was on).
    """
    values: dict[str, list[str]] = {}
    for name, value in pairs:
        if value.strip():
            values.setdefault(name, []).append(value)
    joined = {name: ", ".join(found) for name, found in values.items()}
    redirect = joined.pop(REDIRECT_FIELD, None)
    own: dict[str, object] = {name: value for name, value in joined.items() if name in _OWN_FIELDS}
    others = {name: value for name, value in joined.items() if name not in _OWN_FIELDS}
    for name in _NUMBERS & own.keys():
        text = str(own[name]).strip()
        if not text.isdigit():
            raise InvalidInput(f"{name}: a whole number of milliseconds (got {text[:40]!r})")
        own[name] = int(text)
    if "page_url" not in own and referer:
        own["page_url"] = referer[:2048]
    if others:
        own["fields"] = others
    try:
        return msgspec.convert(own, LeadSubmission), redirect
    except msgspec.ValidationError as exc:
        raise InvalidInput(f"Invalid form field: {exc}") from None


def origin_of(url: str | None) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an http(s) URL safe to put in a Location header or a link, else None."""
    if not url or any(ord(char) < 32 or char in "\\\x7f" for char in url):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return parts.scheme, parts.hostname.lower(), port or (443 if parts.scheme == "https" else 80)


def allowed_redirect(target: str | None, origins: Sequence[str]) -> str | None:
    """`target` when it is an http(s) URL on one of `origins` (scheme, host and port), else None."""
    origin = origin_of(target)
    if origin is None or origin not in {origin_of(allowed) for allowed in origins}:
        return None
    return target


def content_key(salt: str, visitor: str, submission: LeadSubmission) -> str:
    """What makes two submissions without an id the same: the visitor and everything the person
    typed (not the fill time or the honeypot, which differ between two presses of Send)."""
    typed = msgspec.structs.replace(submission, submission_id=None, elapsed_ms=None, website=None)
    material = b"\x00".join((salt.encode(), visitor.encode(), msgspec.json.encode(typed)))
    return hashlib.sha256(material).hexdigest()
