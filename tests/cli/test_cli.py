"""The command line: help without heavy imports, version, init, and errors without tracebacks."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest
from typer.testing import CliRunner

from cli.main import app
from pulsegate import __version__
from pulsegate.config import load_settings

runner = CliRunner()
HEAVY_MODULES = ("litestar", "granian", "duckdb")


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["serve", "--help"], ["init", "--help"], ["--version"], ["keys", "create", "--help"],
     ["leads", "export", "--help"], ["leads", "--help"], ["status", "--help"], ["snippet", "--help"],
     ["snippet", "--project", "acme"], ["demo", "seed", "--help"]],
)  # fmt: skip
def test_help_does_not_import_the_server_stack(argv: list[str]) -> None:
    probe = (
        "import sys\n"
        f"sys.argv = ['pulsegate', *{argv!r}]\n"
        "from cli.main import run\n"
        "try:\n    run()\nexcept SystemExit:\n    pass\n"
        f"print('LOADED', sorted(m for m in {HEAVY_MODULES!r} if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert "LOADED []" in result.stdout, result.stdout


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"pulsegate {__version__}"


def test_help_lists_the_commands_and_their_options() -> None:
    result = runner.invoke(app, ["serve", "--help"])
    assert result.exit_code == 0
    for option in ("--host", "--port", "--config", "--database"):
        assert option in result.stdout


def test_init_writes_a_private_config_with_a_fresh_salt(tmp_path: Path) -> None:
    target = tmp_path / "pulsegate.toml"
    result = runner.invoke(app, ["init", "--config", str(target), "--database", "/srv/pg/pg.duckdb"])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    text = target.read_text()
    assert text.lstrip().startswith("#")  # commented, like config.example.toml
    settings = load_settings(target, environ={})
    assert len(settings.privacy.visitor_salt) == 64
    assert settings.storage.database == "/srv/pg/pg.duckdb"
    again = runner.invoke(app, ["init", "--config", str(target)])
    assert again.exit_code == 2
    assert "already exists" in again.output
    forced = runner.invoke(app, ["init", "--config", str(target), "--force"])
    assert forced.exit_code == 0
    new_salt = msgspec.toml.decode(target.read_bytes())["privacy"]["visitor_salt"]
    assert new_salt != settings.privacy.visitor_salt


def test_bad_config_stops_serve_with_a_named_error(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[server]\nprot = 1\n")
    result = runner.invoke(app, ["serve", "--config", str(config)])
    assert result.exit_code == 2
    assert "Error:" in result.output and "prot" in result.output and "server" in result.output
    assert "Traceback" not in result.output


def test_bad_port_flag_is_refused_before_anything_starts(tmp_path: Path) -> None:
    result = runner.invoke(app, ["serve", "--port", "0", "--database", str(tmp_path / "x.duckdb")])
    assert result.exit_code == 2
    assert "server.port" in result.output
    assert not (tmp_path / "x.duckdb").exists()
