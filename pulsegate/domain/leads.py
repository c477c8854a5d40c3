"""Lead submissions: their shape, the rules a lead must meet, and the spam checks (pure)."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from msgspec import Meta, Struct

from pulsegate.domain.tracking import Project, ShortText, Url
from pulsegate.errors import InvalidInput

LeadStatus = Literal["new", "forwarded", "synced", "failed", "spam"]
LEAD_STATUSES: tuple[str, ...] = LeadStatus.__args__
HONEYPOT_FIELD = "website"  # a field people never see; bots fill in anything called "website"

SubmissionId = Annotated[str, Meta(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
FieldKey = Annotated[str, Meta(min_length=1, max_length=64)]
FieldValue = Annotated[str, Meta(max_length=2000)] | int | float | bool | None
Fields = Annotated[dict[FieldKey, FieldValue], Meta(max_length=50)]

_EMAIL = re.compile(r"^[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+\.[^@\s<>()\[\],;:\"]{2,}$")
_PHONE = re.compile(r"^\+?[0-9 ().\-/]{5,40}$")


class LeadSubmission(Struct, kw_only=True):
    """POST /lead.capture: a form's contact fields and where the visitor came from."""

    # Made by the form: a retry with the same id is the same lead. Without one, the same
    # submission from the same visitor within ten minutes is (domain/lead_forms.content_key).
    submission_id: SubmissionId | None = None
    name: Annotated[str, Meta(max_length=200)] | None = None
    email: Annotated[str, Meta(max_length=254)] | None = None
    phone: Annotated[str, Meta(max_length=40)] | None = None
    company: Annotated[str, Meta(max_length=200)] | None = None
    message: Annotated[str, Meta(max_length=5000)] | None = None
    project: Project | None = None
    source: Annotated[str, Meta(max_length=100)] | None = None  # the form's own label
    fields: Fields | None = None
    session_id: Annotated[str, Meta(max_length=64)] | None = None
    visitor_id: Annotated[str, Meta(max_length=128)] | None = None
    page_url: Url | None = None
    utm_source: ShortText | None = None
    utm_medium: ShortText | None = None
    utm_campaign: ShortText | None = None
    utm_term: ShortText | None = None
    utm_content: ShortText | None = None
    website: Annotated[str, Meta(max_length=500)] | None = None  # the honeypot
    elapsed_ms: Annotated[int, Meta(ge=0)] | None = None  # from the form being shown to its submit


class LeadReceipt(Struct, kw_only=True):
    """The answer to a capture: the same for a first submission, a retry and (silently) spam."""

    lead_id: str
    submission_id: str
    session_id: str | None
    visitor_id: str | None
    timestamp: int


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def check_submission(submission: LeadSubmission) -> LeadSubmission:
    """The submission with its text trimmed; InvalidInput naming the field when a rule is broken."""
    email, phone = _clean(submission.email), _clean(submission.phone)
    if email is not None and not _EMAIL.match(email):
        raise InvalidInput(f"email: not a valid address: {email!r}")
    if phone is not None and (not _PHONE.match(phone) or sum(ch.isdigit() for ch in phone) < 5):
        raise InvalidInput(f"phone: not a valid number: {phone!r}")
    if email is None and phone is None:
        raise InvalidInput("email: a lead needs at least one way to contact it: email or phone")
    return LeadSubmission(
        submission_id=submission.submission_id,
        name=_clean(submission.name),
        email=email.lower() if email else None,
        phone=phone,
        company=_clean(submission.company),
        message=_clean(submission.message),
        project=submission.project,
        source=_clean(submission.source),
        fields=submission.fields,
        session_id=_clean(submission.session_id),
        visitor_id=_clean(submission.visitor_id),
        page_url=_clean(submission.page_url),
        utm_source=_clean(submission.utm_source),
        utm_medium=_clean(submission.utm_medium),
        utm_campaign=_clean(submission.utm_campaign),
        utm_term=_clean(submission.utm_term),
        utm_content=_clean(submission.utm_content),
        website=submission.website,
        elapsed_ms=submission.elapsed_ms,
    )


