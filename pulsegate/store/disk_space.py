"""Refusing writes while the database's disk is nearly full, before DuckDB meets a full disk.

A database that runs out of space in the middle of a write is the failure DuckDB's users report
as corruption or a crash loop; refusing new writes (503, reads still served) while a margin
remains keeps every acknowledged row safe, and writes resume by themselves once space returns.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from pulsegate.errors import StorageUnavailable

CHECK_EVERY_SECONDS = 1.0  # statvfs is cheap, but not per request at thousands a second
MEGABYTE = 1024 * 1024


def free_bytes(folder: Path) -> int:
    """Bytes an unprivileged writer may still use on the file system holding `folder`."""
    stats = os.statvfs(folder)
    return stats.f_bavail * stats.f_frsize


class DiskSpaceGuard:
    """Raises StorageUnavailable while `folder` has less than `min_free_bytes` free."""

    def __init__(
        self,
        folder: Path,
        min_free_bytes: int,
        *,
        measure: Callable[[Path], int] = free_bytes,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._folder = folder
        self._min_free_bytes = min_free_bytes
        self._measure = measure
        self._clock = clock
        self._checked_at = -CHECK_EVERY_SECONDS
        self._free = min_free_bytes

    def check(self) -> None:
        """Refuse a write when the disk is nearly full (measured at most once a second)."""
        if not self._min_free_bytes:
            return
        now = self._clock()
        if now - self._checked_at >= CHECK_EVERY_SECONDS:
            self._checked_at = now
            try:
                self._free = self._measure(self._folder)
            except OSError:
                return  # cannot tell: let DuckDB's own errors speak
        if self._free < self._min_free_bytes:
            raise StorageUnavailable(
                f"The disk holding the database is nearly full ({self._free // MEGABYTE} MB free, "
                f"below storage.min_free_disk_mb = {self._min_free_bytes // MEGABYTE}); "
                "writes resume when space is freed",
                headers={"Retry-After": "30"},
            )
