"""The rules of share links: tokens, scrypt passwords, access cookies, expiry and embed origins."""

from __future__ import annotations

import dataclasses

import pytest

from pulsegate.domain.shares import (
    COOKIE_MAX_AGE_SECONDS,
    ShareLink,
    access_cookie,
    admits,
    check_embed_origin,
    hash_password,
    new_token,
    parse_expires,
    token_hash,
    verify_password,
)
from pulsegate.errors import InvalidInput

LINK = ShareLink("shr_1", "", "acme", "h", hash_password("open sesame"), (), 0, None, None)


def test_tokens_are_256_random_bits_and_only_their_shape_is_looked_up() -> None:
    tokens = {new_token() for _ in range(100)}
    assert len(tokens) == 100 and all(token_hash(token) for token in tokens)
    assert token_hash("short") is None and token_hash("A" * 42 + "/") is None


def test_a_password_verifies_against_its_own_salted_hash_only() -> None:
    stored = hash_password("open sesame")
    assert verify_password("open sesame", stored)
    assert not verify_password("open sesame ", stored) and not verify_password("", stored)
    assert hash_password("open sesame") != stored  # a fresh salt each time
    assert not verify_password("open sesame", "sha256$whatever")


def test_the_cookie_ends_with_its_age_the_link_s_password_or_a_secret_change() -> None:
    cookie = access_cookie("secret", LINK, 1_000_000)
    assert admits("secret", LINK, cookie, 1_000_000 + 60)
    assert not admits("secret", LINK, cookie, 1_000_000 + COOKIE_MAX_AGE_SECONDS)
    assert not admits("secret", LINK, cookie, 1_000_000 - 1)  # from the future
    assert not admits("other secret", LINK, cookie, 1_000_000)
    changed = dataclasses.replace(LINK, password_hash=hash_password("open sesame"))  # same password, new hash
    assert not admits("secret", changed, cookie, 1_000_000)
    assert admits("secret", dataclasses.replace(LINK, password_hash=None), None, 0)  # no password: open


@pytest.mark.parametrize(("text", "ms"), [("90m", 90 * 60_000), ("12h", 12 * 3_600_000), ("30d", 30 * 86_400_000),
                                          ("2w", 14 * 86_400_000)])  # fmt: skip
def test_expiry_is_a_number_and_a_unit(text: str, ms: int) -> None:
    assert parse_expires(text) == ms


@pytest.mark.parametrize("text", ["", "30", "d", "-1d", "1.5d", "0m", "3651d", "1y"])
def test_other_expiries_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_expires(text)


@pytest.mark.parametrize(
    "text",
    ["wiki.example.com", "https://wiki.example.com/page", "https://x.example 'unsafe-inline'", "https://x.example;",
     "javascript:alert(1)", "https://*", "*", "'self'", "https://a..b", "https://x.example?q"],
)  # fmt: skip
def test_embed_origins_are_origins_and_nothing_else(text: str) -> None:
    with pytest.raises(InvalidInput):
        check_embed_origin(text)


def test_embed_origins_are_kept_lowercase_without_a_slash() -> None:
    assert check_embed_origin("https://Wiki.Example.com/") == "https://wiki.example.com"
    assert check_embed_origin("http://localhost:3000") == "http://localhost:3000"
    assert check_embed_origin("https://*.example.com") == "https://*.example.com"
