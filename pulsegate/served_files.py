"""Files served to browsers from memory: their bytes, gzip encoding and ETag, prepared once."""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
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


def served_folder(folder: Path) -> dict[str, ServedFile]:
    """Every file directly in `folder`, by name."""
    files = {}
    for path in sorted(folder.iterdir()):
        if path.is_file():
            media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            if media_type.startswith("text/") or media_type == "application/javascript":
                media_type += "; charset=utf-8"
            files[path.name] = served_file(path.read_bytes(), media_type)
    return files