def spam_reason(submission: LeadSubmission, *, min_fill_ms: int) -> str | None:
    """Why a submission looks automated, or None: the honeypot was filled, or the form was sent
    faster than a person can fill it."""
    if submission.website and submission.website.strip():
        return "honeypot"
    if submission.elapsed_ms is not None and submission.elapsed_ms < min_fill_ms:
        return "too fast"
    return None


class CrmCallback(Struct, kw_only=True):
    """POST /lead.capture/crm-callback: the CRM's id for a lead it created, or the lead's outcome
    (a stage, with a value), or both; other keys are ignored."""

    lead_id: Annotated[str, Meta(min_length=1, max_length=64)] | None = None
    crm_lead_id: Annotated[str, Meta(min_length=1, max_length=200)] | None = None
    stage: Annotated[str, Meta(min_length=1, max_length=64)] | None = None
    value: Annotated[float, Meta(ge=0, le=1e15)] | None = None
    currency: Annotated[str, Meta(pattern=r"^[A-Za-z]{3}$")] | None = None
    at: Annotated[int, Meta(ge=0, le=253_402_300_799_999)] | None = None  # epoch ms, up to year 9999


def check_callback(callback: CrmCallback) -> CrmCallback:
    """The callback with its stage in lower case and currency in upper case; InvalidInput naming
    the field when it says too little or something inconsistent."""
    stage = callback.stage.strip().lower() if callback.stage is not None else None
    if stage == "":
        raise InvalidInput("stage: must not be blank")
    if callback.lead_id is None and callback.crm_lead_id is None:
        raise InvalidInput("lead_id: name the lead by lead_id or crm_lead_id")
    if stage is None and (callback.lead_id is None or callback.crm_lead_id is None):
        raise InvalidInput("stage: send a stage, or both lead_id and crm_lead_id to record the CRM's id")
    if stage is None and (callback.value is not None or callback.currency is not None or callback.at):
        raise InvalidInput("stage: value, currency and at describe a stage: send the stage too")
    if (callback.value is None) != (callback.currency is None):
        raise InvalidInput("currency: send value and currency (ISO 4217, e.g. EUR) together")
    return CrmCallback(
        lead_id=callback.lead_id,
        crm_lead_id=callback.crm_lead_id,
        stage=stage,
        value=callback.value,
        currency=callback.currency.upper() if callback.currency else None,
        at=callback.at,
    )


class CrmSynced(Struct, kw_only=True):
    """The answer to a CRM callback."""

    lead_id: str
    crm_lead_id: str | None
    crm_synced_at: int | None  # epoch ms
    changed: bool  # False when the callback repeated what was already recorded
    stage: str | None = None  # the lead's latest stage, after this callback
    stage_value: float | None = None
    stage_currency: str | None = None
    stage_at: int | None = None  # epoch ms


class StageEntry(Struct, kw_only=True):
    """One stage a CRM reported for a lead."""

    stage: str
    value: float | None
    currency: str | None
    at: int  # epoch ms: when the CRM says it happened, else when it told us


def repeats(history: list[StageEntry], callback: CrmCallback) -> bool:
    """Whether a stage callback says again what the history holds: the same stage, value, currency
    and time; or, without a time, the same as the latest entry (a retried webhook)."""
    same = [
        entry
        for entry in history
        if (entry.stage, entry.value, entry.currency) == (callback.stage, callback.value, callback.currency)
    ]
    if callback.at is not None:
        return any(entry.at == callback.at for entry in same)
    return bool(history) and latest(history) in same


def latest(history: list[StageEntry]) -> StageEntry:
    """The entry that happened last (the one reported last among equal times)."""
    return max(enumerate(history), key=lambda item: (item[1].at, item[0]))[1]
