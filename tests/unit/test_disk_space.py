"""The disk-space guard: refuses writes under the margin, measures at most once a second, recovers."""

from __future__ import annotations

from pathlib import Path

import pytest

from pulsegate.errors import StorageUnavailable
from pulsegate.store.disk_space import MEGABYTE, DiskSpaceGuard, free_bytes


class Disk:
    def __init__(self) -> None:
        self.free = 500 * MEGABYTE
        self.measured = 0

    def __call__(self, folder: Path) -> int:
        self.measured += 1
        return self.free


def test_writes_are_refused_under_the_margin_and_resume_when_space_returns() -> None:
    disk, now = Disk(), [0.0]
    guard = DiskSpaceGuard(Path("/"), 100 * MEGABYTE, measure=disk, clock=lambda: now[0])
    guard.check()
    disk.free = 40 * MEGABYTE
    guard.check()  # measured less than a second ago: not measured again
    now[0] += 1.0
    with pytest.raises(
        StorageUnavailable, match=r"nearly full \(40 MB free, below storage.min_free_disk_mb = 100\)"
    ) as refused:
        guard.check()
    assert refused.value.status_code == 503 and refused.value.headers == {"Retry-After": "30"}
    disk.free = 300 * MEGABYTE
    now[0] += 1.0
    guard.check()
    assert disk.measured == 3


def test_zero_turns_it_off_and_an_unreadable_disk_does_not_block() -> None:
    DiskSpaceGuard(Path("/"), 0, measure=lambda _: 0).check()

    def broken(folder: Path) -> int:
        raise OSError("gone")

    DiskSpaceGuard(Path("/"), 100 * MEGABYTE, measure=broken).check()


def test_free_bytes_reads_the_real_file_system(tmp_path: Path) -> None:
    assert free_bytes(tmp_path) > 0
