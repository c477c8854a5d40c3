"""Visitor ids: salted, preferring X-Visitor-ID, then X-Fingerprint-ID, then IP + user agent."""

from __future__ import annotations

import hashlib

from pulsegate.domain.visitor import MAX_IDENTIFIER_CHARS, visitor_id


def expected(salt: str, kind: str, value: str) -> str:
    return hashlib.sha256(f"{salt}\x00{kind}\x00{value}".encode()).hexdigest()


def test_visitor_header_wins_over_fingerprint_and_network() -> None:
    got = visitor_id(
        "s", visitor_header="v-1", fingerprint_header="f-1", client_ip="1.2.3.4", user_agent="UA"
    )
    assert got == expected("s", "visitor", "v-1")


def test_fingerprint_used_without_visitor_header() -> None:
    got = visitor_id("s", visitor_header=" ", fingerprint_header="f-1", client_ip="1.2.3.4", user_agent="UA")
    assert got == expected("s", "fingerprint", "f-1")


def test_network_identity_is_ip_and_user_agent() -> None:
    got = visitor_id("s", visitor_header=None, fingerprint_header=None, client_ip="1.2.3.4", user_agent="UA")
    assert got == expected("s", "network", "1.2.3.4\x00UA")
    other_ua = visitor_id(
        "s", visitor_header=None, fingerprint_header=None, client_ip="1.2.3.4", user_agent="UB"
    )
    assert other_ua != got


def test_salt_changes_every_id_and_output_is_hex_sha256() -> None:
    a = visitor_id("salt-a", visitor_header="v", fingerprint_header=None, client_ip="", user_agent="")
    b = visitor_id("salt-b", visitor_header="v", fingerprint_header=None, client_ip="", user_agent="")
    assert a != b
    assert len(a) == 64 and int(a, 16) >= 0


def test_same_string_in_different_headers_gives_different_ids() -> None:
    as_visitor = visitor_id("s", visitor_header="x", fingerprint_header=None, client_ip="", user_agent="")
    as_fingerprint = visitor_id("s", visitor_header=None, fingerprint_header="x", client_ip="", user_agent="")
    assert as_visitor != as_fingerprint


def test_ip_never_appears_in_the_id() -> None:
    got = visitor_id(
        "s", visitor_header=None, fingerprint_header=None, client_ip="203.0.113.9", user_agent="UA"
    )
    assert "203.0.113.9" not in got


def test_overlong_identifiers_are_cut_before_hashing() -> None:
    long_value = "v" * (MAX_IDENTIFIER_CHARS + 50)
    got = visitor_id("s", visitor_header=long_value, fingerprint_header=None, client_ip="", user_agent="")
    assert got == expected("s", "visitor", "v" * MAX_IDENTIFIER_CHARS)
