"""Share links: their tokens, passwords, access cookies, expiry and who may frame them.

A share link shows one project's dashboard, read-only, to whoever holds its URL. Its token is 256
random bits, so (as an API key's secret) it is kept as a SHA-256 and looked up by that hash. A
password is another matter: people choose short ones, so it is kept as a scrypt hash (memory-hard,
in the standard library: a stolen database file does not give short passwords up to a GPU the
way a fast hash would). Once the password is given, a cookie proves it: an HMAC of the link, its
password hash and the time it was given, so revoking the link or changing its password ends every
cookie at once, and nothing has to be stored per visitor.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from pulsegate.domain.api_keys import hash_secret
from pulsegate.errors import InvalidInput

TOKEN_BYTES = 32  # 256 bits; the issue asks for at least 128
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")  # what secrets.token_urlsafe(32) gives
SHARE_PATH = "/share/"
COOKIE_NAME = "pulsegate_share"
COOKIE_MAX_AGE_SECONDS = 7 * 24 * 3600  # a person types the password again after a week
MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_CHARS = 1024
# scrypt's cost: 16 MiB and about 50 ms per try on one core, the parameters Python's docs and
# OWASP name as the interactive minimum. Stored with the hash, so raising it later keeps old ones.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
_SCRYPT_MAXMEM = 64 * 1024 * 1024
_PASSWORD_HASH = re.compile(r"^scrypt\$(\d{1,7})\$(\d{1,3})\$(\d{1,3})\$([0-9a-f]{32})\$([0-9a-f]{64})$")
_EXPIRES = re.compile(r"^(\d{1,6})([mhdw])$")
_UNITS_MS = {"m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 7 * 86_400_000}
MAX_EXPIRY_MS = 3650 * 86_400_000
# An origin a browser sends: scheme, host (optionally `*.` for every subdomain), port.
_ORIGIN = re.compile(
    r"^https?://(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(:\d{1,5})?$"
)
MAX_EMBED_ORIGINS = 20
MAX_NAME_CHARS = 100


@dataclass(frozen=True, slots=True)
class ShareLink:
    """A stored share link (never its token)."""

    share_id: str
    name: str
    project: str
    token_hash: str
    password_hash: str | None
    embed_origins: tuple[str, ...]
    created_ms: int
    expires_ms: int | None
    revoked_ms: int | None

    def state(self, now_ms: int) -> str:
        """`active`, `expired` or `revoked`."""
        if self.revoked_ms is not None:
            return "revoked"
        if self.expires_ms is not None and self.expires_ms <= now_ms:
            return "expired"
        return "active"

    def frame_ancestors(self) -> str:
        """The CSP `frame-ancestors` sources of the link's embed view: `'none'` unless origins were given."""
        return " ".join(self.embed_origins) if self.embed_origins else "'none'"


def new_token() -> str:
    """A new link token: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def new_share_id() -> str:
    """A short public id for a link (not secret)."""
    return "shr_" + secrets.token_hex(4)


def token_hash(token: str) -> str | None:
    """The SHA-256 a token is stored as, or None for text that cannot be a token (no lookup needed)."""
    return hash_secret(token) if _TOKEN.fullmatch(token) else None


def same_hash(stored: str, presented: str) -> bool:
    """Constant-time comparison of two hashes."""
    return hmac.compare_digest(stored, presented)


def check_password(password: str) -> str:
    """`password` if it is long enough to protect a link, else InvalidInput."""
    if not MIN_PASSWORD_CHARS <= len(password) <= MAX_PASSWORD_CHARS:
        raise InvalidInput(f"password: {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters")
    return password


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """The scrypt hash of `password` as stored: `scrypt$N$r$p$salt$key` (hex)."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    key = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${key.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` is the one `stored` was made from (constant-time at the end)."""
    match = _PASSWORD_HASH.fullmatch(stored)
    if match is None or len(password) > MAX_PASSWORD_CHARS:
        return False
    n, r, p = int(match[1]), int(match[2]), int(match[3])
    key = _scrypt(password, bytes.fromhex(match[4]), n, r, p)
    return hmac.compare_digest(key.hex(), match[5])


