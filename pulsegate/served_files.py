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


# Fixed here rather than asked of `mimetypes`, whose answer for .js depends on the platform's
# tables: a browser refuses a module script served with a type that is not JavaScript.
MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}


def served_folder(folder: Path) -> dict[str, ServedFile]:
    """Every file directly in `folder` with a known type, by name."""
    return {
        path.name: served_file(path.read_bytes(), MEDIA_TYPES[path.suffix])
        for path in sorted(folder.iterdir())
        if path.is_file() and path.suffix in MEDIA_TYPES
    }
