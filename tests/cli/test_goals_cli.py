"""`pulsegate goals add/list/remove` on the file (no server), as a person and as a script."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import invoke


def test_add_list_replace_remove(tmp_path: Path) -> None:
    database = tmp_path / "p.duckdb"
    added = invoke(database, "goals", "add", "Signup", "--event", "Signup", "--prop", "plan=pro")
    assert added.exit_code == 0, added.output
    assert "Goal Signup: event Signup (plan=pro)." in added.output
    assert (
        invoke(database, "goals", "add", "Thanks", "--page", "/thank-you*", "--project", "acme").exit_code
        == 0
    )
    assert invoke(database, "goals", "add", "Demo", "--lead", "--form", "demo").exit_code == 0

    listed = json.loads(invoke(database, "goals", "list", "--json").output)
    assert [info["goal"] for info in listed] == [
        {"name": "Demo", "kind": "lead", "form": "demo"},
        {"name": "Signup", "kind": "event", "event": "Signup", "prop_key": "plan", "prop_value": "pro"},
        {"name": "Thanks", "kind": "page", "project": "acme", "page": "/thank-you*"},
    ]
    table = invoke(database, "goals", "list").output
    assert "page /thank-you*" in table and "acme" in table and "every project" in table

    # The same name again replaces the goal.
    assert invoke(database, "goals", "add", "Signup", "--event", "Signup").exit_code == 0
    replaced = json.loads(invoke(database, "goals", "list", "--json").output)
    assert [info["description"] for info in replaced if info["goal"]["name"] == "Signup"] == ["event Signup"]

    removed = invoke(database, "goals", "remove", "Demo")
    assert removed.exit_code == 0 and "Removed goal Demo." in removed.output
    assert [info["goal"]["name"] for info in json.loads(invoke(database, "goals", "list", "--json").output)] == [
        "Signup", "Thanks",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["add", "G"], "give exactly one of --event NAME, --page PATTERN or --lead"),
        (["add", "G", "--event", "a", "--lead"], "got --event and --lead"),
        (["add", "G", "--page", "pricing"], "--page: a path pattern starting with /"),
        (["add", "G", "--lead", "--project", "bad name!"], "--project:"),
        (["remove", "nope"], "No goal 'nope'"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(tmp_path: Path, args: list[str], message: str) -> None:
    database = tmp_path / "p.duckdb"
    assert invoke(database, "goals", "add", "Keep", "--lead").exit_code == 0
    result = invoke(database, "goals", *args)
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    kept = json.loads(invoke(database, "goals", "list", "--json").output)
    assert [info["goal"]["name"] for info in kept] == ["Keep"]  # nothing changed


def test_an_empty_list_says_how_to_add_one(tmp_path: Path) -> None:
    database = tmp_path / "p.duckdb"
    assert invoke(database, "goals", "add", "G", "--lead").exit_code == 0
    assert invoke(database, "goals", "remove", "G").exit_code == 0
    assert "pulsegate goals add NAME" in invoke(database, "goals", "list").output


def test_goals_declared_in_the_config_file_are_kept_by_the_file(tmp_path: Path) -> None:
    database = tmp_path / "p.duckdb"
    config = tmp_path / "pulsegate.toml"
    config.write_text(
        '[[goals]]\nname = "Signup"\nevent = "Signup"\nprop = "plan=pro"\n\n'
        '[[goals]]\nname = "Thanks"\npage = "/thank-you*"\nproject = "acme"\n'
    )
    assert invoke(database, "goals", "add", "Demo", "--lead", "--config", str(config)).exit_code == 0
    listed = json.loads(invoke(database, "goals", "list", "--json", "--config", str(config)).output)
    assert {info["goal"]["name"]: info["declared_in"] for info in listed} == {
        "Demo": "cli", "Signup": "config", "Thanks": "config",
    }  # fmt: skip
    # Changed in the file only: the CLI refuses, and says where.
    refused = invoke(database, "goals", "remove", "Thanks", "--config", str(config))
    assert refused.exit_code == 2 and "declared in the config file" in refused.output
    # A goal removed from the file is gone at the next start; the CLI's goal stays.
    config.write_text('[[goals]]\nname = "Signup"\nevent = "Signup"\n')
    listed = json.loads(invoke(database, "goals", "list", "--json", "--config", str(config)).output)
    assert [(info["goal"]["name"], info["description"]) for info in listed] == [
        ("Demo", "lead"), ("Signup", "event Signup"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[[goals]]\nname = "G"\n', "goals[0] ('G'): give exactly one of --event"),
        ('[[goals]]\nname = "G"\nlead = true\n\n[[goals]]\nname = "G"\nlead = true\n', "declared twice"),
        ('[[goals]]\nname = "G"\npage = "/x"\ncolour = "red"\n', "colour"),
    ],
)
def test_a_bad_goal_in_the_config_file_is_named(tmp_path: Path, toml: str, message: str) -> None:
    config = tmp_path / "pulsegate.toml"
    config.write_text(toml)
    result = invoke(tmp_path / "p.duckdb", "goals", "list", "--config", str(config))
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
