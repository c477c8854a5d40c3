"""A mistyped --database: commands that read refuse it and create nothing; those that write say so."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import invoke

READING = [
    ["status"], ["keys", "list"], ["keys", "revoke", "k_1"], ["leads", "list"], ["leads", "show", "x"],
    ["leads", "export"], ["leads", "retry"], ["storage", "stats"], ["storage", "compact"],
    ["storage", "prune", "--older-than", "30d"], ["anomalies", "scan"], ["backup", "copy.duckdb"],
]  # fmt: skip


@pytest.mark.parametrize("args", READING, ids=" ".join)
def test_a_command_that_reads_refuses_a_missing_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    database = tmp_path / "nope" / "x.duckdb"
    result = invoke(database, *args)
    assert result.exit_code == 2, result.output
    assert f"No database at {database}" in result.stderr and "Nothing was created" in result.stderr
    assert list(tmp_path.iterdir()) == []  # no folder, no empty database, no backup


@pytest.mark.parametrize(
    "args", [["keys", "create", "first"], ["demo", "seed", "--sessions", "20", "--days", "2"]]
)
def test_a_command_that_writes_says_it_creates_the_database_and_where(
    tmp_path: Path, args: list[str]
) -> None:
    database = tmp_path / "new" / "p.duckdb"
    result = invoke(database, *args)
    assert result.exit_code == 0, result.output
    assert f"Creating a new database at {database}" in result.stderr
    assert database.is_file()
    again = invoke(database, "keys", "create", "second")
    assert again.exit_code == 0 and "Creating a new database" not in again.stderr
