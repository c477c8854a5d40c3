"""The code stays ruff-clean and ruff-formatted (configured in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("command", [["check", "."], ["format", "--check", "."]])
def test_ruff(command: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ruff", *command], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _mypy(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--no-error-summary", *args], cwd=ROOT, capture_output=True, text=True
    )


def test_the_cli_and_its_operations_type_check() -> None:
    result = _mypy()  # the files named in pyproject.toml's [tool.mypy]
    assert result.returncode == 0, result.stdout + result.stderr


def test_an_operation_s_result_is_typed_at_the_call_site(tmp_path: Path) -> None:
    """run_operation's result has its operation's type: a wrong attribute is a type error."""
    misuse = tmp_path / "misuse.py"
    misuse.write_text(
        "from pulsegate.config import load_settings\n"
        "from pulsegate.ops import keys\n"
        "from pulsegate.ops.runner import run_operation\n"
        "created = run_operation(load_settings(None), keys.CREATE, keys.CreateKey(name='x'))\n"
        "print(created.secret, created.no_such_field)\n"
        "run_operation(load_settings(None), keys.REVOKE, keys.CreateKey(name='x'))\n"
    )
    result = _mypy(str(misuse))
    errors = {int(line.split(":")[1]): line for line in result.stdout.splitlines() if ": error:" in line}
    assert sorted(errors) == [5, 6], result.stdout  # the right call and `.secret` are fine
    assert '"CreatedKey" has no attribute "no_such_field"' in errors[5]
    assert "run_operation" in errors[6]  # REVOKE does not take CreateKey
