"""Files served to browsers from memory: their bytes, gzip encoding and ETag, prepared once."""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class ServedFile:
    """One file as served: its bytes, their gzip encoding, its ETag and media type."""

    body: bytes
    gzipped: bytes
    etag: str
    media_type: str


def served_file(body: bytes, media_type: str) -> ServedFile:
    """Prepare `body` for serving: gzip it once and tag it with a hash of its content."""
    return ServedFile(
        body=body,
        gzipped=gzip.compress(body, compresslevel=9, mtime=0),
        etag='"' + hashlib.sha256(body).hexdigest()[:20] + '"',
        media_type=media_type,
    )


# The one table of the types PulseGate serves files as. Fixed here rather than asked of
# `mimetypes`, whose answer for .js depends on the platform's tables: a browser refuses a module
# script served with a type that is not JavaScript. JavaScript is text/javascript (RFC 9239).
# No charset here: Litestar appends `; charset=utf-8` to every text/ type it sends.
MEDIA_TYPES = {
    ".html": "text/html",
    ".css": "text/css",
    ".js": "text/javascript",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".txt": "text/plain",
}
JAVASCRIPT = MEDIA_TYPES[".js"]


def media_type_of(name: str) -> str | None:
    """The media type a file of this name is served as, or None for a type PulseGate does not serve."""
    return MEDIA_TYPES.get(Path(name).suffix.lower())


def served_folder(folder: Path) -> dict[str, ServedFile]:
    """Every file directly in `folder` with a known type, by name."""
    files = {}
    for path in sorted(folder.iterdir()):
        media_type = media_type_of(path.name)
        if path.is_file() and media_type is not None:
            files[path.name] = served_file(path.read_bytes(), media_type)
    return files
