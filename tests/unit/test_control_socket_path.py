"""Where the control socket lives: beside the database, or in a private folder for long paths."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from pulsegate.control.protocol import control_socket_path


def test_beside_the_database() -> None:
    assert control_socket_path(Path("/srv/pg/pulsegate.duckdb")) == Path("/srv/pg/pulsegate.duckdb.sock")


def test_long_paths_use_a_private_folder(tmp_path: Path) -> None:
    database = tmp_path / ("x" * 120) / "pulsegate.duckdb"
    path = control_socket_path(database)
    assert len(os.fsencode(path)) <= 100
    folder = path.parent
    assert folder.name == f"pulsegate-{os.getuid()}"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert control_socket_path(database) == path  # stable, so the CLI finds the server's
    assert control_socket_path(tmp_path / ("y" * 120) / "pulsegate.duckdb") != path
