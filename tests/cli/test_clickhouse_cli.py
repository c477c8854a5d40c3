"""The CLI on storage.engine = "clickhouse" (chDB here): goals, funnels, report and the leads
commands answer on a copy of a file as they answer on the file itself, and the config file's goals
are the store's."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.helpers import chdb_url, clickhouse_environ, invoke, invoke_with

READS = [
    ["report", "source", "-m", "visitors", "-m", "sessions", "-m", "leads", "-n", "50"],
    ["report", "page", "-m", "pageviews", "-m", "visitors", "-n", "50"],
    ["leads", "list", "--limit", "100"],
    ["goals", "list"],
    ["funnels", "list"],
]


@pytest.fixture(scope="module")
def copied(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A seeded file and the environment of a chDB copy of it."""
    folder = tmp_path_factory.mktemp("clickhouse-cli")
    database = folder / "p.duckdb"
    assert invoke(database, "demo", "seed", "--days", "5", "--sessions", "300").exit_code == 0
    url = chdb_url("t_cli_" + folder.name.replace("-", "_"))
    assert invoke(database, "storage", "copy", "--to", url).exit_code == 0
    return database, clickhouse_environ(url)


def window() -> list[str]:
    today = datetime.now(UTC).date()
    return ["--from", (today - timedelta(days=7)).isoformat(), "--to", today.isoformat()]


@pytest.mark.parametrize("args", READS, ids=[" ".join(args[:2]) for args in READS])
def test_reads_answer_as_on_the_file(copied: tuple[Path, dict[str, str]], args: list[str]) -> None:
    database, on_clickhouse = copied
    extra = window() if args[0] == "report" else []
    on_file = invoke(database, *args, *extra, "--json")
    on_store = invoke_with(on_clickhouse, database, *args, *extra, "--json")
    assert on_file.exit_code == 0 and on_store.exit_code == 0, on_store.output
    assert json.loads(on_store.stdout) == json.loads(on_file.stdout)
    assert on_file.stdout.strip() not in ("[]", "{}")


def test_a_lead_shows_and_exports_as_on_the_file(copied: tuple[Path, dict[str, str]]) -> None:
    database, on_clickhouse = copied
    lead_id = json.loads(invoke(database, "leads", "list", "--json").stdout)["leads"][0]["lead_id"]
    shown = invoke_with(on_clickhouse, database, "leads", "show", lead_id)
    assert shown.exit_code == 0, shown.output
    assert lead_id in shown.stdout and shown.stdout == invoke(database, "leads", "show", lead_id).stdout
    exported = invoke_with(on_clickhouse, database, "leads", "export", "--csv")
    assert exported.exit_code == 0 and exported.stdout == invoke(database, "leads", "export", "--csv").stdout
    on_store, on_file = database.parent / "store.parquet", database.parent / "file.parquet"
    parquet = invoke_with(on_clickhouse, database, "leads", "export", "--parquet", "-o", str(on_store))
    assert parquet.exit_code == 0, parquet.output
    assert invoke(database, "leads", "export", "--parquet", "-o", str(on_file)).exit_code == 0
    read = duckdb.connect()
    try:
        both = [read.execute(f"SELECT * FROM read_parquet('{path}') ORDER BY lead_id").fetchall()
                for path in (on_store, on_file)]  # fmt: skip
    finally:
        read.close()

    # ClickHouse's Parquet times carry their zone (UTC), DuckDB's do not: the same moments.
    def naive(value: Any) -> Any:
        if isinstance(value, datetime) and value.tzinfo is not None:
            return value.astimezone(UTC).replace(tzinfo=None)
        return value

    from_store, from_file = ([tuple(naive(value) for value in row) for row in rows] for rows in both)
    assert from_store == from_file and len(from_file) > 0


def test_goals_and_funnels_change_on_the_store(copied: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    database, on_clickhouse = copied
    added = invoke_with(
        on_clickhouse, database, "goals", "add", "Pro plan", "--event", "Signup", "--prop", "plan=pro"
    )
    assert added.exit_code == 0, added.output
    names = [
        item["goal"]["name"]
        for item in json.loads(invoke_with(on_clickhouse, database, "goals", "list", "--json").stdout)
    ]
    assert "Pro plan" in names
    assert "Pro plan" not in invoke(database, "goals", "list").stdout  # the file is not the store
    removed = invoke_with(on_clickhouse, database, "goals", "remove", "Pro plan")
    assert (
        removed.exit_code == 0
        and "Pro plan" not in invoke_with(on_clickhouse, database, "goals", "list").stdout
    )

    config = tmp_path / "pulsegate.toml"
    config.write_text('[[goals]]\nname = "Docs page"\npage = "/docs*"\n')
    listed = invoke_with(on_clickhouse, database, "goals", "list", "--json", "--config", str(config))
    declared = {item["goal"]["name"]: item["declared_in"] for item in json.loads(listed.stdout)}
    assert declared["Docs page"] == "config"


def test_email_report_schedules_and_a_dry_run_as_on_the_file(copied: tuple[Path, dict[str, str]]) -> None:
    database, on_clickhouse = copied
    email = {"PULSEGATE_EMAIL__FROM": "PulseGate <reports@example.com>"}
    project = json.loads(invoke(database, "projects", "list", "--json").stdout)
    names = [entry["name"] for entry in project] if isinstance(project, list) else []
    dry_run = ["reports", "send", "--dry-run", *(["--project", names[0]] if names else [])]
    on_file = invoke_with(email, database, *dry_run)
    on_store = invoke_with({**on_clickhouse, **email}, database, *dry_run)
    assert on_store.exit_code == 0, on_store.output

    # The same message, but for its Date, Message-ID and MIME boundaries (made when it is composed).
    def body(output: str) -> list[str]:
        kept = [line for line in output.splitlines() if not line.startswith(("Date:", "Message-ID:"))]
        return [re.sub(r"=+\d+==", "=BOUNDARY=", line) for line in kept]

    assert body(on_store.stdout) == body(on_file.stdout)
    added = invoke_with(on_clickhouse, database, "reports", "add", "weekly", "--to", "team@example.com")
    assert added.exit_code == 0, added.output
    listed = json.loads(invoke_with(on_clickhouse, database, "reports", "list", "--json").stdout)
    assert [entry["name"] for entry in listed] == ["weekly"]
    assert "weekly" not in invoke(database, "reports", "list").stdout  # the file is not the store
    assert invoke_with(on_clickhouse, database, "reports", "remove", "weekly").exit_code == 0
    assert json.loads(invoke_with(on_clickhouse, database, "reports", "list", "--json").stdout) == []


def test_status_counts_the_store_as_the_file(copied: tuple[Path, dict[str, str]]) -> None:
    database, on_clickhouse = copied
    on_file = json.loads(invoke(database, "status", "--json").stdout)
    done = invoke_with(on_clickhouse, database, "status", "--json")
    assert done.exit_code == 0, done.output
    on_store = json.loads(done.stdout)
    assert on_store["counts"] == on_file["counts"] and on_file["counts"]["events"] > 0
    assert (on_store["projects"], on_store["email_reports"]) == (
        on_file["projects"],
        on_file["email_reports"],
    )
    assert on_store["server"] is None and on_store["duckdb_memory"] is None
    shown = invoke_with(on_clickhouse, database, "status")
    assert shown.exit_code == 0 and "On ClickHouse (chdb://" in shown.stdout, shown.output
    assert f"{on_file['counts']['events']:,} events" in shown.stdout
