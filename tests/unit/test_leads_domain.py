"""Lead rules: contact required, email and phone syntax, trimming, and the spam checks."""

from __future__ import annotations

import msgspec
import pytest

from pulsegate.domain.leads import LeadSubmission, check_submission, spam_reason
from pulsegate.errors import InvalidInput


def submission(**fields: object) -> LeadSubmission:
    return msgspec.convert({"submission_id": "sub-00001", **fields}, LeadSubmission)


def test_trims_and_lowercases_email() -> None:
    checked = check_submission(submission(email="  Ann@Example.COM ", name="  Ann  ", company=" "))
    assert (checked.email, checked.name, checked.company) == ("ann@example.com", "Ann", None)


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"name": "no contact"}, "email:"),
        ({"email": "not-an-email"}, "email:"),
        ({"email": "a@b"}, "email:"),
        ({"email": "a b@example.com"}, "email:"),
        ({"phone": "12"}, "phone:"),
        ({"phone": "call me maybe"}, "phone:"),
        ({"email": "   ", "phone": " "}, "email:"),
    ],
)
def test_rules_name_the_field(fields: dict, named: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_submission(submission(**fields))
    assert caught.value.message.startswith(named)


@pytest.mark.parametrize("phone", ["+1 (555) 010-0100", "030 1234567", "+44 20 7946 0958"])
def test_phone_alone_is_enough(phone: str) -> None:
    assert check_submission(submission(phone=phone)).phone == phone


def test_shape_limits_are_enforced_on_decode() -> None:
    with pytest.raises(msgspec.ValidationError, match="submission_id"):
        msgspec.convert({"submission_id": "short", "email": "a@example.com"}, LeadSubmission)
    with pytest.raises(msgspec.ValidationError, match="fields"):
        msgspec.convert({"submission_id": "sub-00001", "fields": {"nested": {"a": 1}}}, LeadSubmission)


def test_spam_reasons() -> None:
    assert (
        spam_reason(submission(email="a@example.com", website="http://spam"), min_fill_ms=2000) == "honeypot"
    )
    assert spam_reason(submission(email="a@example.com", elapsed_ms=300), min_fill_ms=2000) == "too fast"
    assert spam_reason(submission(email="a@example.com", elapsed_ms=4000), min_fill_ms=2000) is None
    assert spam_reason(submission(email="a@example.com"), min_fill_ms=2000) is None  # no timing sent
