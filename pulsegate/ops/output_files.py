"""Files a command writes: checked before any work starts, written beside and moved in at the end.

A wrong output path is one clear line (exit code 2) before anything runs, never a traceback after
a long export; a failed run leaves the previous file as it was, never half of a new one; and the
file is readable by its owner only (mode 0600), since exports and backups hold contact details.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from pulsegate.errors import InvalidInput


def check_output_file(
    path: Path, *, option: str, example: str, replace: bool = True, create_folder: bool = False
) -> None:
    """Refuse `path` (named `option` in the message) unless a file can be written there now;
    `example` is a file name the message suggests when `path` is a folder."""
    if path.is_dir():
        raise InvalidInput(f"{option}: {path} is a folder; name a file in it, such as {path / example}")
    if path.exists() and not replace:
        raise InvalidInput(f"{option}: {path} exists; pass --force to replace it")
    folder = _nearest_existing(path.parent) if create_folder else path.parent
    if not folder.exists():
        raise InvalidInput(f"{option}: the folder {folder} does not exist; create it first")
    if not folder.is_dir():
        raise InvalidInput(f"{option}: {folder} is not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InvalidInput(f"{option}: this user may not write in {folder}")
    if path.exists() and not os.access(path, os.W_OK):
        raise InvalidInput(f"{option}: this user may not replace {path}")


def partial_path(path: Path) -> Path:
    """Where a file is written before it replaces `path`."""
    return path.with_name(path.name + ".partial")


PRIVATE_FILE_MODE = 0o600


@contextlib.contextmanager
def written_in_place_of(path: Path, *, create: bool = True) -> Iterator[Path]:
    """Yield the partial file to write; on success it replaces `path`, on failure it is removed.

    With `create` the partial file exists already, empty and private, when it is yielded (a
    writer that truncates it keeps its mode); otherwise the writer creates it (DuckDB's ATTACH
    wants no file there) and it is made private before it takes the final name.
    """
    partial = partial_path(path)
    partial.unlink(missing_ok=True)
    if create:
        os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE))
    try:
        yield partial
        os.chmod(partial, PRIVATE_FILE_MODE)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(path)


def _nearest_existing(folder: Path) -> Path:
    while not folder.exists() and folder.parent != folder:
        folder = folder.parent
    return folder
