"""`pulsegate init` as root: a config the service's user can read (--owner), or a warning."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app

runner = CliRunner()
NOBODY = "nobody"


@pytest.mark.skipif(os.geteuid() != 0, reason="only root writes files for another user")
def test_owner_gives_the_config_to_the_service_user(tmp_path: Path) -> None:
    config = tmp_path / "pulsegate.toml"
    result = runner.invoke(app, ["init", "--config", str(config), "--owner", NOBODY])
    assert result.exit_code == 0, result.output
    details = config.stat()
    assert details.st_uid == 65534 and stat.S_IMODE(details.st_mode) == 0o600
    assert "Warning" not in result.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="the warning is about files root keeps to itself")
def test_without_owner_root_is_warned(tmp_path: Path) -> None:
    result = runner.invoke(app, ["init", "--config", str(tmp_path / "pulsegate.toml")])
    assert result.exit_code == 0 and "a service running as another user cannot read it" in result.stderr


def test_an_unknown_owner_is_refused_and_writes_nothing(tmp_path: Path) -> None:
    config = tmp_path / "pulsegate.toml"
    result = runner.invoke(app, ["init", "--config", str(config), "--owner", "no-such-user-here"])
    assert result.exit_code == 2 and "--owner: there is no user named 'no-such-user-here'" in result.stderr
    assert not config.exists()
