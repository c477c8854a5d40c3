"""`pulsegate keys` and `status` with no server: the same operations on the file directly."""

from __future__ import annotations

import json
from pathlib import Path

from pulsegate.domain.api_keys import hash_secret
from pulsegate.store.database import Database
from tests.helpers import invoke


def test_create_list_revoke(tmp_path: Path) -> None:
    database = tmp_path / "p.duckdb"
    created = invoke(database, "keys", "create", "reports", "--project", "acme", "--project", "globex")
    assert created.exit_code == 0, created.output
    secret = next(word for word in created.output.split() if word.startswith("pgk_"))
    assert "shown only this once" in created.output
    quiet = invoke(database, "keys", "create", "script", "-q")
    assert quiet.exit_code == 0 and quiet.output.strip().startswith("pgk_") and len(quiet.output.split()) == 1

    listed = invoke(database, "keys", "list")
    assert "reports" in listed.output and "acme, globex" in listed.output and "script" in listed.output
    assert secret not in listed.output and secret[:12] in listed.output  # the prefix only

    db = Database.open(database)
    try:
        stored = db.connection.execute(
            "SELECT secret_hash, projects FROM api_keys WHERE name = 'reports'"
        ).fetchall()
    finally:
        db.close()
    assert stored == [(hash_secret(secret), ["acme", "globex"])]  # the secret itself is nowhere on disk
    assert secret.encode() not in database.read_bytes()

    key_id = next(line.split()[1] for line in listed.output.splitlines() if "reports" in line)
    assert invoke(database, "keys", "revoke", key_id).exit_code == 0
    again = invoke(database, "keys", "list")
    reports_row = next(line for line in again.output.splitlines() if "reports" in line)
    assert reports_row.rstrip(" │").split("│")[-1].strip() != "-"


def test_errors_are_one_line_with_exit_codes(tmp_path: Path) -> None:
    database = tmp_path / "p.duckdb"
    assert invoke(database, "keys", "create", "first").exit_code == 0
    unknown = invoke(database, "keys", "revoke", "key_nope")
    assert unknown.exit_code == 2 and "No API key with id key_nope" in unknown.output  # bad input
    bad_project = invoke(database, "keys", "create", "x", "--project", "not a project")
    assert bad_project.exit_code == 2 and "Error:" in bad_project.output
    assert "Traceback" not in unknown.output + bad_project.output


def test_status_without_a_server(tmp_path: Path) -> None:
    assert invoke(tmp_path / "p.duckdb", "keys", "create", "first").exit_code == 0
    result = invoke(tmp_path / "p.duckdb", "status")
    assert result.exit_code == 0
    assert "No server is running" in result.output and "0 sessions" in result.output


def test_names_with_markup_are_printed_as_text(tmp_path: Path) -> None:
    database = tmp_path / "p.duckdb"
    created = invoke(database, "keys", "create", "ci[/][bold]x")
    assert created.exit_code == 0, created.output
    assert "ci[/][bold]x" in created.output and "pgk_" in created.output
    listed = invoke(database, "keys", "list")
    assert listed.exit_code == 0 and "ci[/][bold]x" in listed.output


def test_revoking_a_revoked_key_says_so_and_keeps_the_first_time(tmp_path: Path) -> None:
    database = tmp_path / "p.duckdb"
    created = invoke(database, "keys", "create", "once", "--quiet")
    listed = json.loads(invoke(database, "keys", "list", "--json").stdout)
    key_id = listed[0]["key_id"]
    assert created.exit_code == 0 and listed[0]["revoked_ms"] is None
    first = invoke(database, "keys", "revoke", key_id)
    assert first.exit_code == 0 and first.stdout.startswith(f"Revoked {key_id}")
    revoked_ms = json.loads(invoke(database, "keys", "list", "--json").stdout)[0]["revoked_ms"]
    again = invoke(database, "keys", "revoke", key_id)
    assert (
        again.exit_code == 0 and "was already revoked" in again.stdout and "nothing changed" in again.stdout
    )
    assert json.loads(invoke(database, "keys", "list", "--json").stdout)[0]["revoked_ms"] == revoked_ms


def test_a_name_with_colons_is_printed_as_typed(tmp_path: Path) -> None:
    """No :emoji: codes in what the CLI prints: a key named ':fire:' is listed as ':fire:'."""
    database = tmp_path / "p.duckdb"
    assert invoke(database, "keys", "create", ":fire:", "-q").exit_code == 0
    listed = invoke(database, "keys", "list")
    assert ":fire:" in listed.output and "\N{FIRE}" not in listed.output
