"""What the CLI imports to start (issue 21): only what the command asked for needs.

Not timed (bench/startup.py times it): these check which modules a real `pulsegate` process has
imported when it is done, so a module-level import that makes `--help` or `keys list` load the
server, Pydantic or every command's module fails here.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import coercion
from cli.lazy import summary
from cli.main import COMMANDS, app

runner = CliRunner()
# Never for --help nor an offline `keys list`: the server, other commands' libraries, Typer's Rich
# help (markdown-it, Pygments) and its Pydantic conversion of options (cli/coercion.py).
SERVER_AND_HEAVY = (
    "litestar", "granian", "uvloop", "httpx", "psycopg", "pydantic", "typer.rich_utils", "markdown_it",
    "pygments", "pulsegate.http", "pulsegate.services", "pulsegate.app", "pulsegate.runtime",
    "pulsegate.server", "pulsegate.domain.reports", "asyncio",
)  # fmt: skip


def imported_after(args: list[str], cwd: Path, prelude: str = "") -> set[str]:
    """The modules a `pulsegate ARGS` process has imported when it ends (it must succeed)."""
    probe = (
        f"{prelude}\n"
        "import sys\n"
        f"sys.argv = ['pulsegate', *{args!r}]\n"
        "from cli.main import run\n"
        "try:\n    run()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
        "print('\\nMODULES', ' '.join(sorted(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=cwd, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    return set(result.stdout.rpartition("\nMODULES ")[2].split())


def loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(name for name in names if any(m == name or m.startswith(name + ".") for m in modules))


def test_help_imports_no_command_and_no_library_past_typer(tmp_path: Path) -> None:
    modules = imported_after(["--help"], tmp_path)
    heavy = ("duckdb", "msgspec", "rich.console", "pulsegate.config", "pulsegate.ops", "pulsegate.store")
    assert loaded(modules, SERVER_AND_HEAVY + heavy) == []
    assert sorted(m for m in modules if m.startswith("cli.")) == ["cli.coercion", "cli.lazy", "cli.main"]


def test_a_group_s_help_imports_that_group_alone(tmp_path: Path) -> None:
    modules = imported_after(["keys", "--help"], tmp_path)
    assert loaded(modules, (*SERVER_AND_HEAVY, "duckdb", "pulsegate.store")) == []
    assert "cli.keys" in modules and "cli.leads" not in modules and "cli.storage" not in modules


def test_offline_keys_list_imports_duckdb_and_not_the_server(tmp_path: Path) -> None:
    database = tmp_path / "keys.duckdb"
    created = runner.invoke(app, ["keys", "create", "dashboard", "--quiet", "--database", str(database)])
    assert created.exit_code == 0, created.output
    modules = imported_after(["keys", "list", "--database", str(database)], tmp_path)
    assert "duckdb" in modules and "pulsegate.store.database" in modules  # it did open the file
    # Nor what only the server's reads, its schedules or emoji codes use (each a few ms).
    assert loaded(modules, (*SERVER_AND_HEAVY, "concurrent.futures", "zoneinfo", "rich._emoji_codes")) == []
    assert sorted(m for m in modules if m.startswith("cli.")) == [
        "cli.coercion", "cli.keys", "cli.lazy", "cli.main", "cli.output", "cli.settings"
    ]  # fmt: skip


def test_the_check_sees_an_import_the_command_makes(tmp_path: Path) -> None:
    assert loaded(imported_after(["--version"], tmp_path), SERVER_AND_HEAVY) == []
    modules = imported_after(["--version"], tmp_path, prelude="import asyncio, pulsegate.domain.reports")
    assert loaded(modules, SERVER_AND_HEAVY) == ["asyncio", "pulsegate.domain.reports"]


@pytest.mark.parametrize("entry", COMMANDS, ids=[entry.name for entry in COMMANDS])
def test_each_listed_help_is_the_command_s_own(entry: object) -> None:
    """`pulsegate --help` lists each command from cli/main.py's table without importing it: the
    line there must be the first paragraph of the command's own help."""
    command = entry.load()  # type: ignore[attr-defined]
    assert command.name == entry.name  # type: ignore[attr-defined]
    assert summary(command.help) == entry.help  # type: ignore[attr-defined]


def test_help_lists_every_command_with_its_whole_line() -> None:
    result = runner.invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    for entry in COMMANDS:
        assert f"{entry.name} {entry.help}" in text


def test_examples_keep_their_lines() -> None:
    result = runner.invoke(app, ["serve", "--help"])
    assert result.exit_code == 0, result.output
    lines = [line.strip() for line in result.output.splitlines()]
    assert "pulsegate serve --port 8787 --database /var/lib/pulsegate/pulsegate.duckdb" in lines
    assert "pulsegate serve --demo      then open http://127.0.0.1:8787/demo/" in lines


@pytest.mark.parametrize(
    ("annotation", "value"),
    [(int, "7"), (int, "007"), (int, "-3"), (int, "+3"), (int, " 4"), (int, "1_000"), (int, "x"), (str, "a b"),
     (list[str], ("a", "b")), (Path, "relative/file.toml"), (Path, "/")],
)  # fmt: skip
def test_plain_conversion_agrees_with_typer_s_own(annotation: object, value: object) -> None:
    """A value converted without Pydantic is the value Typer itself gives; the rest is left to Typer."""
    pydantic_typer = pytest.importorskip("typer._coercion")
    from typer.models import OptionInfo

    descriptor = pydantic_typer.resolve_type_descriptor(annotation, OptionInfo())
    plain = coercion.plain_value(descriptor, value)
    if plain is coercion.NOT_PLAIN:
        assert (annotation, value) in [(int, "+3"), (int, " 4"), (int, "1_000"), (int, "x")]
        return
    own = pydantic_typer.build_runtime_param(descriptor).adapter.validate_python(value)
    assert plain == own and type(plain) is type(own)


def test_a_word_for_a_number_gets_typer_s_own_error(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["leads", "list", "--limit", "many", "--database", str(tmp_path / "x.duckdb")]
    )
    assert result.exit_code == 2
    assert "--limit" in result.output and "valid integer" in result.output  # Pydantic's words, through Typer