def check_password_hash(stored: str) -> str:
    """`stored` if it is a hash `hash_password` makes (the CLI hashes it), else InvalidInput."""
    match = _PASSWORD_HASH.fullmatch(stored)
    if match is None or int(match[1]) < SCRYPT_N or int(match[1]) & (int(match[1]) - 1):
        raise InvalidInput("password_hash: not a scrypt hash made by `pulsegate share create`")
    # scrypt needs 128·N·r bytes: a hash over the limit verify_password runs with could never match.
    if 128 * int(match[1]) * int(match[2]) * int(match[3]) > _SCRYPT_MAXMEM // 2:
        raise InvalidInput("password_hash: its scrypt cost is over what the server allows")
    return stored


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8", "surrogatepass"), salt=salt, n=n, r=r, p=p, maxmem=_SCRYPT_MAXMEM, dklen=32
    )


def access_cookie(secret: str, link: ShareLink, issued_s: int) -> str:
    """The cookie value that proves the password of `link` was given at `issued_s`."""
    return f"{issued_s}.{_access_mac(secret, link, issued_s)}"


def admits(secret: str, link: ShareLink, cookie: str | None, now_s: int) -> bool:
    """Whether a visitor with this cookie may see `link` (always, for a link without a password)."""
    if link.password_hash is None:
        return True
    issued_text, _, mac = (cookie or "").partition(".")
    # ASCII digits only: str.isdigit() also takes "²", which int() refuses.
    if not re.fullmatch(r"[0-9]{1,12}", issued_text):
        return False
    issued_s = int(issued_text)
    if not 0 <= now_s - issued_s < COOKIE_MAX_AGE_SECONDS:
        return False
    return hmac.compare_digest(mac, _access_mac(secret, link, issued_s))


def _access_mac(secret: str, link: ShareLink, issued_s: int) -> str:
    message = f"{link.share_id}\n{link.password_hash}\n{issued_s}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def parse_expires(text: str) -> int:
    """`90m`, `12h`, `30d` or `2w` as milliseconds (1 minute to 10 years), or InvalidInput."""
    match = _EXPIRES.fullmatch(text.strip())
    if not match:
        raise InvalidInput(f"--expires: a number and m, h, d or w, like 12h, 30d or 2w (got {text!r})")
    expires_ms = int(match[1]) * _UNITS_MS[match[2]]
    if not 0 < expires_ms <= MAX_EXPIRY_MS:
        raise InvalidInput("--expires: at least 1m, at most 3650d")
    return expires_ms


def check_embed_origin(text: str) -> str:
    """An origin that may frame a link's embed view (`https://wiki.example.com`, `https://*.example.com`,
    `http://localhost:3000`), without a trailing slash; else InvalidInput.

    The value goes into a response header, so nothing but an origin's characters passes.
    """
    origin = text.strip().rstrip("/")
    host = origin.split("://", 1)[-1].split(":", 1)[0]
    # `*.com` would let any .com site frame the link: a wildcard stands above a registered name.
    too_wide = host.startswith("*.") and "." not in host[2:]
    if not _ORIGIN.fullmatch(origin) or len(origin) > 300 or too_wide:
        raise InvalidInput(
            "--embed-origin: a page's origin, scheme and host (and port), like https://wiki.example.com "
            f"or https://*.example.com (got {text!r})"
        )
    return origin.lower()


def check_name(text: str) -> str:
    """A link's label: at most 100 characters, no control characters."""
    name = text.strip()
    if len(name) > MAX_NAME_CHARS or any(ord(char) < 32 for char in name):
        raise InvalidInput(f"--name: at most {MAX_NAME_CHARS} characters on one line")
    return name
