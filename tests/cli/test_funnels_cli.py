"""`pulsegate funnels add/list/remove` on the file (no server), as a person and as a script."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import invoke


def test_add_list_replace_remove(tmp_path: Path) -> None:
    database = tmp_path / "p.duckdb"
    assert invoke(database, "goals", "add", "Signup", "--event", "Signup").exit_code == 0
    added = invoke(database, "funnels", "add", "Demo", "--step", "page:/pricing", "--step", "event:Book demo",
                   "--step", "lead")  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "Funnel Demo: page:/pricing → event:Book demo → lead, within a session." in added.output
    trial = invoke(database, "funnels", "add", "Trial", "--step", "page:/blog/*", "--step", "goal:Signup",
                   "--within", "visitor", "--window", "48h", "--project", "acme")  # fmt: skip
    assert trial.exit_code == 0 and "across a visitor's sessions within 2d" in trial.output

    listed = json.loads(invoke(database, "funnels", "list", "--json").output)
    assert [(f["name"], f["steps"], f["within"], f["window"], f["project"]) for f in listed] == [
        ("Demo", ["page:/pricing", "event:Book demo", "lead"], "session", None, None),
        ("Trial", ["page:/blog/*", "goal:Signup"], "visitor", "2d", "acme"),
    ]
    table = invoke(database, "funnels", "list").output
    assert "page:/blog/* → goal:Signup" in table and "visitor, 2d" in table

    assert invoke(database, "funnels", "add", "Demo", "--step", "page:/", "--step", "lead").exit_code == 0
    replaced = json.loads(invoke(database, "funnels", "list", "--json").output)
    assert replaced[0]["steps"] == ["page:/", "lead"]

    removed = invoke(database, "funnels", "remove", "Demo")
    assert removed.exit_code == 0 and "Removed funnel Demo." in removed.output
    assert [f["name"] for f in json.loads(invoke(database, "funnels", "list", "--json").output)] == ["Trial"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["add", "F", "--step", "page:/"], "a funnel has 2 to 8 steps (got 1)"),
        (["add", "F", "--step", "page:/", "--step", "goal:Nobody"], "no goal named 'Nobody'"),
        (["add", "F", "--step", "page:/", "--step", "lead", "--window", "7d"], "only with within=visitor"),
        (
            ["add", "F", "--step", "page:/", "--step", "lead", "--within", "week"],
            "within: session or visitor",
        ),
        (["add", "F", "--step", "clicks", "--step", "lead"], "write page:PATTERN"),
        (["remove", "nope"], "No saved funnel 'nope'"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(tmp_path: Path, args: list[str], message: str) -> None:
    database = tmp_path / "p.duckdb"
    assert invoke(database, "goals", "add", "Keep", "--lead").exit_code == 0
    result = invoke(database, "funnels", *args)
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
