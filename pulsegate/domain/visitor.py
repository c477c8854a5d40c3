"""Visitor ids: a salted SHA-256 of what the browser offers, never of anything stored raw."""

from __future__ import annotations

import hashlib

# Header values longer than this are cut before hashing: they only need to be distinct, and
# an unbounded header should not cost unbounded hashing.
MAX_IDENTIFIER_CHARS = 256


def visitor_id(
    salt: str,
    *,
    visitor_header: str | None,
    fingerprint_header: str | None,
    client_ip: str,
    user_agent: str,
) -> str:
    """Hex SHA-256 of the salt and the best identifier the request carries.

    Preference: the tracker's own X-Visitor-ID, then X-Fingerprint-ID, then IP + user agent.
    Each kind is namespaced so the same string in two headers gives two different ids.
    """
    if visitor_header and visitor_header.strip():
        kind, value = "visitor", visitor_header.strip()
    elif fingerprint_header and fingerprint_header.strip():
        kind, value = "fingerprint", fingerprint_header.strip()
    else:
        kind, value = "network", f"{client_ip}\x00{user_agent}"
    material = "\x00".join((salt, kind, value[:MAX_IDENTIFIER_CHARS]))
    return hashlib.sha256(material.encode("utf-8", "surrogatepass")).hexdigest()
