"""The layers of docs/architecture.md, checked against the code: no import runs up the layers.

Every import in `pulsegate/` and `cli/` counts, including those inside functions and under
TYPE_CHECKING. A new module must be placed in a layer here (and in the document) first.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Layer -> the layers it may import (besides itself). Lowest first, as the document lists them.
MAY_IMPORT: dict[str, set[str]] = {
    "errors": set(),
    "version": set(),  # pulsegate/__init__.py: the version, importable from everywhere
    "domain": {"errors"},
    "plumbing": {"errors"},
    "resources": set(),
    "config": {"errors", "domain"},
    "store": {"errors", "domain"},
    "services": {"errors", "domain", "config", "store"},
    "control": {"errors"},
    "ops": {"errors", "version", "domain", "config", "resources", "store", "services", "control"},
    "web": {"errors", "resources"},
    "runtime": {"errors", "domain", "plumbing", "config", "store", "services", "control", "ops"},
    "http": {"errors", "version", "domain", "plumbing", "config", "resources", "services", "web", "runtime"},
    "app": {"errors", "version", "domain", "plumbing", "config", "runtime", "http"},
    "server": {"errors", "config", "store"},
    "cli": {"errors", "version", "domain", "plumbing", "config", "ops", "server"},
}
# Where each module of the package belongs: the first part of its name under pulsegate.
PLACES = {
    "errors": "errors",
    "domain": "domain",
    "background": "plumbing",
    "process": "plumbing",
    "deadlines": "plumbing",
    "resources": "resources",
    "config": "config",
    "store": "store",
    "services": "services",
    "control": "control",
    "ops": "ops",
    "web": "web",
    "runtime": "runtime",
    "http": "http",
    "app": "app",
    "server": "server",
}
# Libraries a layer must not touch: pure logic does no I/O, and only http and cli speak to people.
IO_MODULES = (
    "asyncio", "ctypes", "duckdb", "gc", "geoip2fast", "glob", "granian", "gzip", "http", "httpx", "importlib",
    "io", "logging", "maxminddb", "mmap", "multiprocessing", "os", "pathlib", "pickle", "select", "shutil",
    "signal", "socket", "sqlite3", "ssl", "subprocess", "sys", "tarfile", "tempfile", "threading",
    "urllib.request", "zipfile", "litestar", "typer", "rich",
)  # fmt: skip
NOT_FOR: dict[str, tuple[str, ...]] = {
    "domain": IO_MODULES,
    "store": ("litestar", "granian", "typer", "rich", "httpx"),
    "services": ("litestar", "granian", "typer", "rich"),
    "ops": ("litestar", "granian", "typer", "rich"),
    "control": ("litestar", "granian", "typer", "rich", "duckdb"),
}


def layer_of(module: str) -> str | None:
    """The layer of a module name of ours, or None for the standard library and third parties."""
    parts = module.split(".")
    if parts[0] == "cli":
        return "cli"
    if parts[0] != "pulsegate":
        return None
    if len(parts) == 1:
        return "version"
    return PLACES.get(parts[1], f"unplaced module pulsegate.{parts[1]}")


def module_name(path: Path) -> str:
    relative = path.relative_to(ROOT).with_suffix("")
    parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
    return ".".join(parts)


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import in the file, wherever it stands."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}:{node.lineno}: relative import"
            if node.module == "pulsegate":  # `from pulsegate import __version__` or a subpackage
                found += [(node.lineno, f"pulsegate.{alias.name}" if alias.name != "__version__" else "pulsegate")
                          for alias in node.names]  # fmt: skip
            elif node.module is not None:
                found.append((node.lineno, node.module))
    return found


SOURCES = sorted([*ROOT.joinpath("pulsegate").rglob("*.py"), *ROOT.joinpath("cli").rglob("*.py")])


def layering_violations(sources: list[tuple[Path, str]]) -> list[str]:
    """Every import of these (file, module name) that runs against MAY_IMPORT or NOT_FOR, as `module:line: why`."""
    problems = []
    for path, name in sources:
        source_layer = layer_of(name)
        assert source_layer in MAY_IMPORT, f"{path}: {source_layer}"
        for line, module in imports_of(path):
            where = f"{name}:{line}"
            target_layer = layer_of(module)
            if target_layer is None:
                banned = NOT_FOR.get(source_layer, ())
                if any(module == name or module.startswith(name + ".") for name in banned):
                    problems.append(f"{where}: the {source_layer} layer imports {module}")
            elif target_layer != source_layer and target_layer not in MAY_IMPORT[source_layer]:
                problems.append(f"{where}: {source_layer} imports {module} ({target_layer})")
    return problems


def test_every_module_has_a_layer() -> None:
    assert SOURCES
    unplaced = {
        str(path.relative_to(ROOT)) for path in SOURCES if layer_of(module_name(path)) not in MAY_IMPORT
    }
    assert not unplaced, f"place these in PLACES and docs/architecture.md: {sorted(unplaced)}"


def test_no_import_runs_up_the_layers() -> None:
    assert layering_violations([(path, module_name(path)) for path in SOURCES]) == []


@pytest.mark.parametrize(
    ("module", "text", "expected"),
    [
        ("pulsegate.domain.bad", "import duckdb\n", "the domain layer imports duckdb"),
        ("pulsegate.domain.bad", "def f():\n    from pulsegate.store import queries\n", "domain imports"),
        ("pulsegate.store.bad", "from pulsegate.services.leads import LeadService\n", "store imports"),
        ("pulsegate.services.bad", "from pulsegate.http.auth import CHALLENGE\n", "services imports"),
        ("pulsegate.services.bad", "from pulsegate.ops.registry import OPERATIONS\n", "services imports"),
        ("pulsegate.http.bad", "from pulsegate.store.database import Database\n", "http imports"),
        ("pulsegate.domain.bad", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pulsegate.http\n",
         "domain imports"),
        ("cli.bad", "from pulsegate.store.lead_queries import EXPORT_COLUMNS\n", "cli imports"),
    ],
)  # fmt: skip
def test_the_check_catches_an_import_up_the_layers(
    tmp_path: Path, module: str, text: str, expected: str
) -> None:
    """The checker itself can fail: each of these modules, placed at `module`, is reported once."""
    path = tmp_path / "bad.py"
    path.write_text(text, encoding="utf-8")
    problems = layering_violations([(path, module)])
    assert len(problems) == 1 and expected in problems[0], problems
