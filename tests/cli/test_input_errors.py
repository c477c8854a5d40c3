"""Bad input on the command line: one line naming the option and what it takes, exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from pulsegate.ops.runner import option_error
from tests.helpers import invoke

CASES = [
    (["keys", "create", "x", "--project", "not a project"], "--project: 1 to 64 letters"),
    (["keys", "create", " "], "NAME: a key needs a name"),
    (["leads", "list", "--limit", "0"], "--limit: from 1 to 1000"),
    (["leads", "list", "--status", "won"], "--status: one of new, forwarded, synced, failed, spam"),
    (["leads", "list", "--since", "2026-02-01", "--until", "2026-01-01"], "--since: must be before --until"),
    (["anomalies", "scan", "--window", "100h"], "--window: whole hours from 1h to 72h"),
    (["anomalies", "scan", "--sensitivity", "wild"], "--sensitivity: one of low, normal, high"),
    (["demo", "seed", "--days", "0"], "--days: between 1 and 3650"),
    (["storage", "prune", "--older-than", "0d"], "--older-than: a number of days"),
    (["snippet", "--project", "a b"], "--project: 1 to 64 letters"),
    (["storage", "copy", "--to", "ftp://ch:8123/x"], "--to: 'ftp://ch:8123/x' is not one of"),
    (["storage", "copy"], "--to: the ClickHouse store's URL"),
    (["storage", "copy", "--to", "chdb:///tmp/x", "--batch-rows", "0"], "--batch-rows"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "message"), CASES, ids=[" ".join(args) for args, _ in CASES])
def test_the_error_names_the_option(tmp_path: Path, args: list[str], message: str) -> None:
    database = tmp_path / "p.duckdb"
    assert invoke(database, "keys", "create", "existing").exit_code == 0
    result = invoke(database, *args)
    assert result.exit_code == 2, result.output
    assert result.stderr.strip() == f"Error: {result.stderr.strip().removeprefix('Error: ')}"
    assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr, result.stderr
    assert (
        "$." not in result.stderr
        and "Invalid arguments" not in result.stderr
        and "Traceback" not in result.output
    )


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("Expected `int` >= 1 - at `$.selection.limit`", "--limit: expected `int` >= 1"),
        ("Expected `str` of length <= 64 - at `$.projects[0]`", "--projects: expected `str` of length <= 64"),
        ("Expected `int`, got `str` - at `$.window_hours`", "--window-hours: expected `int`, got `str`"),
        ("Object contains unknown field `x`", "Invalid input: Object contains unknown field `x`"),
    ],
)
def test_a_validation_message_names_an_option_not_a_json_path(message: str, expected: str) -> None:
    assert option_error(message) == expected
